//! `/v1/vector_stores`: shapes against the 2025 recordings, counts and usage that
//! follow ingestion, expiry, pagination, modification, deletion (which cascades),
//! errors and tenant isolation.

mod extract;
mod file_batches;
mod files;
mod recordings;
mod search;

use crate::support::files::hex_id_redaction;
use crate::support::vector_stores::VsApp;
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use server::store::Tenant;
use testkit::{assert_error, timestamp_redaction, OTHER_KEY};

/// Keys of a vector store in the recorded 2025 order.
const STORE_KEYS: [&str; 12] = [
    "id",
    "object",
    "created_at",
    "name",
    "description",
    "usage_bytes",
    "file_counts",
    "status",
    "expires_after",
    "expires_at",
    "last_active_at",
    "metadata",
];

fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

#[tokio::test]
async fn empty_store_has_the_recorded_shape_without_a_beta_header() {
    let app = VsApp::new().await;
    let request = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/v1/vector_stores")
        .header("authorization", format!("Bearer {}", testkit::KEY))
        .body(axum::body::Body::from("{}"))
        .unwrap();
    let response = app.app().send(request).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    let store = response.json();
    assert_eq!(keys(&store), STORE_KEYS);
    assert_eq!(store["created_at"], store["last_active_at"]);
    insta::assert_json_snapshot!(store, {
        ".id" => hex_id_redaction("vs_"),
        ".created_at" => timestamp_redaction(),
        ".last_active_at" => timestamp_redaction(),
    });
}

#[tokio::test]
async fn files_start_in_progress_and_the_store_completes_with_counts_and_usage() {
    let app = VsApp::new().await;
    // 21 bytes, like the recorded test files, which used 1,045 bytes once ingested.
    let file = app
        .upload("test_file_000.txt", "This is a test file 0")
        .await;
    let store = app
        .create_store(json!({
            "file_ids": [file],
            "name": "test vector store",
            "expires_after": {"anchor": "last_active_at", "days": 3},
            "metadata": {"test-key": "test-value"}
        }))
        .await;
    assert_eq!(store["status"], "in_progress");
    assert_eq!(
        store["file_counts"],
        json!({"in_progress": 1, "completed": 0, "failed": 0, "cancelled": 0, "total": 1})
    );
    assert_eq!(store["usage_bytes"], 0);
    assert_eq!(
        store["expires_at"].as_i64().unwrap(),
        store["last_active_at"].as_i64().unwrap() + 3 * 86_400
    );
    let id = store["id"].as_str().unwrap();
    let done = app.settled_store(id).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(
        done["file_counts"],
        json!({"in_progress": 0, "completed": 1, "failed": 0, "cancelled": 0, "total": 1})
    );
    assert_eq!(done["usage_bytes"], 1045);
}

#[tokio::test]
async fn stores_list_newest_first_and_paginate() {
    let app = VsApp::new().await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let store = app.create_store(json!({"name": format!("s{i}")})).await;
        ids.push(store["id"].as_str().unwrap().to_owned());
    }
    let first = app.app().get("/v1/vector_stores?limit=2").await.json();
    assert_eq!(first["object"], "list");
    assert_eq!(
        keys(&first),
        ["object", "data", "first_id", "last_id", "has_more"]
    );
    assert_eq!(first["data"][0]["id"], ids[2].as_str());
    assert_eq!(first["has_more"], true);
    let after = first["last_id"].as_str().unwrap();
    let second = app
        .app()
        .get(&format!("/v1/vector_stores?limit=2&after={after}"))
        .await
        .json();
    assert_eq!(second["data"].as_array().unwrap().len(), 1);
    assert_eq!(second["data"][0]["id"], ids[0].as_str());
    assert_eq!(second["has_more"], false);
    let ascending = app.app().get("/v1/vector_stores?order=asc").await.json();
    assert_eq!(ascending["first_id"], ids[0].as_str());
}

