//! What SQLite's single writer guaranteed, held on PostgreSQL by concurrent writers:
//! the storage quota, an upload's declared size, one end per upload, re-attachments that
//! replace each other, an ingestion that records nothing once its file is detached, and
//! statistics equal to a recount after concurrent ingestions.

use futures::future::join_all;

use super::stats::{recounted, stats_rows};
use super::{in_progress, ingest_with, vector_store};
use crate::models::file::FileObject;
use crate::models::upload::{Upload, UploadPart};
use crate::models::{FileStatus, UploadStatus};
use crate::store::postgres::{test_store, PgStore};
use crate::store::vector_stores::VectorStoreStore;
use crate::store::{FileStore, StoreError, Tenant, UploadRecord, UploadStore};

/// How many writers race in each test.
const RACERS: usize = 8;

fn file(id: &str, bytes: u64) -> FileObject {
    FileObject {
        object: "file".to_owned(),
        id: id.to_owned(),
        purpose: "assistants".to_owned(),
        filename: format!("{id}.txt"),
        bytes,
        created_at: 1,
        expires_at: None,
        status: FileStatus::Processed,
        status_details: None,
    }
}

fn upload(id: &str, bytes: u64) -> Upload {
    Upload {
        id: id.to_owned(),
        object: "upload".to_owned(),
        bytes,
        created_at: 1,
        filename: "u.txt".to_owned(),
        purpose: "assistants".to_owned(),
        status: UploadStatus::Pending,
        expires_at: 3_600,
        file: None,
    }
}

fn part(id: &str, upload_id: &str) -> UploadPart {
    UploadPart {
        id: id.to_owned(),
        object: "upload.part".to_owned(),
        created_at: 1,
        upload_id: upload_id.to_owned(),
    }
}

