//! Housekeeping against the bucket: queued removals, expiry and the orphan sweep.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use server::files::housekeeping::{
    remove_pending_blobs, sweep_orphans, sweep_records, OrphanSweep,
};
use server::files::{BlobKey, BlobStore};
use server::models::file::FileObject;
use server::models::FileStatus;
use testkit::TestDatabase;

use super::{object, tenant};
use crate::support::s3::{form, Bucket, Instance};

fn file_record(id: &str, expires_at: Option<i64>) -> FileObject {
    FileObject {
        object: "file".into(),
        id: id.into(),
        purpose: "assistants".into(),
        filename: "f.txt".into(),
        bytes: 1,
        created_at: server::ids::unix_now() - 7_200,
        expires_at,
        status: FileStatus::Processed,
        status_details: None,
    }
}

/// Writes `bytes` as the blob `key` directly.
async fn put(data: &dyn BlobStore, key: &BlobKey, bytes: &'static [u8]) {
    let mut blob = data.temp_blob(key).await.unwrap();
    blob.write(bytes.into()).await.unwrap();
    blob.persist().await.unwrap();
}

#[tokio::test]
async fn deleted_and_expired_bytes_leave_the_bucket_through_housekeeping() {
    let Some(bucket) = Bucket::new().await else {
        return;
    };
    let database = Arc::new(TestDatabase::new().await);
    let app = Instance::start(&database, &bucket, "h", |s| s).await;
    let (store, data) = (app.state.store.as_ref(), app.state.data.as_ref());

    // A deletion whose byte removal did not happen yet (as when S3 was unreachable):
    // the record is gone, the removal queued, and the sweep finishes it.
    let created = app.upload("queued.txt", b"queued").await;
    let id = created.json()["id"].as_str().unwrap().to_owned();
    store.delete_file(&tenant(), &id).await.unwrap();
    assert_eq!(bucket.objects().await.len(), 1);
    assert_eq!(remove_pending_blobs(store, data).await.unwrap(), 0);
    assert!(
        bucket.objects().await.is_empty(),
        "the queued removal reached S3"
    );
    assert!(store.pending_blobs(10).await.unwrap().is_empty());

    // An expired file goes with its bytes at the next sweep.
    let key = BlobKey::file(&tenant(), "file-expired");
    put(data, &key, b"x").await;
    let past = server::ids::unix_now() - 1;
    store
        .insert_file(&tenant(), &file_record("file-expired", Some(past)))
        .await
        .unwrap();
    sweep_records(store, data).await.unwrap();
    assert!(bucket.objects().await.is_empty(), "expired bytes stayed");
}

#[tokio::test]
async fn the_orphan_sweep_removes_only_old_unrecorded_objects() {
    let Some(bucket) = Bucket::new().await else {
        return;
    };
    let database = Arc::new(TestDatabase::new().await);
    let app = Instance::start(&database, &bucket, "o", |s| s).await;
    let (store, data) = (app.state.store.as_ref(), app.state.data.as_ref());

    let kept = app.upload("kept.txt", b"kept").await;
    let kept_id = kept.json()["id"].as_str().unwrap().to_owned();
    let created = app
        .post(
            "/v1/uploads",
            json!({"bytes": 2, "filename": "u.txt", "mime_type": "text/plain",
                   "purpose": "assistants"}),
        )
        .await;
    let upload_id = created.json()["id"].as_str().unwrap().to_owned();
    let part = app
        .post_form(
            &format!("/v1/uploads/{upload_id}/parts"),
            form(&[], Some(("data", "blob", b"ab"))),
        )
        .await;
    let held = part.json()["id"].as_str().unwrap().to_owned();
    put(data, &BlobKey::file(&tenant(), "file-orphan"), b"x").await;
    put(
        data,
        &BlobKey::part(&tenant(), "upload_gone", "part_a"),
        b"x",
    )
    .await;
    put(
        data,
        &BlobKey::part(&tenant(), &upload_id, "part_stray"),
        b"x",
    )
    .await;
    assert_eq!(bucket.objects().await.len(), 5);

    let young = sweep_orphans(store, data, Duration::from_secs(3_600))
        .await
        .unwrap();
    assert_eq!(
        young,
        OrphanSweep::default(),
        "objects younger than the grace stay"
    );
    assert_eq!(bucket.objects().await.len(), 5);

    let swept = sweep_orphans(store, data, Duration::ZERO).await.unwrap();
    assert_eq!(
        swept,
        OrphanSweep {
            files: 1,
            parts: 2,
            temporary: 0
        }
    );
    assert_eq!(
        bucket.objects().await,
        [
            object("o", &BlobKey::file(&tenant(), &kept_id)),
            object("o", &BlobKey::part(&tenant(), &upload_id, &held)),
        ]
    );
}
