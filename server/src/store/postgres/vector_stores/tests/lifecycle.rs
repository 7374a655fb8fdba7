//! Vector stores, their files and batches through their whole life on both backends:
//! the same calls give the same answers (computed counts and statuses, listings by batch
//! and status, attributes, cancelled batches, extracted text, embedding models, errors).

use serde_json::json;

use super::{in_progress, ingest, sqlite, vector_store};
use crate::models::{FileBatchStatus, VectorStoreFileStatus};
use crate::store::postgres::test_store;
use crate::store::vector_stores::{IngestedFile, VectorStoreStore};
use crate::store::{Order, PageRequest, StoreResult, Tenant};
use crate::vector_stores::model::{FileBatch, FileCounts, LastError};

/// A result as text, documents as their JSON (key order included).
fn shown<T: serde::Serialize>(result: StoreResult<T>) -> String {
    match result {
        Ok(value) => format!("ok {}", serde_json::to_string(&value).unwrap()),
        Err(error) => format!("error {error}"),
    }
}

fn batch(id: &str, store: &str) -> FileBatch {
    FileBatch {
        id: id.to_owned(),
        object: "vector_store.file_batch".to_owned(),
        created_at: 2,
        status: FileBatchStatus::InProgress,
        vector_store_id: store.to_owned(),
        file_counts: FileCounts::default(),
    }
}

fn page(limit: u32, after: Option<&str>) -> PageRequest {
    PageRequest {
        limit,
        order: Order::Asc,
        after: after.map(str::to_owned),
        before: None,
    }
}

/// Ids of a listing and whether more follow.
fn listed<T, F: Fn(&T) -> String>(result: StoreResult<crate::store::Page<T>>, id: F) -> String {
    match result {
        Ok(page) => format!(
            "{:?} {}",
            page.items.iter().map(id).collect::<Vec<_>>(),
            page.has_more
        ),
        Err(error) => format!("error {error}"),
    }
}

