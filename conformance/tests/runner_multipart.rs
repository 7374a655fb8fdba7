//! File-service features of the runner against a stub on port 0: multipart request bodies (text
//! fields, file parts, `filename*`, binary content), raw-body downloads that match or do not,
//! a wrong content type, and the `/files*` trailing newline.

// Test code fails by panicking: unwrapping is how it says what broke.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use conformance::results::FindingKind;
use conformance::spec::Family;
use conformance::{run_with, InMemoryCatalog, Results, RunConfig, Verdict};

/// A request's Content-Type and body bytes.
type Request = (String, Vec<u8>);

/// The last request the stub received.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Option<Request>>>);

const FILE_JSON: &str = "{\n  \"object\": \"file\",\n  \"id\": \"file-abcdefgh12345678\"\n}";

async fn upload(State(seen): State<Seen>, headers: HeaderMap, body: Bytes) -> Response {
    let content_type = headers
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    *seen.0.lock().unwrap() = Some((content_type, body.to_vec()));
    json_with_newline(FILE_JSON)
}

fn json_with_newline(text: &str) -> Response {
    let headers = [
        ("content-type", "application/json"),
        ("openai-version", "2020-10-01"),
        ("x-request-id", "req_0123456789abcdef0123456789abcdef"),
    ];
    (headers, format!("{text}\n")).into_response()
}

async fn download() -> Response {
    let headers = [
        ("content-type", "application/octet-stream"),
        ("openai-version", "2020-10-01"),
        ("x-request-id", "req_0123456789abcdef0123456789abcdef"),
    ];
    (headers, vec![0u8, 159, 146, 150, b'\n']).into_response()
}

async fn spawn() -> (String, Seen) {
    let seen = Seen::default();
    let app = Router::new()
        .route("/v1/files", post(upload))
        .route("/v1/files/{id}/content", get(download))
        .route(
            "/v1/files/{id}",
            get(|| async { json_with_newline(FILE_JSON) }),
        )
        .route(
            "/v1/vector_stores/{id}",
            get(|| async { json_with_newline(FILE_JSON) }),
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{address}/v1"), seen)
}

fn catalog() -> InMemoryCatalog {
    InMemoryCatalog::default()
        .with("createFile", "POST", "/files", Family::Files, &["id"])
        .with(
            "retrieveFile",
            "GET",
            "/files/{file_id}",
            Family::Files,
            &["id"],
        )
        .with(
            "downloadFile",
            "GET",
            "/files/{file_id}/content",
            Family::Files,
            &[],
        )
        .with(
            "getVectorStore",
            "GET",
            "/vector_stores/{vector_store_id}",
            Family::VectorStores,
            &["id"],
        )
}

async fn run_one(test: &str, steps: &str) -> (Results, Seen) {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("runner_multipart")
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("stub")).unwrap();
    let yaml = format!(
        "description: A stub scenario.\nprovenance:\n  - source: the stub in this test\nsteps:\n{steps}"
    );
    std::fs::write(dir.join("stub/only.yaml"), yaml).unwrap();
    let (base_url, seen) = spawn().await;
    let mut config = RunConfig::new(base_url, dir);
    config.api_key = Some("sk-stub".into());
    let results = run_with(&config, &catalog(), &conformance::progress::Silent)
        .await
        .expect("run completes");
    (results, seen)
}

fn only_step(results: &Results) -> (Verdict, Vec<FindingKind>) {
    let step = &results.scenarios[0].steps[0];
    (step.verdict, step.findings.iter().map(|f| f.kind).collect())
}