#[tokio::test]
async fn modify_changes_name_metadata_and_expiry() {
    let app = VsApp::new().await;
    let store = app.create_store(json!({"name": "a"})).await;
    let id = store["id"].as_str().unwrap();
    let changed = app
        .app()
        .create(
            &format!("/v1/vector_stores/{id}"),
            json!({"name": "b", "metadata": {"k": "v"},
                   "expires_after": {"anchor": "last_active_at", "days": 1}}),
        )
        .await;
    assert_eq!(changed["name"], "b");
    assert_eq!(changed["metadata"], json!({"k": "v"}));
    assert_eq!(
        changed["expires_after"],
        json!({"anchor": "last_active_at", "days": 1})
    );
    assert_eq!(
        changed["expires_at"].as_i64().unwrap(),
        changed["last_active_at"].as_i64().unwrap() + 86_400
    );
    let cleared = app
        .app()
        .create(
            &format!("/v1/vector_stores/{id}"),
            json!({"expires_after": null}),
        )
        .await;
    assert_eq!(cleared["expires_after"], Value::Null);
    assert_eq!(cleared["expires_at"], Value::Null);
    assert_eq!(cleared["name"], "b");
}

#[tokio::test]
async fn delete_answers_the_deletion_object_and_cascades() {
    let app = VsApp::new().await;
    let (id, files) = app
        .store_with(&[("a.txt", "Saturn has rings of ice.")])
        .await;
    let tenant = Tenant::from_api_key(testkit::KEY);
    let ids = vec![id.clone()];
    let before = app.state.store.term_matches(&tenant, &ids, "saturn").await;
    assert_eq!(before.unwrap().len(), 1);
    let deleted = app.app().delete(&format!("/v1/vector_stores/{id}")).await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(
        deleted.json(),
        json!({"id": id, "object": "vector_store.deleted", "deleted": true})
    );
    assert_eq!(keys(&deleted.json()), ["id", "object", "deleted"]);
    let after = app.state.store.term_matches(&tenant, &ids, "saturn").await;
    assert!(after.unwrap().is_empty(), "chunks outlived their store");
    let gone = app
        .app()
        .get(&format!("/v1/vector_stores/{id}/files/{}", files[0]))
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    // The File itself stays.
    let file = app.app().get(&format!("/v1/files/{}", files[0])).await;
    assert_eq!(file.status, StatusCode::OK);
}

#[tokio::test]
async fn unknown_stores_answer_404_with_openais_message() {
    let app = VsApp::new().await;
    for method in [Method::GET, Method::DELETE] {
        let response = app
            .app()
            .call(method, "/v1/vector_stores/vs_missing", None)
            .await;
        assert_error(
            &response,
            404,
            "No vector store found with id 'vs_missing'.",
            None,
            None,
        );
    }
}

#[tokio::test]
async fn bad_bodies_are_rejected_before_anything_is_written() {
    let app = VsApp::new().await;
    let cases = [
        (json!({"nme": "x"}), "Unknown parameter: 'nme'."),
        (
            json!({"expires_after": {"anchor": "created_at", "days": 1}}),
            "Invalid value: 'created_at'. Supported values are: 'last_active_at'.",
        ),
        (
            json!({"file_ids": ["file-nope"]}),
            "No file found with id 'file-nope'.",
        ),
    ];
    for (body, message) in cases {
        let response = app.app().post("/v1/vector_stores", body).await;
        assert_eq!(
            response.status,
            StatusCode::BAD_REQUEST,
            "{}",
            response.text
        );
        assert_eq!(response.message(), message);
    }
    let days = app
        .app()
        .post(
            "/v1/vector_stores",
            json!({"expires_after": {"anchor": "last_active_at", "days": 366}}),
        )
        .await;
    assert_eq!(days.json()["error"]["param"], "expires_after.days");
    let listed = app.app().get("/v1/vector_stores").await.json();
    assert_eq!(listed["data"], json!([]));
}

#[tokio::test]
async fn tenants_never_see_each_others_stores() {
    let app = VsApp::new().await;
    let store = app.create_store(json!({"name": "mine"})).await;
    let id = store["id"].as_str().unwrap();
    let path = format!("/v1/vector_stores/{id}");
    for method in [Method::GET, Method::DELETE] {
        let response = app.app().call_as(OTHER_KEY, method, &path, None).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND);
    }
    let theirs = app
        .app()
        .call_as(OTHER_KEY, Method::GET, "/v1/vector_stores", None)
        .await;
    assert_eq!(theirs.json()["data"], json!([]));
    // A tenant cannot attach another tenant's file either.
    let file = app.upload("x.txt", "private").await;
    let response = app
        .app()
        .call_as(
            OTHER_KEY,
            Method::POST,
            "/v1/vector_stores",
            Some(&json!({"file_ids": [file]}).to_string()),
        )
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
}
