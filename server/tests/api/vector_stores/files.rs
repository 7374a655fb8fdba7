//! `/v1/vector_stores/{id}/files`: attach (answers `in_progress` at once), ingestion
//! to `completed` or `failed`, the recorded shape, `filter` and cursors, attributes,
//! parsed content, detaching, chunking options and ingestion resumed after a restart.

use crate::support::files::{file_id_redaction, hex_id_redaction};
use crate::support::vector_stores::VsApp;
use axum::http::StatusCode;
use serde_json::{json, Value};
use testkit::{assert_error, timestamp_redaction, TestDatabase};

async fn empty_store(app: &VsApp) -> String {
    let store = app.create_store(json!({})).await;
    store["id"].as_str().unwrap().to_owned()
}

async fn attach(app: &VsApp, store: &str, body: Value) -> Value {
    app.app()
        .create(&format!("/v1/vector_stores/{store}/files"), body)
        .await
}

async fn settled_file(app: &VsApp, store: &str, file: &str) -> Value {
    app.poll(&format!("/v1/vector_stores/{store}/files/{file}"), |f| {
        f["status"] != "in_progress"
    })
    .await
}

#[tokio::test]
async fn attaching_answers_in_progress_with_the_recorded_shape() {
    let app = VsApp::with(|mut s| {
        s.ingest_workers = 0;
        s
    })
    .await;
    let store = empty_store(&app).await;
    let file = app.upload("a.txt", "hello").await;
    let attached = attach(&app, &store, json!({"file_id": file})).await;
    insta::assert_json_snapshot!(attached, {
        ".id" => file_id_redaction(),
        ".vector_store_id" => hex_id_redaction("vs_"),
        ".created_at" => timestamp_redaction(),
    });
}

#[tokio::test]
async fn text_files_complete_with_usage_and_content() {
    let app = VsApp::new().await;
    let store = empty_store(&app).await;
    let text = "Line one about whales.\nLine two about krill.";
    let file = app.upload("notes.md", text).await;
    attach(
        &app,
        &store,
        json!({"file_id": file, "attributes": {"topic": "sea"}}),
    )
    .await;
    let done = settled_file(&app, &store, &file).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["last_error"], Value::Null);
    assert_eq!(done["usage_bytes"], text.len() + 1024);
    assert_eq!(done["attributes"], json!({"topic": "sea"}));
    let content = app
        .app()
        .get(&format!("/v1/vector_stores/{store}/files/{file}/content"))
        .await
        .json();
    assert_eq!(
        content,
        json!({"object": "vector_store.file_content.page",
               "data": [{"type": "text", "text": text}],
               "has_more": false, "next_page": null})
    );
    let store_now = app.settled_store(&store).await;
    assert_eq!(store_now["usage_bytes"], text.len() + 1024);
}

#[tokio::test]
async fn html_is_stripped_of_its_tags() {
    let app = VsApp::new().await;
    let store = empty_store(&app).await;
    let file = app
        .upload(
            "page.html",
            "<html><body><h1>Title</h1><p>Body &amp; soul</p></body></html>",
        )
        .await;
    attach(&app, &store, json!({"file_id": file})).await;
    settled_file(&app, &store, &file).await;
    let content = app
        .app()
        .get(&format!("/v1/vector_stores/{store}/files/{file}/content"))
        .await
        .json();
    let text = content["data"][0]["text"].as_str().unwrap();
    assert_eq!(
        text.split_whitespace().collect::<Vec<_>>(),
        ["Title", "Body", "&", "soul"]
    );
}

