//! Uploads whose parts arrive at different instances sharing one database and bucket.

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::json;
use testkit::TestDatabase;

use super::{md5_hex, object, tenant};
use crate::support::s3::{form, pattern, Bucket, Instance, PART_SIZE};
use server::files::BlobKey;

#[tokio::test]
async fn upload_parts_sent_to_two_instances_assemble_on_either() {
    let Some(bucket) = Bucket::new().await else {
        return;
    };
    let database = Arc::new(TestDatabase::reconnectable().await);
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
