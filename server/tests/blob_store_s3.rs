//! File bytes in S3-compatible object storage (`--blob-store s3://...`), against moto
//! in server mode started by the tests: files stream into the bucket and back out byte
//! for byte (large ones as multipart uploads), upload parts sent to two instances
//! assemble on either, quotas and refusals leave no object behind, deleted and expired
//! bytes leave the bucket through housekeeping, the orphan sweep, vector store ingestion
//! reading from the bucket, and a start-up that refuses a bucket it cannot reach.

mod s3_support;

use std::time::Duration;

use axum::http::StatusCode;
use md5::{Digest, Md5};
use object_store::path::Path as ObjectPath;
use object_store::ObjectStoreExt;
use serde_json::json;
use server::files::housekeeping::{
    remove_pending_blobs, sweep_orphans, sweep_records, OrphanSweep,
};
use server::files::{BlobKey, BlobStore};
use server::models::file::FileObject;
use server::store::Tenant;

use s3_support::{form, pattern, Bucket, Instance, KEY, PART_SIZE};

/// The bucket's object holding `key` below `prefix`.
fn object(prefix: &str, key: &BlobKey) -> String {
    let mut names = vec![prefix.to_owned()];
    names.extend(key.segments().into_iter().map(str::to_owned));
    names.join("/")
}

fn tenant() -> Tenant {
    Tenant::from_api_key(KEY)
}

