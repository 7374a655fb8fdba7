//! `/v1/vector_stores/{id}/file_batches`: creation with `file_ids` or per-file
//! attributes, status that follows the files, the shorter items of the batch's file
//! list with `filter` and both cursors (as recorded), cancellation and errors.

use crate::support::files::hex_id_redaction;
use crate::support::vector_stores::VsApp;
use axum::http::StatusCode;
use serde_json::{json, Value};
use testkit::{assert_error, timestamp_redaction};

async fn paused_app() -> VsApp {
    VsApp::with(|mut s| {
        s.ingest_workers = 0;
        s
    })
    .await
}

async fn uploads(app: &VsApp, count: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..count {
        ids.push(
            app.upload(
                &format!("test_file_{i:03}.txt"),
                &format!("This is a test file {i}"),
            )
            .await,
        );
    }
    ids
}

async fn new_store(app: &VsApp) -> String {
    app.create_store(json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn create_batch(app: &VsApp, store: &str, body: Value) -> Value {
    app.app()
        .create(&format!("/v1/vector_stores/{store}/file_batches"), body)
        .await
}

#[tokio::test]
async fn a_new_batch_has_the_recorded_shape() {
    let app = paused_app().await;
    let store = new_store(&app).await;
    let files = uploads(&app, 5).await;
    let batch = create_batch(&app, &store, json!({"file_ids": files})).await;
    insta::assert_json_snapshot!(batch, {
        ".id" => hex_id_redaction("vsfb_"),
        ".vector_store_id" => hex_id_redaction("vs_"),
        ".created_at" => timestamp_redaction(),
    });
}

#[tokio::test]
async fn batches_complete_and_list_their_files_in_short_items() {
    let app = VsApp::new().await;
    let store = new_store(&app).await;
    let files = uploads(&app, 10).await;
    let batch = create_batch(&app, &store, json!({"file_ids": files})).await;
    let id = batch["id"].as_str().unwrap();
    let path = format!("/v1/vector_stores/{store}/file_batches/{id}");
    let done = app.poll(&path, |b| b["status"] != "in_progress").await;
    assert_eq!(done["status"], "completed");
    assert_eq!(
        done["file_counts"],
        json!({"in_progress": 0, "completed": 10, "failed": 0, "cancelled": 0, "total": 10})
    );
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let query = match &after {
            Some(cursor) => format!("?limit=3&after={cursor}"),
            None => "?limit=3".to_owned(),
        };
        let page = app.app().get(&format!("{path}/files{query}")).await.json();
        for item in page["data"].as_array().unwrap() {
            let keys: Vec<&String> = item.as_object().unwrap().keys().collect();
            assert_eq!(
                keys,
                [
                    "id",
                    "object",
                    "created_at",
                    "vector_store_id",
                    "status",
                    "last_error"
                ]
            );
            seen.push(item["id"].as_str().unwrap().to_owned());
        }
        if page["has_more"] == false {
            break;
        }
        after = page["last_id"].as_str().map(str::to_owned);
    }
    let newest_first: Vec<String> = files.iter().rev().cloned().collect();
    assert_eq!(seen, newest_first);
    let before = app
        .app()
        .get(&format!("{path}/files?limit=2&before={}", files[5]))
        .await
        .json();
    assert_eq!(before["first_id"], files[7].as_str());
    assert_eq!(before["last_id"], files[6].as_str());
    let completed = app
        .app()
        .get(&format!("{path}/files?filter=completed&limit=100"))
        .await
        .json();
    assert_eq!(completed["data"].as_array().unwrap().len(), 10);
}

#[tokio::test]
async fn per_file_attributes_and_batch_defaults_reach_the_files() {
    let app = VsApp::new().await;
    let store = new_store(&app).await;
    let files = uploads(&app, 2).await;
    let batch = create_batch(
        &app,
        &store,
        json!({
            "attributes": {"source": "batch"},
            "files": [
                {"file_id": files[0], "attributes": {"year": 2020}},
                {"file_id": files[1], "chunking_strategy": {"type": "static", "static": {"max_chunk_size_tokens": 300, "chunk_overlap_tokens": 100}}}
            ]
        }),
    )
    .await;
    assert_eq!(batch["file_counts"]["total"], 2);
    let first = app
        .app()
        .get(&format!("/v1/vector_stores/{store}/files/{}", files[0]))
        .await
        .json();
    assert_eq!(first["attributes"], json!({"year": 2020}));
    let second = app
        .app()
        .get(&format!("/v1/vector_stores/{store}/files/{}", files[1]))
        .await
        .json();
    assert_eq!(second["attributes"], json!({"source": "batch"}));
    assert_eq!(
        second["chunking_strategy"]["static"]["max_chunk_size_tokens"],
        300
    );
    let settled = app.settled_store(&store).await;
    assert_eq!(settled["file_counts"]["completed"], 2);
}

#[tokio::test]
async fn cancelling_marks_waiting_files_cancelled() {
    let app = paused_app().await;
    let store = new_store(&app).await;
    let files = uploads(&app, 3).await;
    let batch = create_batch(&app, &store, json!({"file_ids": files})).await;
    let id = batch["id"].as_str().unwrap();
    let cancel = format!("/v1/vector_stores/{store}/file_batches/{id}/cancel");
    let cancelled = app.app().create(&cancel, json!({})).await;
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(
        cancelled["file_counts"],
        json!({"in_progress": 0, "completed": 0, "failed": 0, "cancelled": 3, "total": 3})
    );
    let listed = app
        .app()
        .get(&format!(
            "/v1/vector_stores/{store}/file_batches/{id}/files?filter=cancelled"
        ))
        .await
        .json();
    assert_eq!(listed["data"].as_array().unwrap().len(), 3);
    let store_now = app
        .app()
        .get(&format!("/v1/vector_stores/{store}"))
        .await
        .json();
    assert_eq!(store_now["status"], "completed");
    assert_eq!(store_now["file_counts"]["cancelled"], 3);
    let again = app.app().post(&cancel, json!({})).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "{}", again.text);
}

#[tokio::test]
async fn bad_batches_are_rejected() {
    let app = VsApp::new().await;
    let store = new_store(&app).await;
    let files = uploads(&app, 1).await;
    let path = format!("/v1/vector_stores/{store}/file_batches");
    let neither = app.app().post(&path, json!({})).await;
    assert_error(
        &neither,
        400,
        "Missing required parameter: 'file_ids'.",
        Some("file_ids"),
        Some("missing_required_parameter"),
    );
    let both = app
        .app()
        .post(
            &path,
            json!({"file_ids": files, "files": [{"file_id": files[0]}]}),
        )
        .await;
    assert_eq!(both.status, StatusCode::BAD_REQUEST);
    let unknown = app
        .app()
        .post(&path, json!({"file_ids": ["file-nope"]}))
        .await;
    assert_eq!(unknown.json()["error"]["param"], "file_ids[0]");
    let missing = app
        .app()
        .get(&format!("/v1/vector_stores/{store}/file_batches/vsfb_nope"))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let other_tenant = app
        .app()
        .call_as(
            testkit::OTHER_KEY,
            axum::http::Method::POST,
            &path,
            Some(&json!({"file_ids": files}).to_string()),
        )
        .await;
    assert_eq!(other_tenant.status, StatusCode::NOT_FOUND);
}
