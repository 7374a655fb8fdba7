//! Limits of `/v1/uploads` (a child of `uploads`): parts refused past the declared
//! size as they arrive, a duplicate `data` field, parts counted by the storage quota,
//! and the periodic sweep that expires abandoned uploads without any request.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use serde_json::json;
use server::files::{housekeeping, DataDir};
use server::models::upload::Upload;
use server::models::UploadStatus;
use server::store::{Tenant, UploadRecord};

use super::{add_part, add_part_as, create_upload};
use crate::support::files::{FilesApp, Multipart};
use testkit::{assert_error, TestDatabase, KEY};

#[tokio::test]
async fn parts_past_the_declared_size_are_refused_as_they_arrive() {
    let app = FilesApp::new().await;
    let upload = create_upload(&app, 3).await;
    let id = upload["id"].as_str().unwrap().to_owned();
    let first = add_part(&app, &id, b"ab").await;
    let past = add_part_as(&app, KEY, &id, b"cd").await;
    assert_error(
        &past,
        400,
        "The Upload was created with bytes=3, but its parts would total at least 4 bytes with this one.",
        Some("data"),
        None,
    );
    // Only the accepted part is on disk; the refused one left nothing, even in tmp/.
    assert_eq!(app.stored_paths().len(), 1, "{:?}", app.stored_paths());
    let last = add_part(&app, &id, b"c").await;
    let completed = app
        .app
        .post(
            &format!("/v1/uploads/{id}/complete"),
            json!({"part_ids": [first, last]}),
        )
        .await;
    assert_eq!(completed.status, StatusCode::OK, "{}", completed.text);
    assert_eq!(completed.json()["file"]["bytes"], 3);
}

#[tokio::test]
async fn a_one_byte_upload_takes_no_large_part() {
    let app = FilesApp::new().await;
    let upload = create_upload(&app, 1).await;
    let id = upload["id"].as_str().unwrap();
    let big = vec![7u8; 256 * 1024];
    let refused = add_part_as(&app, KEY, id, &big).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(app.stored_paths().is_empty(), "{:?}", app.stored_paths());
}

#[tokio::test]
async fn a_second_data_field_is_refused() {
    let app = FilesApp::new().await;
    let upload = create_upload(&app, 2).await;
    let id = upload["id"].as_str().unwrap();
    let body = Multipart::new()
        .file("data", "blob", b"a")
        .file("data", "blob", b"b")
        .finish();
    let response = app
        .post_form_as(KEY, &format!("/v1/uploads/{id}/parts"), body)
        .await;
    assert_error(
        &response,
        400,
        "Duplicate parameter: 'data'. Each field may appear only once in the form.",
        Some("data"),
        None,
    );
    assert!(app.stored_paths().is_empty());
}

#[tokio::test]
async fn pending_parts_count_toward_the_storage_quota() {
    let app = FilesApp::with(|mut settings| {
        settings.storage_quota = Some(10);
        settings
    })
    .await;
    let upload = create_upload(&app, 20).await;
    let id = upload["id"].as_str().unwrap().to_owned();
    add_part(&app, &id, b"12345678").await;
    let refused = add_part_as(&app, KEY, &id, b"123").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_eq!(refused.json()["error"]["code"], "storage_quota_exceeded");
    let form = Multipart::new()
        .text("purpose", "assistants")
        .file("file", "f.txt", b"123")
        .finish();
    let file = app.post_form_as(KEY, "/v1/files", form).await;
    assert_eq!(file.json()["error"]["code"], "storage_quota_exceeded");
    let cancelled = app
        .app
        .post(&format!("/v1/uploads/{id}/cancel"), json!({}))
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.text);
    app.upload("f.txt", "assistants", b"123").await;
}

#[tokio::test]
async fn the_background_sweep_expires_abandoned_uploads() {
    let database = TestDatabase::new().await;
    assert!(
        housekeeping::spawn(
            database.connect().await,
            Arc::new(DataDir::new("unused")),
            Duration::ZERO
        )
        .is_none(),
        "an interval of zero turns the sweep off"
    );
    let dir = tempfile::tempdir().unwrap();
    let data = Arc::new(DataDir::new(dir.path()));
    let store = database.connect().await;
    let tenant = Tenant::from_api_key("k");
    let now = server::ids::unix_now();
    let upload = Upload {
        id: "upload_abandoned".into(),
        object: "upload".into(),
        bytes: 1,
        created_at: now - 3601,
        filename: "f".into(),
        purpose: "assistants".into(),
        status: UploadStatus::Pending,
        expires_at: now - 1,
        file: None,
    };
    let record = UploadRecord {
        upload,
        file_expires_after: None,
    };
    store.insert_upload(&tenant, &record).await.unwrap();
    let part = data.part_path(&tenant, "upload_abandoned", "part_a");
    std::fs::create_dir_all(part.parent().unwrap()).unwrap();
    std::fs::write(&part, b"x").unwrap();

    let task = housekeeping::spawn(store.clone(), data.clone(), Duration::from_millis(5)).unwrap();
    let mut expired = false;
    // Bounded polling, not a timing assertion: the sweep runs every 5 ms.
    for _ in 0..5_000 {
        let stored = store.get_upload(&tenant, "upload_abandoned").await.unwrap();
        let queued = store.pending_blobs(10).await.unwrap();
        if stored.upload.status == UploadStatus::Expired && !part.exists() && queued.is_empty() {
            expired = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    task.abort();
    assert!(
        expired,
        "no request touched the upload; only the sweep could expire it"
    );
}