fn md5_hex(bytes: &[u8]) -> String {
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn files_stream_into_the_bucket_and_back_out() {
    let Some(bucket) = Bucket::new().await else {
        return;
    };
    let db = tempfile::tempdir().unwrap();
    let app = Instance::start(&db.path().join("a.db"), &bucket, "deploy", |s| s).await;

    let bytes = b"\x00binary\xff bytes\r\n".to_vec();
    let created = app.upload("data.bin", &bytes).await;
    assert_eq!(created.status, StatusCode::OK, "{:?}", created.body);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let key = BlobKey::file(&tenant(), &id);
    assert_eq!(bucket.objects().await, [object("deploy", &key)]);
    assert!(
        !db.path().join("a.unused-data-dir").exists(),
        "nothing goes to the data directory"
    );

    let content = app.get(&format!("/v1/files/{id}/content")).await;
    assert_eq!(content.status, StatusCode::OK);
    assert_eq!(content.body, bytes);

    let deleted = app.delete(&format!("/v1/files/{id}")).await;
    assert_eq!(deleted.status, StatusCode::OK, "{:?}", deleted.body);
    assert!(
        bucket.objects().await.is_empty(),
        "the bytes left with the record"
    );
    assert_eq!(
        app.get(&format!("/v1/files/{id}/content")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn large_files_go_up_in_parts_and_come_back_exact() {
    let Some(bucket) = Bucket::new().await else {
        return;
    };
    let db = tempfile::tempdir().unwrap();
    let app = Instance::start(&db.path().join("a.db"), &bucket, "p", |s| s).await;

    let bytes = pattern(2 * PART_SIZE + 12_345, 7);
    let created = app.upload("big.bin", &bytes).await;
    assert_eq!(created.status, StatusCode::OK, "{:?}", created.body);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(created.json()["bytes"], bytes.len());

    let location = ObjectPath::from(object("p", &BlobKey::file(&tenant(), &id)));
    let meta = bucket
        .blobs("")
        .object_store()
        .head(&location)
        .await
        .unwrap();
    assert_eq!(meta.size, bytes.len() as u64);
    // An S3 multipart object's ETag ends in `-<number of parts>`.
    let etag = meta.e_tag.unwrap_or_default();
    assert!(
        etag.trim_matches('"').ends_with("-3"),
        "not a 3-part upload: {etag}"
    );

    let content = app.get(&format!("/v1/files/{id}/content")).await;
    assert_eq!(content.status, StatusCode::OK);
    assert!(content.body == bytes, "the bytes came back different");
}

#[tokio::test]
async fn upload_parts_sent_to_two_instances_assemble_on_either() {
    let Some(bucket) = Bucket::new().await else {
        return;
    };
    let db = tempfile::tempdir().unwrap();
    let database = db.path().join("shared.db");
    let first = Instance::start(&database, &bucket, "shared", |s| s).await;
    let second = Instance::start(&database, &bucket, "shared", |s| s).await;

    let pieces = [
        pattern(PART_SIZE + 1, 1),
        pattern(PART_SIZE - 1, 2),
        pattern(10, 3),
    ];
    let whole: Vec<u8> = pieces.concat();
    let upload = |bytes: usize| {
        json!({"bytes": bytes, "filename": "whole.bin", "mime_type": "application/octet-stream",
               "purpose": "assistants"})
    };
    let created = first.post("/v1/uploads", upload(whole.len())).await;
    assert_eq!(created.status, StatusCode::OK, "{:?}", created.body);
    let upload_id = created.json()["id"].as_str().unwrap().to_owned();

    let parts_path = format!("/v1/uploads/{upload_id}/parts");
    let mut part_ids = Vec::new();
    for (index, piece) in pieces.iter().enumerate() {
        let instance = if index % 2 == 0 { &first } else { &second };
        let body = form(&[], Some(("data", "blob", piece)));
        let part = instance.post_form(&parts_path, body).await;
        assert_eq!(part.status, StatusCode::OK, "{:?}", part.body);
        part_ids.push(part.json()["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        bucket.objects().await.len(),
        3,
        "each part is its own object"
    );

    let completion = json!({"part_ids": part_ids, "md5": md5_hex(&whole)});
    let completed = second
        .post(&format!("/v1/uploads/{upload_id}/complete"), completion)
        .await;
    assert_eq!(completed.status, StatusCode::OK, "{:?}", completed.body);
    let completed = completed.json();
    assert_eq!(completed["status"], "completed");
    let file_id = completed["file"]["id"].as_str().unwrap().to_owned();
    assert_eq!(completed["file"]["bytes"], whole.len());

    let content = first.get(&format!("/v1/files/{file_id}/content")).await;
    assert_eq!(content.status, StatusCode::OK);
    assert_eq!(md5_hex(&content.body), md5_hex(&whole));
    assert!(content.body == whole, "assembled bytes differ");
    assert_eq!(
        bucket.objects().await,
        [object("shared", &BlobKey::file(&tenant(), &file_id))],
        "the parts went once assembled"
    );

    // A wrong checksum stores no file: the assembled object never appears.
    let created = second.post("/v1/uploads", upload(3)).await;
    let upload_id = created.json()["id"].as_str().unwrap().to_owned();
    let body = form(&[], Some(("data", "blob", b"abc")));
    let part = first
        .post_form(&format!("/v1/uploads/{upload_id}/parts"), body)
        .await;
    let part_id = part.json()["id"].as_str().unwrap().to_owned();
    let wrong = json!({"part_ids": [part_id], "md5": md5_hex(b"abd")});
    let refused = second
        .post(&format!("/v1/uploads/{upload_id}/complete"), wrong)
        .await;
    assert_eq!(
        refused.status,
        StatusCode::BAD_REQUEST,
        "{:?}",
        refused.body
    );
    let part_key = BlobKey::part(&tenant(), &upload_id, &part_id);
    assert_eq!(
        bucket.objects().await,
        [
            object("shared", &BlobKey::file(&tenant(), &file_id)),
            object("shared", &part_key)
        ]
    );
}

#[tokio::test]
async fn quotas_and_limits_refuse_before_anything_is_stored() {
    let Some(bucket) = Bucket::new().await else {
        return;
    };
    let db = tempfile::tempdir().unwrap();
    let app = Instance::start(&db.path().join("a.db"), &bucket, "q", |mut settings| {
        settings.storage_quota = Some(10);
        settings.max_file_bytes = 8;
        settings
    })
    .await;

    let too_large = app.upload("b.txt", b"123456789").await;
    assert_eq!(too_large.status.as_u16(), 413, "{:?}", too_large.body);
    let kept = app.upload("a.txt", b"12345678").await;
    assert_eq!(kept.status, StatusCode::OK, "{:?}", kept.body);
    let over_quota = app.upload("c.txt", b"123").await;
    assert_eq!(over_quota.json()["error"]["code"], "storage_quota_exceeded");

    let created = app
        .post(
            "/v1/uploads",
            json!({"bytes": 5, "filename": "u.txt", "mime_type": "text/plain",
                   "purpose": "assistants"}),
        )
        .await;
    let upload_id = created.json()["id"].as_str().unwrap().to_owned();
    let part = app
        .post_form(
            &format!("/v1/uploads/{upload_id}/parts"),
            form(&[], Some(("data", "blob", b"12345"))),
        )
        .await;
    assert_eq!(part.json()["error"]["code"], "storage_quota_exceeded");

    let id = kept.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(
        bucket.objects().await,
        [object("q", &BlobKey::file(&tenant(), &id))],
        "refused bytes left no object"
    );
}

#[tokio::test]
async fn a_large_body_refused_midway_leaves_no_multipart_upload_behind() {
    let Some(bucket) = Bucket::new().await else {
        return;
    };
    let db = tempfile::tempdir().unwrap();
    let limit = PART_SIZE + PART_SIZE / 2;
    let app = Instance::start(&db.path().join("a.db"), &bucket, "m", |mut settings| {
        settings.max_file_bytes = limit as u64;
        settings
    })
    .await;

    // Past one part the bytes already travel as a multipart upload when the limit is hit.
    let refused = app.upload("big.bin", &pattern(2 * PART_SIZE, 9)).await;
    assert_eq!(refused.status.as_u16(), 413, "{:?}", refused.body);
    assert!(bucket.objects().await.is_empty());
    // The abort runs in the background: bounded polling, not a timing assertion.
    let mut pending = bucket.multipart_uploads().await;
    for _ in 0..1_000 {
        if pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        pending = bucket.multipart_uploads().await;
    }
    assert_eq!(pending, 0, "the abandoned multipart upload was not aborted");
}

fn file_record(id: &str, expires_at: Option<i64>) -> FileObject {
    FileObject {
        object: "file".into(),
        id: id.into(),
        purpose: "assistants".into(),
        filename: "f.txt".into(),
        bytes: 1,
        created_at: server::ids::unix_now() - 7_200,
        expires_at,
        status: "processed".into(),
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
    let db = tempfile::tempdir().unwrap();
    let app = Instance::start(&db.path().join("a.db"), &bucket, "h", |s| s).await;
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
    let db = tempfile::tempdir().unwrap();
    let app = Instance::start(&db.path().join("a.db"), &bucket, "o", |s| s).await;
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

#[tokio::test]
async fn vector_store_ingestion_reads_the_bytes_from_the_bucket() {
    let Some(bucket) = Bucket::new().await else {
        return;
    };
    let db = tempfile::tempdir().unwrap();
    let app = Instance::start(&db.path().join("a.db"), &bucket, "v", |s| s).await;

    let text = "Object storage keeps the bytes every instance reads.";
    let created = app.upload("notes.txt", text.as_bytes()).await;
    let file_id = created.json()["id"].as_str().unwrap().to_owned();
    let store = app
        .post("/v1/vector_stores", json!({"file_ids": [file_id]}))
        .await;
    assert_eq!(store.status, StatusCode::OK, "{:?}", store.body);
    let store_id = store.json()["id"].as_str().unwrap().to_owned();

    let path = format!("/v1/vector_stores/{store_id}/files/{file_id}");
    let mut file = app.get(&path).await.json();
    // Bounded polling while the background ingestion runs; not a timing assertion.
    for _ in 0..2_000 {
        if file["status"] != "in_progress" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        file = app.get(&path).await.json();
    }
    assert_eq!(file["status"], "completed", "{file}");
    let content = app.get(&format!("{path}/content")).await.json();
    let pieces: Vec<&str> = content["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|piece| piece["text"].as_str().unwrap())
        .collect();
    assert_eq!(pieces.concat(), text);
}

#[tokio::test]
async fn a_bucket_that_does_not_answer_stops_the_start() {
    let Some(bucket) = Bucket::new().await else {
        return;
    };
    let missing = Bucket {
        endpoint: bucket.endpoint.clone(),
        name: format!("{}-missing", bucket.name),
    };
    let db = tempfile::tempdir().unwrap();
    let mut settings =
        server::Settings::new(format!("sqlite://{}", db.path().join("a.db").display()));
    settings.blob_store = Some(std::sync::Arc::new(missing.blobs("x")));
    let error = server::AppState::from_settings(&settings)
        .await
        .err()
        .expect("a missing bucket is refused at start-up");
    let message = error.to_string();
    assert!(
        message.contains(&format!("s3://{}/x", missing.name)),
        "{message}"
    );
    assert!(
        !message.contains("testing"),
        "credentials in the error: {message}"
    );
}
