//! Bad input never produces a 500, a non-JSON answer or a partial write: every
//! malformed request gets OpenAI's envelope with a 4xx status.

use axum::body::Body;
use axum::http::{Method, Request};
use testkit::{TestApp, KEY};

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
    let app = TestApp::configured(|settings| settings.max_body_bytes = 1024).await;
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

/// Every validation message the server can produce for these inputs, in one
/// reviewed snapshot (texts not quoted from OpenAI follow its message patterns).
#[tokio::test]
async fn error_catalogue() {
    let app = TestApp::new().await;
    let thread = app.create("/v1/threads", serde_json::json!({})).await;
    let messages = format!("/v1/threads/{}/messages", thread["id"].as_str().unwrap());
    let cases: Vec<(&str, String, &str)> = vec![
        ("POST", "/v1/assistants".into(), "[]"),
        (
            "POST",
            "/v1/assistants".into(),
            r#"{"model": "gpt-4o", "temperature": 3}"#,
        ),
        (
            "POST",
            "/v1/assistants".into(),
            r#"{"model": "gpt-4o", "top_p": -1}"#,
        ),
        (
            "POST",
            "/v1/assistants".into(),
            r#"{"model": "gpt-4o", "temperature": "hot"}"#,
        ),
        (
            "POST",
            "/v1/assistants".into(),
            r#"{"model": "gpt-4o", "reasoning_effort": "max"}"#,
        ),
        (
            "POST",
            "/v1/assistants".into(),
            r#"{"model": "gpt-4o", "response_format": {"type": "yaml"}}"#,
        ),
        (
            "POST",
            "/v1/assistants".into(),
            r#"{"model": "gpt-4o", "tools": [{"type": "function", "function": {}}]}"#,
        ),
        (
            "POST",
            "/v1/assistants".into(),
            r#"{"model": "gpt-4o", "metadata": {"k": []}}"#,
        ),
        (
            "POST",
            "/v1/assistants".into(),
            r#"{"model": "gpt-4o", "name": "n", "description": 1}"#,
        ),
        (
            "POST",
            "/v1/assistants".into(),
            r#"{"model": "gpt-4o", "tool_resources": {"file_search": {"vector_stores": [{"file_ids": [7]}]}}}"#,
        ),
        (
            "POST",
            "/v1/threads".into(),
            r#"{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "u", "detail": "max"}}]}]}"#,
        ),
        (
            "POST",
            "/v1/threads".into(),
            r#"{"metadata": {"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk": "v"}}"#,
        ),
        (
            "POST",
            messages.clone(),
            r#"{"role": "user", "content": "x", "attachments": [{"file_id": "f", "tools": [{"type": "web"}]}]}"#,
        ),
        (
            "POST",
            messages.clone(),
            r#"{"role": "user", "content": []}"#,
        ),
        ("GET", format!("{messages}?limit=x"), ""),
        (
            "GET",
            "/v1/threads/thread_abc/messages/message_1".into(),
            "",
        ),
    ];
    let mut catalogue = Vec::new();
    for (method, path, body) in cases {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let body = (!body.is_empty()).then_some(body);
        let response = app.call(method.clone(), &path, body).await;
        assert!(
            response.status.is_client_error(),
            "{method} {path}: {}",
            response.text
        );
        let path = path.replace(thread["id"].as_str().unwrap(), "thread_ID");
        catalogue.push(serde_json::json!({
            "request": format!("{method} {path} {}", body.unwrap_or_default()),
            "status": response.status.as_u16(),
            "error": response.json()["error"],
        }));
    }
    insta::assert_json_snapshot!(catalogue);
}
