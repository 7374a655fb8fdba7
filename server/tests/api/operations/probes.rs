//! `/healthz` and `/readyz`: answered without a key, on the main address and the operator
//! listener; readiness fails when a migration is missing, the pool is closed or shutdown
//! began.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;
use server::AppState;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::support::Served;
use testkit::{assert_error, TestApp, TestDatabase, TestResponse};

fn bare(method: Method, path: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .body(Body::empty())
        .unwrap()
}

async fn probe(app: &TestApp, path: &str) -> TestResponse {
    app.send(bare(Method::GET, path)).await
}

/// An app on a SQLite file (another connection can then damage it) and its state.
/// SQLite-only: the damage is done through SQLite's own pool.
async fn app_on_file() -> (TestApp, AppState, String) {
    let database = TestDatabase::sqlite_file();
    let url = database.url().to_owned();
    let state = AppState::from_settings(&database.settings()).await.unwrap();
    let app = TestApp::from_state(database, state.clone());
    (app, state, url)
}

#[tokio::test]
async fn probes_answer_without_a_key() {
    let app = TestApp::new().await;
    let health = probe(&app, "/healthz").await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.json(), json!({"status": "ok"}));
    assert!(health.headers.contains_key("x-request-id"));
    let ready = probe(&app, "/readyz").await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text);
    assert_eq!(ready.json(), json!({"status": "ready"}));
    // Only GET: other methods are unknown URLs, without an `Allow` header.
    let post = app.send(bare(Method::POST, "/healthz")).await;
    assert_error(&post, 404, "Invalid URL (POST /healthz)", None, None);
    assert!(post.headers.get("allow").is_none());
}

#[tokio::test]
async fn readyz_fails_when_an_applied_migration_is_lost() {
    let (app, _state, url) = app_on_file().await;
    let other = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = 14")
        .execute(&other)
        .await
        .unwrap();
    other.close().await;
    let ready = probe(&app, "/readyz").await;
    assert_eq!(
        ready.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        ready.text
    );
    let body = ready.json();
    assert_eq!(body["status"], "unavailable");
    let reason = body["reason"].as_str().unwrap();
    assert!(
        reason.contains("migration 14") && reason.contains("not applied"),
        "{reason}"
    );
    // The process is still up.
    assert_eq!(probe(&app, "/healthz").await.status, StatusCode::OK);
}

#[tokio::test]
async fn readyz_fails_once_the_database_pool_is_closed() {
    let (app, state, _url) = app_on_file().await;
    assert_eq!(probe(&app, "/readyz").await.status, StatusCode::OK);
    state.store.close().await;
    let ready = probe(&app, "/readyz").await;
    assert_eq!(
        ready.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        ready.text
    );
    assert!(
        ready.json()["reason"].as_str().unwrap().contains("closed"),
        "{}",
        ready.text
    );
}

#[tokio::test]
async fn the_operator_listener_serves_probes_and_metrics_without_a_key() {
    let served = Served::start(|_| {}).await;
    let client = reqwest::Client::new();
    for path in ["/healthz", "/readyz", "/metrics"] {
        let response = client
            .get(format!("{}{path}", served.operator))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
    let other = client
        .get(format!("{}/v1/assistants", served.operator))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404, "the operator listener serves no API");
    served.stop().await;
}

#[tokio::test]
async fn readyz_fails_while_open_requests_drain_at_shutdown() {
    let mut served = Served::start(|_| {}).await;
    let client = reqwest::Client::new();
    let readyz = format!("{}/readyz", served.operator);
    assert_eq!(client.get(&readyz).send().await.unwrap().status(), 200);
    // A request whose handler waits for its body keeps the API draining; `100 Continue`
    // says the handler is reading it.
    let address = served.api.trim_start_matches("http://").to_owned();
    let mut open = tokio::net::TcpStream::connect(&address).await.unwrap();
    open.write_all(
        b"POST /v1/assistants HTTP/1.1\r\nhost: x\r\nauthorization: Bearer sk-a\r\n\
          openai-beta: assistants=v2\r\ncontent-type: application/json\r\n\
          expect: 100-continue\r\ncontent-length: 100\r\n\r\n",
    )
    .await
    .unwrap();
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).contains("100 Continue") {
        let mut chunk = [0u8; 256];
        let read = open.read(&mut chunk).await.unwrap();
        assert!(read > 0, "closed: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&chunk[..read]);
    }
    served.begin_shutdown();
    let mut reason = None;
    for _ in 0..1000 {
        let response = client.get(&readyz).send().await.unwrap();
        if response.status() == 503 {
            let body: serde_json::Value = response.json().await.unwrap();
            reason = body["reason"].as_str().map(str::to_owned);
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(reason.as_deref(), Some("shutting down"));
    drop(open);
    served.stop().await;
}
