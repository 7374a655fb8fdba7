//! Synthetic cassettes in each recorder's dialect (written for these tests, not copied).

use std::io::Write;

use base64::Engine;
use serde_json::json;

use super::*;

fn gzip_base64(text: &str) -> String {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(text.as_bytes()).unwrap();
    base64::engine::general_purpose::STANDARD.encode(encoder.finish().unwrap())
}

/// Splits base64 over several indented lines, as both recorders do for long bodies.
fn folded(encoded: &str, indent: &str) -> String {
    let chars: Vec<char> = encoded.chars().collect();
    chars
        .chunks(20)
        .map(|c| format!("{indent}{}\n", c.iter().collect::<String>()))
        .collect()
}

fn read(text: &str) -> Vec<Exchange> {
    let document = parse(text).unwrap();
    let flavour = recognise(&document).expect("a cassette");
    exchanges(&document, flavour).unwrap()
}

#[test]
fn ruby_string_and_gzipped_base64_string_bodies() {
    let cassette = format!(
        r#"---
http_interactions:
- request:
    method: post
    uri: https://api.openai.com/v1/threads
    body:
      encoding: UTF-8
      string: "{{}}"
  response:
    status:
      code: 200
      message: OK
    headers:
      Content-Type:
      - application/json
    body:
      encoding: UTF-8
      string: '{{"id": "thread_1", "object": "thread"}}'
  recorded_at: Mon, 01 Jan 2024 00:00:00 GMT
- request:
    method: get
    uri: https://api.openai.com/v1/threads/thread_1
  response:
    status:
      code: 404
      message: Not Found
    headers:
      Content-Type:
      - application/json
      Content-Encoding:
      - gzip
    body:
      encoding: ASCII-8BIT
      base64_string: |
{}  recorded_at: Mon, 01 Jan 2024 00:00:01 GMT
recorded_with: VCR 6.2.0
"#,
        folded(
            &gzip_base64(
                r#"{"error": {"message": "No thread found", "type": "invalid_request_error", "param": null, "code": null}}"#
            ),
            "        "
        )
    );
    let exchanges = read(&cassette);
    assert_eq!(exchanges.len(), 2);
    assert_eq!(
        (exchanges[0].method.as_str(), exchanges[0].status),
        ("POST", 200)
    );
    assert_eq!(
        exchanges[0].body,
        Body::Json(json!({"id": "thread_1", "object": "thread"}))
    );
    assert_eq!(exchanges[1].status, 404);
    assert_eq!(
        exchanges[1].body,
        Body::Json(
            json!({"error": {"message": "No thread found", "type": "invalid_request_error", "param": null, "code": null}})
        )
    );
}

#[test]
fn vcrpy_gzipped_binary_body_and_plain_sse_body() {
    let cassette = format!(
        r#"interactions:
- request:
    body: '{{"model": "gpt-4o"}}'
    headers:
      OpenAI-Beta:
      - assistants=v2
    method: POST
    uri: https://api.openai.com/v1/assistants
  response:
    body:
      string: !!binary |
{}    headers:
      Content-Encoding:
      - gzip
      Content-Type:
      - application/json
    status:
      code: 200
      message: OK
- request:
    body: null
    method: POST
    uri: https://api.openai.com/v1/threads/thread_1/runs
  response:
    body:
      string: "event: thread.run.created\ndata: {{\"id\":\"run_1\"}}\n\nevent: done\ndata: [DONE]\n\n"
    headers:
      content-type:
      - text/event-stream; charset=utf-8
    status:
      code: 200
      message: OK
version: 1
"#,
        folded(
            &gzip_base64(r#"{"id": "asst_1", "object": "assistant"}"#),
            "        "
        )
    );
    let exchanges = read(&cassette);
    assert_eq!(
        exchanges[0].body,
        Body::Json(json!({"id": "asst_1", "object": "assistant"}))
    );
    assert_eq!(
        exchanges[1].body,
        Body::Sse(
            "event: thread.run.created\ndata: {\"id\":\"run_1\"}\n\nevent: done\ndata: [DONE]\n\n"
                .into()
        )
    );
}

#[test]
fn a_yaml_file_that_is_not_a_cassette_is_not_recognised() {
    assert_eq!(
        recognise(&parse("description: a fixture\nsteps: []\n").unwrap()),
        None
    );
}
