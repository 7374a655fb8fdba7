//! Files in the bucket: in and out byte for byte, large ones in parts, refusals that
//! leave nothing behind, ingestion reading from the bucket, and start-up checks.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use object_store::path::Path as ObjectPath;
use object_store::ObjectStoreExt;
use serde_json::json;
use testkit::TestDatabase;

use super::{object, tenant};
use crate::support::s3::{form, pattern, Bucket, Instance, PART_SIZE};
use server::files::BlobKey;

#[tokio::test]
async fn files_stream_into_the_bucket_and_back_out() {
    let Some(bucket) = Bucket::new().await else {
        return;
    };
    let database = Arc::new(TestDatabase::new().await);
    let app = Instance::start(&database, &bucket, "deploy", |s| s).await;

    let bytes = b"\x00binary\xff bytes\r\n".to_vec();
    let created = app.upload("data.bin", &bytes).await;
    assert_eq!(created.status, StatusCode::OK, "{:?}", created.body);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let key = BlobKey::file(&tenant(), &id);
    assert_eq!(bucket.objects().await, [object("deploy", &key)]);
    assert!(
        !database.data_dir().exists(),
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
    let database = Arc::new(TestDatabase::new().await);
    let app = Instance::start(&database, &bucket, "p", |s| s).await;

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
async fn quotas_and_limits_refuse_before_anything_is_stored() {
    let Some(bucket) = Bucket::new().await else {
        return;
    };
    let database = Arc::new(TestDatabase::new().await);
    let app = Instance::start(&database, &bucket, "q", |mut settings| {
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
    let database = Arc::new(TestDatabase::new().await);
    let limit = PART_SIZE + PART_SIZE / 2;
    let app = Instance::start(&database, &bucket, "m", |mut settings| {
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

#[tokio::test]
async fn vector_store_ingestion_reads_the_bytes_from_the_bucket() {
    let Some(bucket) = Bucket::new().await else {
        return;
    };
    let database = Arc::new(TestDatabase::new().await);
    let app = Instance::start(&database, &bucket, "v", |s| s).await;

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
    let database = TestDatabase::new().await;
    let mut settings = database.settings();
    settings.blob_store = Some(Arc::new(missing.blobs("x")));
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
