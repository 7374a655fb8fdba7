//! The stub implementation and fixture helpers shared by the `runner_*` tests: an axum server on
//! port 0 with a few OpenAI-like routes, an in-memory catalogue, and scenario YAML builders.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use conformance::spec::Family;
use conformance::{run_with, InMemoryCatalog, Results, RunConfig};
use serde_json::{json, Value};

/// Counts DELETE requests, to prove cleanup ran.
#[derive(Clone, Default)]
pub(crate) struct Stub {
    /// DELETE requests received.
    pub deletes: Arc<AtomicUsize>,
}

pub(crate) fn openai_json(status: StatusCode, body: Value) -> Response {
    let text = serde_json::to_string_pretty(&body).unwrap();
    (
        status,
        [
            ("content-type", "application/json"),
            ("openai-version", "2020-10-01"),
            ("x-request-id", "req_0123456789abcdef0123456789abcdef"),
        ],
        text,
    )
        .into_response()
}

/// Like [`openai_json`] with another indent and a trailing newline, as OpenAI's edge renders
/// its 401s (four spaces).
pub(crate) fn openai_json_indented(indent: &[u8], body: Value) -> Response {
    let mut text = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(indent);
    serde::Serialize::serialize(
        &body,
        &mut serde_json::Serializer::with_formatter(&mut text, formatter),
    )
    .unwrap();
    text.push(b'\n');
    let headers = [
        ("content-type", "application/json; charset=utf-8"),
        ("openai-version", "2020-10-01"),
        ("x-request-id", "req_0123456789abcdef0123456789abcdef"),
    ];
    (StatusCode::OK, headers, text).into_response()
}

pub(crate) fn header(headers: &HeaderMap, name: &str) -> Value {
    headers
        .get(name)
        .map_or(Value::Null, |v| json!(v.to_str().unwrap()))
}

pub(crate) async fn create_thing(headers: HeaderMap, body: String) -> Response {
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    openai_json(
        StatusCode::OK,
        json!({
            "id": "thing_abcdefgh1234",
            "object": "thing",
            "name": body.get("name").cloned().unwrap_or(Value::Null),
            "auth": header(&headers, "authorization"),
            "beta": header(&headers, "openai-beta"),
            "custom": header(&headers, "x-custom"),
        }),
    )
}

pub(crate) async fn get_thing(Path(id): Path<String>) -> Response {
    openai_json(
        StatusCode::OK,
        json!({"id": id, "object": "thing", "name": "wrong"}),
    )
}

pub(crate) async fn delete_thing(State(stub): State<Stub>, Path(id): Path<String>) -> Response {
    stub.deletes.fetch_add(1, Ordering::SeqCst);
    openai_json(
        StatusCode::OK,
        json!({"id": id, "object": "thing.deleted", "deleted": true}),
    )
}

pub(crate) async fn unordered() -> Response {
    openai_json(
        StatusCode::OK,
        json!({"object": "thing", "id": "thing_abcdefgh1234"}),
    )
}

pub(crate) async fn invalid_url() -> Response {
    let error = json!({"error": {"message": "Invalid URL (GET /v1/widgets)", "type": "invalid_request_error", "param": null, "code": null}});
    openai_json(StatusCode::NOT_FOUND, error)
}

/// A web framework's answer to a route it lacks (FastAPI's words).
pub(crate) async fn framework_not_found() -> Response {
    openai_json(StatusCode::NOT_FOUND, json!({"detail": "Not Found"}))
}