#[tokio::test]
async fn unsupported_and_binary_files_fail_with_last_error() {
    let app = VsApp::new().await;
    let store = empty_store(&app).await;
    let image = app
        .files
        .upload("photo.png", "assistants", b"\x89PNG\r\n\x1a\n\0\0")
        .await;
    let image = image["id"].as_str().unwrap();
    let garbage = app
        .files
        .upload("data.txt", "assistants", b"\xff\xfe\x00binary")
        .await;
    let garbage = garbage["id"].as_str().unwrap();
    for id in [image, garbage] {
        attach(&app, &store, json!({"file_id": id})).await;
    }
    let failed = settled_file(&app, &store, image).await;
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["last_error"]["code"], "unsupported_file");
    assert_eq!(failed["usage_bytes"], 0);
    let invalid = settled_file(&app, &store, garbage).await;
    assert_eq!(invalid["last_error"]["code"], "invalid_file");
    let counts = app.settled_store(&store).await["file_counts"].clone();
    assert_eq!(
        counts,
        json!({"in_progress": 0, "completed": 0, "failed": 2, "cancelled": 0, "total": 2})
    );
    let failed_only = app
        .app()
        .get(&format!("/v1/vector_stores/{store}/files?filter=failed"))
        .await
        .json();
    assert_eq!(failed_only["data"].as_array().unwrap().len(), 2);
    let completed_only = app
        .app()
        .get(&format!("/v1/vector_stores/{store}/files?filter=completed"))
        .await
        .json();
    assert_eq!(completed_only["data"], json!([]));
}

#[tokio::test]
async fn files_list_newest_first_with_both_cursors() {
    let app = VsApp::new().await;
    let store = empty_store(&app).await;
    let mut ids = Vec::new();
    for i in 0..4 {
        let id = app.upload(&format!("f{i}.txt"), &format!("text {i}")).await;
        attach(&app, &store, json!({"file_id": id})).await;
        ids.push(id);
    }
    let base = format!("/v1/vector_stores/{store}/files");
    let page = app.app().get(&format!("{base}?limit=2")).await.json();
    assert_eq!(page["first_id"], ids[3].as_str());
    assert_eq!(page["last_id"], ids[2].as_str());
    assert_eq!(page["has_more"], true);
    let before = app
        .app()
        .get(&format!("{base}?limit=2&before={}", ids[1]))
        .await
        .json();
    assert_eq!(before["first_id"], ids[3].as_str());
    assert_eq!(before["last_id"], ids[2].as_str());
    let bad = app.app().get(&format!("{base}?filter=done")).await;
    assert_error(
        &bad,
        400,
        "Invalid value: 'done'. Supported values are: 'in_progress', 'completed', 'failed', and 'cancelled'.",
        Some("filter"),
        Some("invalid_value"),
    );
}

#[tokio::test]
async fn attributes_are_checked_and_replaced() {
    let app = VsApp::new().await;
    let store = empty_store(&app).await;
    let file = app.upload("a.txt", "alpha").await;
    let too_many: serde_json::Map<String, Value> =
        (0..17).map(|i| (format!("k{i}"), json!(i))).collect();
    let rejected = app
        .app()
        .post(
            &format!("/v1/vector_stores/{store}/files"),
            json!({"file_id": file, "attributes": too_many}),
        )
        .await;
    assert_eq!(rejected.status, StatusCode::BAD_REQUEST);
    assert_eq!(rejected.json()["error"]["param"], "attributes");
    let nested = app
        .app()
        .post(
            &format!("/v1/vector_stores/{store}/files"),
            json!({"file_id": file, "attributes": {"a": {"b": 1}}}),
        )
        .await;
    assert_eq!(nested.json()["error"]["param"], "attributes.a");
    attach(
        &app,
        &store,
        json!({"file_id": file, "attributes": {"a": 1}}),
    )
    .await;
    let updated = app
        .app()
        .create(
            &format!("/v1/vector_stores/{store}/files/{file}"),
            json!({"attributes": {"year": 2024, "draft": false, "team": "red"}}),
        )
        .await;
    assert_eq!(
        updated["attributes"],
        json!({"year": 2024, "draft": false, "team": "red"})
    );
    let fetched = app
        .app()
        .get(&format!("/v1/vector_stores/{store}/files/{file}"))
        .await
        .json();
    assert_eq!(fetched["attributes"], updated["attributes"]);
}

