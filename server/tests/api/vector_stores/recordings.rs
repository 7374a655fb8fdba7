//! Compares the key order of every vector store object this server writes with the
//! objects OpenAI returned in the .NET SDK's recordings (`../shared/recordings`, read
//! in place when present; never copied into the project). The September 2025
//! sessions are the reference; see `recorded_shapes` for the later variant.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::support::vector_stores::VsApp;
use serde_json::{json, Value};

fn recordings_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("VECTOR_STORE_RECORDINGS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../shared/recordings/openai-dotnet/SessionRecords/VectorStoresTests")
        });
    dir.is_dir().then_some(dir)
}

fn keys(value: &Value) -> Vec<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

/// The kind of a recorded object: its `object`, told apart for batch file items.
fn kind(value: &Value, in_batch_list: bool) -> Option<String> {
    let object = value.get("object")?.as_str()?;
    Some(if in_batch_list && object == "vector_store.file" {
        "vector_store.file (batch item)".to_owned()
    } else {
        object.to_owned()
    })
}

/// Key lists by object kind, as recorded.
fn recorded_shapes(dir: &PathBuf) -> BTreeMap<String, Vec<String>> {
    let mut shapes = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let session: Value = serde_json::from_str(&text).unwrap();
        for call in session["Entries"].as_array().unwrap() {
            let uri = call["RequestUri"].as_str().unwrap_or_default();
            let body = &call["ResponseBody"];
            // Late-2025 batches (`vsfb_ibj_…`) listed full file objects with usage
            // without overhead; this server follows the September 2025 sessions whose
            // `vsfb_` + 32 hex ids it hands out (short items, 1,045 bytes).
            if !uri.contains("/vector_stores")
                || uri.contains("vsfb_ibj_")
                || call["StatusCode"] != 200
            {
                continue;
            }
            let in_batch_list = uri.contains("/file_batches/") && uri.contains("/files");
            let mut objects = vec![body];
            if let Some(items) = body["data"].as_array() {
                objects.extend(items);
            }
            for object in objects {
                if let Some(kind) = kind(object, in_batch_list) {
                    shapes.entry(kind).or_insert_with(|| keys(object));
                }
            }
        }
    }
    shapes
}

#[tokio::test]
async fn every_object_has_the_recorded_key_order() {
    let Some(dir) = recordings_dir() else {
        eprintln!("skipped: no recordings at ../shared/recordings");
        return;
    };
    let recorded = recorded_shapes(&dir);
    assert!(recorded.len() >= 6, "too few recorded kinds: {recorded:?}");
    let app = VsApp::new().await;
    let file = app
        .upload("test_file_000.txt", "This is a test file 0")
        .await;
    let store = app.create_store(json!({"file_ids": [file]})).await;
    let id = store["id"].as_str().unwrap().to_owned();
    let settled = app.settled_store(&id).await;
    // A 21-byte file used 1,045 bytes at OpenAI.
    assert_eq!(settled["usage_bytes"], 1045);
    let attached = app
        .app()
        .get(&format!("/v1/vector_stores/{id}/files/{file}"))
        .await
        .json();
    let batch = app
        .app()
        .create(
            &format!("/v1/vector_stores/{id}/file_batches"),
            json!({"file_ids": [file]}),
        )
        .await;
    let batch_id = batch["id"].as_str().unwrap();
    let batch_files = app
        .app()
        .get(&format!(
            "/v1/vector_stores/{id}/file_batches/{batch_id}/files"
        ))
        .await
        .json();
    let list = app.app().get("/v1/vector_stores").await.json();
    let file_deleted = app
        .app()
        .delete(&format!("/v1/vector_stores/{id}/files/{file}"))
        .await
        .json();
    let store_deleted = app
        .app()
        .delete(&format!("/v1/vector_stores/{id}"))
        .await
        .json();
    let ours = [
        ("vector_store", &settled),
        ("vector_store.file", &attached),
        ("vector_store.file (batch item)", &batch_files["data"][0]),
        ("vector_store.file_batch", &batch),
        ("list", &list),
        ("vector_store.file.deleted", &file_deleted),
        ("vector_store.deleted", &store_deleted),
    ];
    let mut compared = 0;
    for (kind, value) in ours {
        let Some(expected) = recorded.get(kind) else {
            continue;
        };
        assert_eq!(&keys(value), expected, "{kind}: {value}");
        compared += 1;
    }
    assert!(compared >= 6, "only {compared} kinds compared");
}