/// Runs `racer(n)` for every n at once on clones of the store.
async fn race<T, F, Fut>(store: &PgStore, racer: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(PgStore, usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let tasks = (0..RACERS).map(|n| tokio::spawn(racer(store.clone(), n)));
    join_all(tasks)
        .await
        .into_iter()
        .map(|joined| joined.unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_files_and_parts_never_pass_the_quota_or_the_declared_size() {
    let Some(pg) = test_store().await else {
        return;
    };
    let tenant = Tenant::from_api_key("k");
    // Files of 100 bytes under a quota of 350: exactly three fit.
    let outcomes = race(&pg, |store, n| {
        let tenant = tenant.clone();
        async move {
            store
                .insert_file_within(&tenant, &file(&format!("file-{n}"), 100), Some(350))
                .await
        }
    })
    .await;
    let stored = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(stored, 3, "{outcomes:?}");
    assert!(outcomes
        .iter()
        .all(|o| matches!(o, Ok(()) | Err(StoreError::OverQuota { .. }))));
    assert_eq!(pg.storage_used(&tenant).await.unwrap(), 300);

    // Parts of 100 bytes for an upload declared at 250: exactly two fit.
    let record = UploadRecord {
        upload: upload("upload_1", 250),
        file_expires_after: None,
    };
    pg.insert_upload(&tenant, &record).await.unwrap();
    let outcomes = race(&pg, |store, n| {
        let tenant = tenant.clone();
        async move {
            store
                .insert_part(&tenant, &part(&format!("part_{n}"), "upload_1"), 100, None)
                .await
        }
    })
    .await;
    assert_eq!(
        outcomes.iter().filter(|o| o.is_ok()).count(),
        2,
        "{outcomes:?}"
    );
    assert_eq!(
        pg.upload_parts_bytes(&tenant, "upload_1").await.unwrap(),
        200
    );

    // Completing and cancelling at once: one wins, the other is told it lost.
    let outcomes = race(&pg, |store, n| {
        let tenant = tenant.clone();
        async move {
            let mut ended = upload("upload_1", 250);
            if n % 2 == 0 {
                ended.status = UploadStatus::Completed;
                let made = file(&format!("file-from-upload-{n}"), 200);
                store.complete_upload(&tenant, &ended, &made).await
            } else {
                ended.status = UploadStatus::Cancelled;
                store.end_pending_upload(&tenant, &ended).await
            }
        }
    })
    .await;
    assert_eq!(
        outcomes.iter().filter(|o| o.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
    assert!(outcomes
        .iter()
        .all(|o| matches!(o, Ok(()) | Err(StoreError::Conflict(_)))));
    assert!(pg
        .parts_of_upload(&tenant, "upload_1")
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_attachments_replace_each_other_and_detached_files_stay_empty() {
    let Some(pg) = test_store().await else {
        return;
    };
    let tenant = Tenant::from_api_key("k");
    pg.insert_vector_store(&tenant, &vector_store("vs_1"), &[])
        .await
        .unwrap();
    // The same file re-attached by every racer at once: all succeed, one attachment left.
    let outcomes = race(&pg, |store, _| {
        let tenant = tenant.clone();
        async move {
            store
                .attach_files(&tenant, &[in_progress("vs_1", "file-a")], None)
                .await
        }
    })
    .await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM vector_store_files")
        .fetch_one(pg.pool())
        .await
        .unwrap();
    assert_eq!(rows, 1);

    // Ingestions racing their file's detachment: whichever commits first, no chunk of
    // a detached file is left, and the statistics are a recount.
    for round in 0..5 {
        let id = format!("file-{round}");
        pg.attach_files(&tenant, &[in_progress("vs_1", &id)], None)
            .await
            .unwrap();
        let outcomes = race(&pg, |store, n| {
            let (tenant, id) = (tenant.clone(), id.clone());
            async move {
                if n == RACERS / 2 {
                    store
                        .delete_vector_store_file(&tenant, "vs_1", &id)
                        .await
                        .map(|()| true)
                } else {
                    let chunks = vec![format!("apple {n}"), format!("pear {round}")];
                    Ok(
                        ingest_with(&store, &tenant, &in_progress("vs_1", &id), &chunks, |_| {
                            vec![1.0]
                        })
                        .await,
                    )
                }
            }
        })
        .await;
        assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
        // At most one ingestion recorded its chunks, and the detachment removed them.
        let taken = outcomes.iter().filter(|o| matches!(o, Ok(true))).count();
        assert!(taken <= 2, "{outcomes:?}");
        let left: i64 =
            sqlx::query_scalar("SELECT count(*) FROM vector_store_chunks WHERE file_id = $1")
                .bind(&id)
                .fetch_one(pg.pool())
                .await
                .unwrap();
        assert_eq!(left, 0, "round {round}");
    }
    assert_eq!(stats_rows(&pg).await, recounted(&pg).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_ingestions_keep_the_statistics_a_recount() {
    let Some(pg) = test_store().await else {
        return;
    };
    let tenant = Tenant::from_api_key("k");
    let files: Vec<_> = (0..RACERS)
        .map(|n| in_progress("vs_1", &format!("file-{n}")))
        .collect();
    pg.insert_vector_store(&tenant, &vector_store("vs_1"), &files)
        .await
        .unwrap();
    let outcomes = race(&pg, |store, n| {
        let tenant = tenant.clone();
        async move {
            let chunks: Vec<String> = (0..=n).map(|k| "word ".repeat(k + n + 1)).collect();
            let file = in_progress("vs_1", &format!("file-{n}"));
            ingest_with(&store, &tenant, &file, &chunks, |_| vec![1.0]).await
        }
    })
    .await;
    assert!(outcomes.iter().all(|taken| *taken));
    let stats = pg
        .keyword_stats(&tenant, &["vs_1".to_owned()])
        .await
        .unwrap();
    let chunks = (1..=RACERS as u64).sum::<u64>();
    assert_eq!(stats.chunks, chunks);
    assert_eq!(stats_rows(&pg).await, recounted(&pg).await);
}
