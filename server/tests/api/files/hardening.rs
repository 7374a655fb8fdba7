//! Hardening of `/v1/files` (a child of `files`): deletion that never answers 500
//! and never leaves bytes behind, the orphan sweep, duplicate form fields and the
//! optional per-key storage quota.

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::json;
use server::files::housekeeping::{sweep_orphans, OrphanSweep};
use server::files::DataDir;
use server::models::file::FileObject;
use server::models::FileStatus;
use server::store::{StoreError, Tenant};

use crate::support::files::{FilesApp, Multipart};
use testkit::{assert_error, TestApp, TestDatabase, KEY, OTHER_KEY};

/// An app on a database a second `AppState` can reopen, as a restart does, with its
/// data directory in `data`.
async fn app_on_disk() -> (FilesApp, server::Settings) {
    let data = tempfile::tempdir().unwrap();
    let database = TestDatabase::reconnectable().await;
    let mut settings = database.settings();
    settings.data_dir = data.path().to_path_buf();
    let app = TestApp::on(database, &settings).await;
    (FilesApp { app, data }, settings)
}

fn file_record(id: &str, bytes: u64) -> FileObject {
    FileObject {
        object: "file".into(),
        id: id.into(),
        purpose: "assistants".into(),
        filename: "f".into(),
        bytes,
        created_at: server::ids::unix_now(),
        expires_at: None,
        status: FileStatus::Processed,
        status_details: None,
    }
}

#[tokio::test]
async fn bytes_that_cannot_be_removed_never_fail_the_delete_and_go_later() {
    let (app, settings) = app_on_disk().await;
    let file = app.upload("doomed.txt", "assistants", b"doomed").await;
    let id = file["id"].as_str().unwrap();
    let bytes = DataDir::new(app.data.path()).file_path(&Tenant::from_api_key(KEY), id);
    // A non-empty folder where the bytes are: removing it as a file fails, even as
    // root (a read-only directory would not stop root).
    std::fs::remove_file(&bytes).unwrap();
    std::fs::create_dir(&bytes).unwrap();
    std::fs::write(bytes.join("blocker"), b"x").unwrap();

    let path = format!("/v1/files/{id}");
    let deleted = app.app.delete(&path).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text);
    assert_eq!(
        deleted.json(),
        json!({"object": "file", "deleted": true, "id": id})
    );
    assert_eq!(app.app.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.app.delete(&path).await.status, StatusCode::NOT_FOUND);

    // The obstacle goes, the bytes are still there: the queued removal is retried by
    // the next sweep, here the one a restart runs.
    std::fs::remove_dir_all(&bytes).unwrap();
    std::fs::write(&bytes, b"doomed").unwrap();
    server::AppState::from_settings(&settings).await.unwrap();
    assert!(!bytes.exists(), "the bytes outlived their record");
}

#[tokio::test]
async fn the_orphan_sweep_removes_only_old_unrecorded_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::new(dir.path());
    let database = TestDatabase::new().await;
    let store = database.connect().await;
    let tenant = Tenant::from_api_key("k");
    let write = |path: std::path::PathBuf| {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, b"x").unwrap();
        path
    };
    let kept = write(data.file_path(&tenant, "file-kept"));
    store
        .insert_file(&tenant, &file_record("file-kept", 1))
        .await
        .unwrap();
    let orphan = write(data.file_path(&tenant, "file-orphan"));
    let part = write(data.part_path(&tenant, "upload_gone", "part_a"));
    let temporary = write(data.root().join("tmp/abandoned.part"));

    let young = sweep_orphans(store.as_ref(), &data, Duration::from_secs(3_600))
        .await
        .unwrap();
    assert_eq!(
        young,
        OrphanSweep::default(),
        "bytes younger than the grace stay"
    );
    assert!(orphan.exists() && part.exists() && temporary.exists());

    let swept = sweep_orphans(store.as_ref(), &data, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(
        swept,
        OrphanSweep {
            files: 1,
            parts: 1,
            temporary: 1
        }
    );
    assert!(!orphan.exists() && !part.exists() && !temporary.exists());
    assert!(kept.exists());
}

#[tokio::test]
async fn a_field_given_twice_is_refused_and_nothing_is_stored() {
    let app = FilesApp::new().await;
    for (body, name) in [
        (
            Multipart::new()
                .text("purpose", "assistants")
                .text("purpose", "batch")
                .file("file", "a.txt", b"a"),
            "purpose",
        ),
        (
            Multipart::new()
                .text("purpose", "assistants")
                .file("file", "a.txt", b"first")
                .file("file", "b.txt", b"second"),
            "file",
        ),
    ] {
        let response = app.post_form_as(KEY, "/v1/files", body.finish()).await;
        assert_error(
            &response,
            400,
            &format!("Duplicate parameter: '{name}'. Each field may appear only once in the form."),
            Some(name),
            None,
        );
    }
    assert_eq!(app.stored_paths(), Vec::<std::path::PathBuf>::new());
    let list = app.app.get("/v1/files").await.json();
    assert_eq!(list["data"], json!([]));
}

fn quota_message(needed: u64, quota: u64) -> String {
    format!(
        "Storage quota exceeded: this API key's files and pending upload parts would take \
         {needed} bytes, above its quota of {quota} bytes. Delete files or cancel uploads to \
         free space."
    )
}

#[tokio::test]
async fn the_storage_quota_is_per_key_and_freed_by_deleting() {
    let app = FilesApp::with(|mut settings| {
        settings.storage_quota = Some(10);
        settings
    })
    .await;
    let first = app.upload("a.txt", "assistants", b"123456").await;
    let form = Multipart::new()
        .text("purpose", "assistants")
        .file("file", "b.txt", b"12345")
        .finish();
    let refused = app.post_form_as(KEY, "/v1/files", form).await;
    assert_error(
        &refused,
        400,
        &quota_message(11, 10),
        None,
        Some("storage_quota_exceeded"),
    );
    assert_eq!(
        app.stored_paths().len(),
        1,
        "nothing of the refused file stays"
    );
    // Another key has its own quota; this key's last 4 bytes still fit.
    app.upload_as(OTHER_KEY, "b.txt", "assistants", b"12345")
        .await;
    app.upload("c.txt", "assistants", b"1234").await;
    let deleted = app
        .app
        .delete(&format!("/v1/files/{}", first["id"].as_str().unwrap()))
        .await;
    assert_eq!(deleted.status, StatusCode::OK);
    app.upload("d.txt", "assistants", b"123456").await;
}

#[tokio::test]
async fn the_store_checks_the_quota_in_the_writing_transaction() {
    let database = TestDatabase::new().await;
    let store = database.connect().await;
    let tenant = Tenant::from_api_key("k");
    store
        .insert_file_within(&tenant, &file_record("file-a", 6), Some(10))
        .await
        .unwrap();
    let error = store
        .insert_file_within(&tenant, &file_record("file-b", 5), Some(10))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::OverQuota {
                needed: 11,
                quota: 10
            }
        ),
        "{error:?}"
    );
    assert!(store.get_file(&tenant, "file-b").await.is_err());
    assert_eq!(store.storage_used(&tenant).await.unwrap(), 6);
}
