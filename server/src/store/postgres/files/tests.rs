//! Files and uploads on both backends: the same calls on SQLite and on PostgreSQL give the
//! same answers, errors included (quota, declared size, ends of an upload, expiry and the
//! queue of bytes to remove).

use crate::models::file::FileObject;
use crate::models::upload::{Upload, UploadPart};
use crate::models::{FileStatus, UploadStatus};
use crate::store::postgres::test_store;
use crate::store::sqlite::SqliteStore;
use crate::store::{FileStore, PageRequest, StoreResult, Tenant, UploadRecord, UploadStore};

fn file(id: &str, purpose: &str, bytes: u64, expires_at: Option<i64>) -> FileObject {
    FileObject {
        object: "file".to_owned(),
        id: id.to_owned(),
        purpose: purpose.to_owned(),
        filename: format!("{id}.txt"),
        bytes,
        created_at: 1,
        expires_at,
        status: FileStatus::Processed,
        status_details: None,
    }
}

fn upload(id: &str, bytes: u64, state: UploadStatus, expires_at: i64) -> Upload {
    Upload {
        id: id.to_owned(),
        object: "upload".to_owned(),
        bytes,
        created_at: 1,
        filename: "u.txt".to_owned(),
        purpose: "assistants".to_owned(),
        status: state,
        expires_at,
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

/// A result as text (errors by their message, which names their kind and figures).
fn shown<T: std::fmt::Debug>(result: StoreResult<T>) -> String {
    match result {
        Ok(value) => format!("ok {value:?}"),
        Err(error) => format!("error {error}"),
    }
}

/// Every answer of a scenario through files and uploads, in order.
async fn scenario<S: FileStore + UploadStore>(store: &S) -> Vec<String> {
    let (tenant, other) = (Tenant::from_api_key("k"), Tenant::from_api_key("other"));
    let mut log = Vec::new();
    let quota = Some(1_000);
    for (id, purpose, bytes, expires) in [
        ("file-1", "assistants", 400, None),
        ("file-2", "batch", 500, Some(50)),
        ("file-3", "assistants", 200, None),
    ] {
        let made = file(id, purpose, bytes, expires);
        log.push(shown(store.insert_file_within(&tenant, &made, quota).await));
    }
    log.push(shown(
        store
            .insert_file(&tenant, &file("file-1", "assistants", 1, None))
            .await,
    ));
    log.push(shown(store.storage_used(&tenant).await));
    let page = PageRequest::default();
    for purpose in [None, Some("assistants"), Some("batch")] {
        let listed = store.list_files(&tenant, purpose, &page).await.unwrap();
        let ids: Vec<String> = listed.items.into_iter().map(|f| f.id).collect();
        log.push(format!("{purpose:?} {ids:?} {}", listed.has_more));
    }
    log.push(shown(store.get_file(&other, "file-1").await.map(|f| f.id)));
    log.push(shown(store.delete_file(&other, "file-1").await));
    log.push(shown(store.take_expired_files(49).await));
    log.push(shown(store.take_expired_files(50).await));
    log.push(shown(store.delete_file(&tenant, "file-1").await));
    log.push(shown(store.storage_used(&tenant).await));
    let queued = store.pending_blobs(10).await.unwrap();
    log.push(format!("{queued:?}"));
    log.push(shown(store.forget_pending_blob(&queued[0]).await));
    log.push(shown(store.pending_blobs(10).await));

    // An upload of 300 bytes: parts past it or past the quota are refused.
    let record = UploadRecord {
        upload: upload("upload_1", 300, UploadStatus::Pending, 100),
        file_expires_after: Some(60),
    };
    log.push(shown(store.insert_upload(&tenant, &record).await));
    log.push(shown(store.get_upload(&tenant, "upload_1").await));
    log.push(shown(store.get_upload(&other, "upload_1").await));
    for (id, bytes, quota) in [
        ("part_1", 200, Some(1_000)),
        ("part_2", 200, Some(1_000)),
        ("part_3", 100, Some(250)),
        ("part_4", 100, Some(1_000)),
    ] {
        let added = store
            .insert_part(&tenant, &part(id, "upload_1"), bytes, quota)
            .await;
        log.push(shown(added));
    }
    log.push(shown(store.upload_parts_bytes(&tenant, "upload_1").await));
    log.push(shown(store.parts_of_upload(&tenant, "upload_1").await));
    log.push(shown(store.storage_used(&tenant).await));
    log.push(shown(store.overdue_uploads(99).await));
    log.push(shown(store.overdue_uploads(100).await.map(|u| u.len())));
    let done = upload("upload_1", 300, UploadStatus::Completed, 100);
    let made = file("file-u", "assistants", 300, None);
    log.push(shown(store.complete_upload(&tenant, &done, &made).await));
    log.push(shown(store.complete_upload(&tenant, &done, &made).await));
    let cancelled = upload("upload_1", 300, UploadStatus::Cancelled, 100);
    log.push(shown(store.end_pending_upload(&tenant, &cancelled).await));
    log.push(shown(
        store
            .insert_part(&tenant, &part("part_5", "upload_1"), 1, None)
            .await,
    ));
    log.push(shown(store.parts_of_upload(&tenant, "upload_1").await));
    log.push(shown(store.storage_used(&tenant).await));
    log.push(shown(store.pending_blobs(10).await));
    log
}

#[tokio::test]
async fn files_and_uploads_answer_alike_on_both_backends() {
    let lite = SqliteStore::connect("sqlite::memory:").await.unwrap();
    let expected = scenario(&lite).await;
    assert_eq!(expected.len(), 36);
    let errors = expected
        .iter()
        .filter(|line| line.starts_with("error"))
        .count();
    // Over quota (a file, a part), a duplicate id, another tenant (3), past the declared
    // size, ended already (a second complete, a cancel, a part).
    assert_eq!(errors, 10, "{expected:#?}");
    assert!(expected
        .iter()
        .any(|l| l.contains("quota of 250 bytes exceeded")));
    assert!(expected
        .iter()
        .any(|l| l.contains("above the declared 300")));
    let Some(pg) = test_store().await else {
        return;
    };
    let ours = scenario(&*pg).await;
    for (n, (a, b)) in ours.iter().zip(&expected).enumerate() {
        // Backend messages of a duplicate key differ in wording, not in kind.
        if b.starts_with("error conflict: (code: 2067)") {
            assert!(a.starts_with("error conflict: "), "{n}: {a}");
        } else {
            assert_eq!(a, b, "answer {n}");
        }
    }
    assert_eq!(ours.len(), expected.len());
}