async fn scenario<S: VectorStoreStore>(store: &S) -> Vec<String> {
    let (tenant, other) = (Tenant::from_api_key("k"), Tenant::from_api_key("other"));
    let mut log = Vec::new();
    let mut expiring = vector_store("vs_2");
    expiring.expires_at = Some(500);
    let files = [in_progress("vs_1", "file-a"), in_progress("vs_1", "file-b")];
    log.push(shown(
        store
            .insert_vector_store_embedded(&tenant, &vector_store("vs_1"), &files, Some("m"))
            .await,
    ));
    log.push(shown(
        store.insert_vector_store(&tenant, &expiring, &[]).await,
    ));
    log.push(shown(
        store
            .insert_vector_store(&other, &vector_store("vs_1"), &[])
            .await,
    ));
    let ids = ["vs_1".to_owned(), "vs_2".to_owned(), "vs_none".to_owned()];
    let mut models: Vec<_> = store
        .embedding_models(&tenant, &ids)
        .await
        .unwrap()
        .into_iter()
        .collect();
    models.sort();
    log.push(format!("{models:?}"));
    log.push(format!(
        "{:?}",
        store.embedding_models(&other, &ids).await.unwrap()
    ));
    log.push(shown(store.get_vector_store(&tenant, "vs_1", 10).await));
    log.push(shown(store.get_vector_store(&tenant, "vs_2", 500).await));
    log.push(shown(store.get_vector_store(&other, "vs_2", 10).await));
    log.push(listed(
        store.list_vector_stores(&tenant, &page(1, None), 10).await,
        |s| s.id.clone(),
    ));
    log.push(listed(
        store
            .list_vector_stores(&tenant, &page(5, Some("vs_1")), 10)
            .await,
        |s| format!("{} {}", s.id, s.status),
    ));

    // A batch of two more files, one of them already attached (re-attached by it).
    let batched = [in_progress("vs_1", "file-b"), in_progress("vs_1", "file-c")];
    log.push(shown(
        store
            .attach_files(&tenant, &batched, Some(&batch("vsfb_1", "vs_1")))
            .await,
    ));
    ingest(store, &tenant, &files[0], &["apple pie", "banana bread"]).await;
    let mut failed = in_progress("vs_1", "file-c");
    failed.status = VectorStoreFileStatus::Failed;
    failed.last_error = Some(LastError {
        code: "invalid_file".to_owned(),
        message: "no text".to_owned(),
    });
    let done = IngestedFile {
        file: failed,
        text: None,
        chunks: Vec::new(),
    };
    log.push(shown(store.finish_ingestion(&tenant, &done).await));
    log.push(shown(store.finish_ingestion(&tenant, &done).await));
    log.push(shown(store.get_vector_store(&tenant, "vs_1", 10).await));
    log.push(shown(store.get_file_batch(&tenant, "vs_1", "vsfb_1").await));
    for (batch_id, status) in [
        (None, None),
        (Some("vsfb_1"), None),
        (None, Some(VectorStoreFileStatus::InProgress)),
        (Some("vsfb_1"), Some(VectorStoreFileStatus::Failed)),
    ] {
        let files = store
            .list_vector_store_files(&tenant, "vs_1", batch_id, status, &page(10, None))
            .await;
        log.push(listed(files, |f| format!("{} {}", f.id, f.status)));
    }
    log.push(listed(
        store
            .list_vector_store_files(&tenant, "vs_1", None, None, &page(1, Some("file-a")))
            .await,
        |f| f.id.clone(),
    ));
    let in_flight: Vec<String> = store
        .files_in_progress()
        .await
        .unwrap()
        .into_iter()
        .map(|(_, f)| format!("{} {}", f.vector_store_id, f.id))
        .collect();
    log.push(format!("{in_flight:?}"));

    // Attributes change only the document; the ingestion's fields stay.
    let mut a = store
        .get_vector_store_file(&tenant, "vs_1", "file-a")
        .await
        .unwrap();
    a.attributes.insert("lang".to_owned(), json!("en"));
    a.attributes.insert("year".to_owned(), json!(2024.5));
    log.push(shown(store.update_vector_store_file(&tenant, &a).await));
    log.push(shown(store.update_vector_store_file(&other, &a).await));
    log.push(shown(
        store.get_vector_store_file(&tenant, "vs_1", "file-a").await,
    ));
    log.push(shown(store.completed_files(&tenant, &ids).await));
    log.push(shown(
        store
            .vector_store_file_text(&tenant, "vs_1", "file-a")
            .await,
    ));
    log.push(shown(
        store
            .vector_store_file_text(&tenant, "vs_1", "file-b")
            .await,
    ));
    log.push(shown(
        store
            .vector_store_file_text(&tenant, "vs_1", "file-z")
            .await,
    ));

    // Cancelling the batch cancels its pending file; an ingestion after that is refused.
    log.push(shown(
        store.cancel_file_batch(&tenant, "vs_1", "vsfb_1").await,
    ));
    log.push(shown(
        store.cancel_file_batch(&other, "vs_1", "vsfb_1").await,
    ));
    log.push(shown(store.get_file_batch(&tenant, "vs_1", "vsfb_1").await));
    log.push(shown(
        store.get_vector_store_file(&tenant, "vs_1", "file-b").await,
    ));
    let mut late = in_progress("vs_1", "file-b");
    late.status = VectorStoreFileStatus::Completed;
    let done = IngestedFile {
        file: late,
        text: Some("late".to_owned()),
        chunks: vec!["late".to_owned()],
    };
    log.push(shown(store.finish_ingestion(&tenant, &done).await));

    let mut renamed = store.get_vector_store(&tenant, "vs_1", 10).await.unwrap();
    renamed.name = Some("renamed".to_owned());
    log.push(shown(store.update_vector_store(&tenant, &renamed).await));
    log.push(shown(store.update_vector_store(&other, &expiring).await));
    log.push(shown(
        store
            .delete_vector_store_file(&tenant, "vs_1", "file-c")
            .await,
    ));
    log.push(shown(
        store
            .delete_vector_store_file(&tenant, "vs_1", "file-c")
            .await,
    ));
    log.push(shown(store.get_vector_store(&tenant, "vs_1", 10).await));
    log.push(shown(store.delete_vector_store(&other, "vs_2").await));
    log.push(shown(store.delete_vector_store(&tenant, "vs_1").await));
    log.push(shown(store.get_file_batch(&tenant, "vs_1", "vsfb_1").await));
    log.push(shown(
        store.get_vector_store_file(&tenant, "vs_1", "file-a").await,
    ));
    log.push(listed(
        store.list_vector_stores(&tenant, &page(5, None), 10).await,
        |s| s.id.clone(),
    ));
    log
}

#[tokio::test]
async fn vector_stores_files_and_batches_answer_alike_on_both_backends() {
    let expected = scenario(&sqlite().await).await;
    assert_eq!(expected.len(), 43);
    let errors = expected.iter().filter(|l| l.starts_with("error")).count();
    assert_eq!(errors, 10, "{expected:#?}");
    let Some(pg) = test_store().await else {
        return;
    };
    let ours = scenario(&*pg).await;
    for (n, (a, b)) in ours.iter().zip(&expected).enumerate() {
        // A duplicate store id is a conflict on both; the wording is the backend's.
        if b.starts_with("error conflict: (code: 2067)") {
            assert!(a.starts_with("error conflict: "), "{n}: {a}");
        } else {
            assert_eq!(a, b, "answer {n}");
        }
    }
    assert_eq!(ours.len(), expected.len());
    // SQLite lets another tenant attach files to a store it does not own when called
    // this low (the handlers check the store first); PostgreSQL refuses.
    let tenant = Tenant::from_api_key("k");
    pg.insert_vector_store(&tenant, &vector_store("vs_x"), &[])
        .await
        .unwrap();
    let theirs = pg
        .attach_files(
            &Tenant::from_api_key("other"),
            &[in_progress("vs_x", "f")],
            None,
        )
        .await;
    assert!(
        matches!(theirs, Err(crate::store::StoreError::NotFound)),
        "{theirs:?}"
    );
}
