//! Bad input never produces a 500, a non-JSON answer or a partial write: every
//! malformed request gets OpenAI's envelope with a 4xx status.

mod common;

use axum::body::Body;
use axum::http::{Method, Request};
use common::{TestApp, KEY};
use server::Settings;

async fn assert_client_error(
    app: &TestApp,
    method: Method,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) {
    let request = Request::builder()
        .method(method.clone())
        .uri(path)
        .header("authorization", format!("Bearer {KEY}"))
        .header("openai-beta", "assistants=v2")
        .header("content-type", content_type)
        .body(Body::from(body.clone()))
        .unwrap();
    let response = app.send(request).await;
    assert!(
        response.status.is_client_error(),
        "{method} {path} {:?} -> {} {}",
        String::from_utf8_lossy(&body),
        response.status,
        response.text
    );
    let json = response.json();
    let error = json["error"].as_object().expect("error envelope");
    assert!(error["message"].is_string() && error["type"].is_string());
}

#[tokio::test]
async fn malformed_bodies_are_client_errors() {
    let app = TestApp::new().await;
    let thread = app.create("/v1/threads", serde_json::json!({})).await;
    let thread_id = thread["id"].as_str().unwrap();
    let paths = [
        "/v1/assistants".to_owned(),
        "/v1/threads".to_owned(),
        format!("/v1/threads/{thread_id}"),
        format!("/v1/threads/{thread_id}/messages"),
    ];
    let bodies: Vec<&[u8]> = vec![
        b"{",
        b"[]",
        b"\"text\"",
        b"42",
        b"null",
        b"\xff\xfe\xfd",
        b"{\"model\": \"\xff\"}",
        b"{\"metadata\": []}",
        b"{\"metadata\": {\"a\": 1}}",
        b"{\"tools\": {}}",
        b"{\"tools\": [1]}",
        b"{\"tools\": [{\"type\": \"function\"}]}",
        b"{\"tools\": [{\"type\": \"function\", \"function\": {\"name\": 1}}]}",
        b"{\"tool_resources\": {\"code_interpreter\": {\"file_ids\": \"x\"}}}",
        b"{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\"}]}]}",
        b"{\"messages\": \"hello\"}",
        b"{\"role\": 1, \"content\": null}",
        b"{\"temperature\": \"hot\"}",
        b"{\"top_p\": 7}",
        b"{\"response_format\": \"yaml\"}",
        b"{\"content\": {\"x\": 1}, \"role\": \"user\"}",
        b"a=b&c=d",
    ];
    for path in &paths {
        for body in &bodies {
            for content_type in [
                "application/json",
                "text/plain",
                "application/x-www-form-urlencoded",
            ] {
                assert_client_error(&app, Method::POST, path, content_type, body.to_vec()).await;
            }
        }
    }
}

#[tokio::test]
async fn oversized_bodies_get_413_in_the_envelope() {
    let settings = Settings {
        max_body_bytes: 1024,
        ..Settings::new("sqlite::memory:")
    };
    let app = TestApp::with_settings(settings).await;
    let body = format!(
        "{{\"model\": \"gpt-4o\", \"instructions\": \"{}\"}}",
        "x".repeat(4096)
    );
    let response = app.call(Method::POST, "/v1/assistants", Some(&body)).await;
    assert_eq!(response.status, 413, "{}", response.text);
    assert_eq!(response.json()["error"]["type"], "invalid_request_error");
}

#[tokio::test]
async fn odd_paths_and_queries_are_client_errors() {
    let app = TestApp::new().await;
    for path in [
        "/v1/assistants/%FF%FE",
        "/v1/threads/%C0/messages",
        "/v1/assistants?limit=-5",
        "/v1/assistants?limit=1.5",
        "/v1/assistants?limit=99999999999999999999",
        "/v1/assistants?order=",
    ] {
        let response = app.get(path).await;
        assert!(
            response.status.is_client_error(),
            "{path} -> {} {}",
            response.status,
            response.text
        );
        assert!(response.json()["error"]["message"].is_string());
    }
}