#[tokio::test]
async fn static_chunking_is_echoed_and_bounded() {
    let app = VsApp::new().await;
    let store = empty_store(&app).await;
    let file = app.upload("a.txt", "alpha").await;
    let strategy = json!({"type": "static", "static": {"max_chunk_size_tokens": 1200, "chunk_overlap_tokens": 250}});
    let attached = attach(
        &app,
        &store,
        json!({"file_id": file, "chunking_strategy": strategy}),
    )
    .await;
    assert_eq!(attached["chunking_strategy"], strategy);
    let auto = attach(
        &app,
        &store,
        json!({"file_id": file, "chunking_strategy": {"type": "auto"}}),
    )
    .await;
    assert_eq!(
        auto["chunking_strategy"],
        json!({"type": "static", "static": {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 400}})
    );
    let path = format!("/v1/vector_stores/{store}/files");
    let small = app
        .app()
        .post(&path, json!({"file_id": file, "chunking_strategy": {"type": "static", "static": {"max_chunk_size_tokens": 99, "chunk_overlap_tokens": 0}}}))
        .await;
    assert_error(
        &small,
        400,
        "Invalid 'chunking_strategy.static.max_chunk_size_tokens': integer below minimum value. Expected a value >= 100, but got 99 instead.",
        Some("chunking_strategy.static.max_chunk_size_tokens"),
        Some("integer_below_min_value"),
    );
    let overlap = app
        .app()
        .post(&path, json!({"file_id": file, "chunking_strategy": {"type": "static", "static": {"max_chunk_size_tokens": 200, "chunk_overlap_tokens": 101}}}))
        .await;
    assert_eq!(overlap.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        overlap.json()["error"]["param"],
        "chunking_strategy.static.chunk_overlap_tokens"
    );
}