pub(crate) async fn spawn_stub() -> (String, Stub) {
    let stub = Stub::default();
    let app = Router::new()
        .route("/v1/things", post(create_thing))
        .route("/v1/things/{id}", get(get_thing).delete(delete_thing))
        .route("/v1/unordered", get(unordered))
        .route(
            "/v1/four",
            get(|| async { openai_json_indented(b"    ", json!({"id": "thing_abcdefgh1234"})) }),
        )
        .route(
            "/v1/compact",
            get(|| async {
                (
                    [("content-type", "application/json")],
                    r#"{"id":"thing_abcdefgh1234"}"#,
                )
            }),
        )
        .route(
            "/v1/html",
            get(|| async { ([("content-type", "text/html")], "<html>busy</html>") }),
        )
        .route(
            "/v1/partial",
            get(|| async { openai_json(StatusCode::OK, json!({"id": "thing_abcdefgh1234"})) }),
        )
        .route("/v1/stores", post(framework_not_found))
        .route("/v1/stores/{id}", get(framework_not_found))
        .route(
            "/v1/gone/{id}",
            get(|Path(id): Path<String>| async move {
                let message = format!("No thing found with id '{id}'.");
                let error = json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": null}});
                openai_json(StatusCode::NOT_FOUND, error)
            }),
        )
        .route(
            "/v1/refused",
            post(|| async {
                let error = json!({"error": {"message": "Missing required parameter: 'name'.", "type": "invalid_request_error", "param": "name", "code": null}});
                openai_json(StatusCode::BAD_REQUEST, error)
            }),
        )
        .fallback(invalid_url)
        .with_state(stub.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{address}/v1"), stub)
}

pub(crate) fn catalog() -> InMemoryCatalog {
    InMemoryCatalog::default()
        .with(
            "createThing",
            "POST",
            "/things",
            Family::Assistants,
            &["id", "object"],
        )
        .with(
            "getThing",
            "GET",
            "/things/{thing_id}",
            Family::Assistants,
            &["id", "object"],
        )
        .with(
            "deleteThing",
            "DELETE",
            "/things/{thing_id}",
            Family::Assistants,
            &["id", "deleted"],
        )
        .with(
            "listWidgets",
            "GET",
            "/widgets",
            Family::VectorStores,
            &["data"],
        )
        .with(
            "getUnordered",
            "GET",
            "/unordered",
            Family::VectorStores,
            &["id"],
        )
        .with(
            "getCompact",
            "GET",
            "/compact",
            Family::VectorStores,
            &["id"],
        )
        .with("getFour", "GET", "/four", Family::VectorStores, &["id"])
        .with("getHtml", "GET", "/html", Family::VectorStores, &["id"])
        .with(
            "getPartial",
            "GET",
            "/partial",
            Family::VectorStores,
            &["id", "object"],
        )
        .with(
            "createStore",
            "POST",
            "/stores",
            Family::VectorStores,
            &["id"],
        )
        .with(
            "getStore",
            "GET",
            "/stores/{store_id}",
            Family::VectorStores,
            &["id"],
        )
        .with(
            "getGone",
            "GET",
            "/gone/{thing_id}",
            Family::VectorStores,
            &["id"],
        )
        .with(
            "createRefused",
            "POST",
            "/refused",
            Family::VectorStores,
            &["id"],
        )
        .with("neverUsed", "GET", "/never", Family::Uploads, &[])
}

/// A fresh fixtures directory holding `files` (id → YAML).
pub(crate) fn fixtures(test: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("runner_stub")
        .join(test)
        .join("fixtures");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (id, yaml) in files {
        let file = dir.join(format!("{id}.yaml"));
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, yaml).unwrap();
    }
    std::fs::write(dir.join("README.md"), "not a scenario").unwrap();
    dir
}

pub(crate) const HEADER: &str =
    "description: A stub scenario.\nprovenance:\n  - source: the stub server in this test\n";

pub(crate) const CREATE: &str = r#"
  - name: create
    operation: createThing
    body: {name: "thing ${run_tag}"}
    capture: {thing: /id}
    expect:
      status: 200
      body:
        id: "$id:thing_"
        object: thing
        name: "$string"
        auth: "Bearer sk-stub"
        beta: assistants=v2
        custom: "yes"
"#;

pub(crate) const CLEANUP: &str = r#"
cleanup:
  - name: delete
    operation: deleteThing
    path: {thing_id: "${thing}"}
    expect:
      status: 200
      body: {id: "${thing}", object: thing.deleted, deleted: true}
"#;

pub(crate) fn scenario(steps: &str, cleanup: &str) -> String {
    format!("{HEADER}steps:{CREATE}{steps}{cleanup}")
}

pub(crate) fn config(base_url: &str, fixtures_dir: PathBuf) -> RunConfig {
    let mut config = RunConfig::new(base_url, fixtures_dir);
    config.api_key = Some("sk-stub".into());
    config.headers = vec![("X-Custom".into(), "yes".into())];
    config.jobs = 2;
    config
}

pub(crate) async fn run_files(test: &str, files: &[(&str, &str)]) -> (Results, Stub) {
    run_files_with(test, files, false).await
}

/// [`run_files`], `--strict` or not.
pub(crate) async fn run_files_with(
    test: &str,
    files: &[(&str, &str)],
    strict: bool,
) -> (Results, Stub) {
    let (base_url, stub) = spawn_stub().await;
    let mut config = config(&base_url, fixtures(test, files));
    config.strict = strict;
    let results = run_with(&config, &catalog(), &conformance::progress::Silent)
        .await
        .expect("run completes");
    (results, stub)
}

pub(crate) fn scenario_of<'a>(
    results: &'a Results,
    id: &str,
) -> &'a conformance::results::ScenarioResult {
    results
        .scenarios
        .iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| panic!("no scenario {id}"))
}

pub(crate) const GET_EXPECTING_RIGHT: &str = r#"
  - name: get
    operation: getThing
    path: {thing_id: "${thing}"}
    expect:
      status: 200
      body: {id: "${thing}", object: thing, name: right}
  - name: after
    operation: getThing
    path: {thing_id: "${thing}"}
    expect: {status: 200}
"#;

/// A one-step scenario calling `operation` (no parameters) and expecting `expect` (YAML flow map).
pub(crate) fn single_step(operation: &str, expect: &str) -> String {
    format!("{HEADER}steps:\n  - name: only\n    operation: {operation}\n    expect: {expect}\n")
}