#[tokio::test]
async fn multipart_bodies_carry_fields_file_parts_and_rfc5987_names() {
    let steps = r#"
  - name: upload
    operation: createFile
    multipart:
      fields: {purpose: assistants, tag: "${run_tag}"}
      files:
        file: {filename: "你好.txt", content: "hello ${model}", content_type: text/plain}
        other: {filename: "bin.dat", content_base64: "AP8K"}
    expect: {status: 200, body: {object: file, id: "$id:file-"}}
"#;
    let (results, seen) = run_one("multipart", steps).await;
    assert_eq!(only_step(&results), (Verdict::Pass, vec![]));
    let (content_type, body) = seen.0.lock().unwrap().clone().expect("the stub got a body");
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .unwrap_or_else(|| panic!("{content_type}"));
    let text = String::from_utf8_lossy(&body);
    let parts: Vec<&str> = text.split(&format!("--{boundary}")).collect();
    assert_eq!(parts.len(), 6, "{text}");
    assert_eq!(
        parts[1],
        "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nassistants\r\n"
    );
    let tag = parts[2]
        .strip_prefix("\r\nContent-Disposition: form-data; name=\"tag\"\r\n\r\n")
        .and_then(|rest| rest.strip_suffix("\r\n"))
        .unwrap_or_else(|| panic!("{}", parts[2]));
    assert!(!tag.is_empty() && !tag.contains("${"), "{tag}");
    assert_eq!(
        parts[3],
        "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"__.txt\"; \
         filename*=UTF-8''%E4%BD%A0%E5%A5%BD.txt\r\nContent-Type: text/plain\r\n\r\nhello gpt-4o\r\n"
    );
    let binary_head = b"name=\"other\"; filename=\"bin.dat\"\r\nContent-Type: application/octet-stream\r\n\r\n\x00\xff\n\r\n";
    assert!(
        body.windows(binary_head.len()).any(|w| w == binary_head),
        "the binary part is sent byte for byte: {text}"
    );
    assert_eq!(parts[5], "--\r\n");
    let request = results.scenarios[0].steps[0].request.as_ref().unwrap();
    assert!(request
        .headers
        .iter()
        .any(|(k, v)| k == "Content-Type" && v.starts_with("multipart/form-data; boundary=")));
    assert!(!request.headers.iter().any(|(k, _)| k == "OpenAI-Beta"));
}

#[tokio::test]
async fn a_matching_raw_body_and_content_type_pass() {
    let steps = r#"
  - name: content
    operation: downloadFile
    path: {file_id: file-abc}
    expect: {status: 200, content_type: application/octet-stream, raw_body: {base64: "AJ+Slgo="}}
"#;
    let (results, _) = run_one("raw-match", steps).await;
    assert_eq!(only_step(&results), (Verdict::Pass, vec![]));
}

#[tokio::test]
async fn a_different_raw_body_fails() {
    let steps = r#"
  - name: content
    operation: downloadFile
    path: {file_id: file-abc}
    expect: {status: 200, raw_body: "hello\n"}
"#;
    let (results, _) = run_one("raw-mismatch", steps).await;
    assert_eq!(
        only_step(&results),
        (Verdict::Fail, vec![FindingKind::Body])
    );
    let finding = &results.scenarios[0].steps[0].findings[0];
    assert!(finding.message.contains("at byte 0"), "{}", finding.message);
}

#[tokio::test]
async fn a_wrong_content_type_fails() {
    let steps = r#"
  - name: content
    operation: downloadFile
    path: {file_id: file-abc}
    expect: {status: 200, content_type: text/plain, raw_body: {base64: "AJ+Slgo="}}
"#;
    let (results, _) = run_one("raw-content-type", steps).await;
    assert_eq!(
        only_step(&results),
        (Verdict::Fail, vec![FindingKind::ContentType])
    );
}

#[tokio::test]
async fn file_service_bodies_end_with_one_newline_others_with_none() {
    let files = "  - name: get\n    operation: retrieveFile\n    path: {file_id: x}\n    expect: {status: 200}\n";
    let (results, _) = run_one("newline-files", files).await;
    assert_eq!(only_step(&results), (Verdict::Pass, vec![]));
    let stores = "  - name: get\n    operation: getVectorStore\n    path: {vector_store_id: x}\n    expect: {status: 200}\n";
    let (results, _) = run_one("newline-stores", stores).await;
    assert_eq!(
        only_step(&results),
        (Verdict::NonStrict, vec![FindingKind::Formatting])
    );
    let declared = "  - name: get\n    operation: getVectorStore\n    path: {vector_store_id: x}\n    expect: {status: 200, trailing_newline: true}\n";
    let (results, _) = run_one("newline-declared", declared).await;
    assert_eq!(only_step(&results), (Verdict::Pass, vec![]));
}