#[tokio::test]
async fn long_files_are_cut_into_overlapping_chunks() {
    let app = VsApp::new().await;
    let store = empty_store(&app).await;
    let text: String = (0..3000).map(|i| format!("word{i} ")).collect();
    let file = app.upload("long.txt", &text).await;
    let strategy = json!({"type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 50}});
    attach(
        &app,
        &store,
        json!({"file_id": file, "chunking_strategy": strategy}),
    )
    .await;
    let done = settled_file(&app, &store, &file).await;
    let usage = done["usage_bytes"].as_i64().unwrap();
    // Overlap of half a chunk stores the text about twice, plus 1,024 bytes per chunk.
    assert!(usage > 2 * text.len() as i64, "{usage}");
    let hits = app
        .search(&store, json!({"query": "word2999", "max_num_results": 50}))
        .await;
    let data = hits["data"].as_array().unwrap();
    assert!(!data.is_empty() && data.len() <= 2, "{hits}");
    assert!(data[0]["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("word2999"));
}

#[tokio::test]
async fn detaching_keeps_the_file_and_unknown_ids_are_404() {
    let app = VsApp::new().await;
    let (store, files) = app.store_with(&[("a.txt", "alpha beta")]).await;
    let path = format!("/v1/vector_stores/{store}/files/{}", files[0]);
    let deleted = app.app().delete(&path).await.json();
    assert_eq!(
        deleted,
        json!({"id": files[0], "object": "vector_store.file.deleted", "deleted": true})
    );
    assert_eq!(app.app().get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.app().delete(&path).await.status, StatusCode::NOT_FOUND);
    let hits = app.search(&store, json!({"query": "alpha"})).await;
    assert_eq!(hits["data"], json!([]));
    let settled = app.settled_store(&store).await;
    assert_eq!(settled["file_counts"]["total"], 0);
    assert_eq!(settled["usage_bytes"], 0);
    let unknown = app
        .app()
        .post(
            &format!("/v1/vector_stores/{store}/files"),
            json!({"file_id": "file-nope"}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    let missing_store = app
        .app()
        .post(
            "/v1/vector_stores/vs_nope/files",
            json!({"file_id": files[0]}),
        )
        .await;
    assert_error(
        &missing_store,
        404,
        "No vector store found with id 'vs_nope'.",
        None,
        None,
    );
}

#[tokio::test]
async fn ingestion_resumes_after_a_restart() {
    let database = std::sync::Arc::new(TestDatabase::reconnectable().await);
    let data = tempfile::tempdir().unwrap();
    let mut paused = database.settings();
    paused.data_dir = data.path().to_path_buf();
    paused.ingest_workers = 0;
    let first = VsApp::on(database.clone(), paused.clone(), data).await;
    let file = first.upload("a.txt", "resumable text").await;
    let store = first.create_store(json!({"file_ids": [file]})).await;
    let store = store["id"].as_str().unwrap().to_owned();
    let waiting = first
        .app()
        .get(&format!("/v1/vector_stores/{store}"))
        .await
        .json();
    assert_eq!(waiting["status"], "in_progress");
    let VsApp { files, state } = first;
    state.store.close().await;
    let mut restarted = paused;
    restarted.ingest_workers = 2;
    let second = VsApp::on(database, restarted, files.data).await;
    assert_eq!(second.state.ingest.resume().await.unwrap(), 1);
    let done = second.settled_store(&store).await;
    assert_eq!(done["status"], "completed", "{done}");
    let hits = second.search(&store, json!({"query": "resumable"})).await;
    assert_eq!(hits["data"][0]["file_id"], file.as_str());
}

#[tokio::test]
async fn attributes_set_during_ingestion_survive_it() {
    let app = VsApp::with(|mut s| {
        s.ingest_workers = 0;
        s
    })
    .await;
    let store = empty_store(&app).await;
    let file = app.upload("a.txt", "kept attributes").await;
    attach(
        &app,
        &store,
        json!({"file_id": file, "attributes": {"v": 1}}),
    )
    .await;
    let path = format!("/v1/vector_stores/{store}/files/{file}");
    let updated = app
        .app()
        .create(&path, json!({"attributes": {"v": 2}}))
        .await;
    assert_eq!(updated["status"], "in_progress");
    let workers =
        server::vector_stores::Ingestor::new(app.state.store.clone(), app.state.data.clone(), 1);
    assert_eq!(workers.resume().await.unwrap(), 1);
    let done = settled_file(&app, &store, &file).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["attributes"], json!({"v": 2}));
    assert_eq!(done["usage_bytes"], "kept attributes".len() + 1024);
    assert_eq!(done["last_error"], Value::Null);
}

#[tokio::test]
async fn deleting_a_file_detaches_it_from_every_store_that_ingested_it() {
    let app = VsApp::new().await;
    let (first, files) = app
        .store_with(&[("a.txt", "alpha beta"), ("b.txt", "alpha gamma")])
        .await;
    let second = app.create_store(json!({"file_ids": [files[0]]})).await;
    let second = second["id"].as_str().unwrap().to_owned();
    app.settled_store(&second).await;
    for store in [&first, &second] {
        let hits = app.search(store, json!({"query": "beta"})).await;
        assert_eq!(hits["data"][0]["file_id"], files[0].as_str());
    }

    let deleted = app.app().delete(&format!("/v1/files/{}", files[0])).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text);

    for store in [&first, &second] {
        let hits = app.search(store, json!({"query": "beta"})).await;
        assert_eq!(hits["data"], json!([]), "deleted file still searchable");
        let path = format!("/v1/vector_stores/{store}/files/{}", files[0]);
        assert_eq!(app.app().get(&path).await.status, StatusCode::NOT_FOUND);
    }
    let first_store = app.settled_store(&first).await;
    assert_eq!(first_store["file_counts"]["total"], 1);
    let hits = app.search(&first, json!({"query": "alpha"})).await;
    assert_eq!(hits["data"].as_array().unwrap().len(), 1);
    assert_eq!(hits["data"][0]["file_id"], files[1].as_str());
    assert_eq!(app.settled_store(&second).await["file_counts"]["total"], 0);
}
