//! `check-recordings` end to end on small synthetic recordings written by these tests (never
//! copies of real ones): each supported format, streams, a deliberately wrong response, traffic
//! outside the covered operations, and the inputs that make it exit with 2.

// Test code fails by panicking: unwrapping is how it says what broke.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use conformance::recordings::{check_recordings, check_recordings_cli};
use conformance::spec::{default_cache_dir, Spec, SpecSource};
use serde_json::{json, Value};

fn spec() -> Spec {
    Spec::load(&SpecSource::Pinned {
        cache_dir: default_cache_dir(),
    })
    .expect("the pinned spec loads")
}

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "recordings-synthetic-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(paths: &[PathBuf], spec: &Spec) -> (i32, String) {
    let mut out = Vec::new();
    let code = check_recordings_cli(paths, spec, &mut out);
    (code, String::from_utf8(out).unwrap())
}

fn queued_run() -> Value {
    json!({
        "id": "run_abc123abc123abc123abc123", "object": "thread.run", "created_at": 1761861632,
        "assistant_id": "asst_abc123abc123abc123abc1", "thread_id": "thread_abc123abc123abc123ab",
        "status": "queued", "started_at": null, "expires_at": 1761862232, "cancelled_at": null,
        "failed_at": null, "completed_at": null, "required_action": null, "last_error": null,
        "model": "gpt-4o", "instructions": null, "tools": [], "tool_resources": {}, "metadata": {},
        "temperature": 1.0, "top_p": 1.0, "reasoning_effort": null, "max_completion_tokens": null,
        "max_prompt_tokens": null, "truncation_strategy": {"type": "auto", "last_messages": null},
        "incomplete_details": null, "usage": null, "response_format": "auto", "tool_choice": "auto",
        "parallel_tool_calls": true
    })
}

fn assistant() -> Value {
    json!({
        "id": "asst_abc123abc123abc123abc1", "object": "assistant", "created_at": 1761861600,
        "name": null, "description": null, "model": "gpt-4o", "instructions": null, "tools": [],
        "top_p": 1.0, "temperature": 1.0, "reasoning_effort": null, "tool_resources": {},
        "metadata": {}, "response_format": "auto"
    })
}

fn not_found() -> Value {
    json!({"error": {"message": "No thread found with id 'thread_x'.", "type": "invalid_request_error", "param": null, "code": null}})
}

fn entry(method: &str, path: &str, status: u16, content_type: &str, body: Value) -> Value {
    json!({
        "RequestUri": format!("https://api.openai.com/v1{path}"), "RequestMethod": method,
        "RequestHeaders": {}, "RequestBody": null, "StatusCode": status,
        "ResponseHeaders": {"Content-Type": content_type}, "ResponseBody": body
    })
}

fn write_session_records(dir: &Path, name: &str, entries: Vec<Value>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&json!({"Entries": entries})).unwrap(),
    )
    .unwrap();
    path
}

fn sse_lines(events: &[(&str, String)]) -> Value {
    let mut lines = Vec::new();
    for (name, data) in events {
        lines.push(format!("event: {name}\n"));
        lines.push(format!("data: {data}\n\n"));
    }
    json!(lines)
}

#[test]
fn session_records_with_json_stream_and_uncovered_traffic_pass() {
    let spec = spec();
    let dir = scratch("session-records");
    let run = queued_run().to_string();
    write_session_records(
        &dir,
        "ok.json",
        vec![
            entry("POST", "/assistants", 200, "application/json", assistant()),
            entry(
                "GET",
                "/threads/thread_x",
                404,
                "application/json",
                not_found(),
            ),
            entry(
                "POST",
                "/threads/thread_x/runs",
                200,
                "text/event-stream; charset=utf-8",
                sse_lines(&[
                    ("thread.run.created", run.clone()),
                    ("thread.run.queued", run),
                    ("done", "[DONE]".into()),
                ]),
            ),
            entry(
                "POST",
                "/chat/completions",
                200,
                "application/json",
                json!({"object": "chat.completion"}),
            ),
        ],
    );
    let (code, out) = run_checked(&dir, &spec);
    assert_eq!(code, 0, "{out}");
    let report = check_recordings(&[dir], &spec).unwrap();
    assert_eq!(report.totals.responses.get("createAssistant"), Some(&1));
    assert_eq!(report.totals.responses.get("getThread"), Some(&1));
    assert_eq!(report.totals.events.get("thread.run.queued"), Some(&1));
    assert_eq!(report.totals.events.get("done"), Some(&1));
    assert_eq!(report.totals.not_covered, 1);
    assert_eq!(report.spec.api_version, "2.3.0");

    // The text report is rendered from the results alone: a JSON round trip renders the same.
    let json = serde_json::to_string(&report).unwrap();
    let back: conformance::recordings::RecordingsReport = serde_json::from_str(&json).unwrap();
    let (mut first, mut second) = (Vec::new(), Vec::new());
    report.render(&mut first).unwrap();
    back.render(&mut second).unwrap();
    assert_eq!(first, second);
    assert_eq!(String::from_utf8(first).unwrap(), out);
}

fn run_checked(dir: &Path, spec: &Spec) -> (i32, String) {
    run(&[dir.to_path_buf()], spec)
}

#[test]
fn a_queued_run_with_a_string_created_at_fails_with_its_location() {
    let spec = spec();
    let dir = scratch("wrong-run");
    let mut wrong = queued_run();
    wrong["created_at"] = json!("1761861632");
    let file = write_session_records(
        &dir,
        "wrong.json",
        vec![
            entry("POST", "/assistants", 200, "application/json", assistant()),
            entry(
                "POST",
                "/threads/thread_x/runs",
                200,
                "application/json",
                wrong,
            ),
        ],
    );
    let (code, out) = run(&[file], &spec);
    assert_eq!(code, 1, "{out}");
    let report = check_recordings(&[dir], &spec).unwrap();
    let failure = &report.files[0].failures[0];
    assert_eq!(report.totals.failures, 1, "{out}");
    assert_eq!(
        (failure.entry, failure.operation.as_str(), failure.status),
        (1, "createRun", 200)
    );
    assert_eq!(failure.instance_path, "/created_at");
    assert!(
        out.contains(
            "entry #1 POST https://api.openai.com/v1/threads/thread_x/runs -> 200 [createRun]"
        ),
        "{out}"
    );
}

#[test]
fn stream_events_are_validated_by_name_and_an_unknown_name_fails() {
    let spec = spec();
    let dir = scratch("wrong-stream");
    let mut bad_run = queued_run();
    bad_run["status"] = json!("sleeping");
    write_session_records(
        &dir,
        "stream.json",
        vec![entry(
            "POST",
            "/threads/runs",
            200,
            "text/event-stream",
            sse_lines(&[
                ("thread.run.created", bad_run.to_string()),
                ("thread.run.teleported", queued_run().to_string()),
                ("done", "[DONE]".into()),
            ]),
        )],
    );
    let report = check_recordings(&[dir], &spec).unwrap();
    let failures = &report.files[0].failures;
    assert_eq!(failures.len(), 2, "{failures:#?}");
    assert_eq!(
        failures[0].event,
        Some((0, "thread.run.created".to_string()))
    );
    assert_eq!(failures[0].instance_path, "/status");
    assert_eq!(
        failures[1].event,
        Some((1, "thread.run.teleported".to_string()))
    );
}

fn gzip_base64(text: &str) -> String {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(text.as_bytes()).unwrap();
    base64::engine::general_purpose::STANDARD.encode(encoder.finish().unwrap())
}

fn indented(text: &str, indent: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(60)
        .map(|c| format!("{indent}{}\n", c.iter().collect::<String>()))
        .collect()
}

#[test]
fn ruby_vcr_and_vcrpy_cassettes_with_gzip_base64_and_sse_bodies() {
    let spec = spec();
    let dir = scratch("vcr");
    let ruby = format!(
        "---\nhttp_interactions:\n- request:\n    method: get\n    uri: https://api.openai.com/v1/threads/thread_x\n  response:\n    status:\n      code: 404\n      message: Not Found\n    headers:\n      Content-Type:\n      - application/json\n      Content-Encoding:\n      - gzip\n    body:\n      encoding: ASCII-8BIT\n      base64_string: |\n{}- request:\n    method: post\n    uri: https://api.openai.com/v1/assistants\n  response:\n    status:\n      code: 200\n      message: OK\n    headers:\n      Content-Type:\n      - application/json\n    body:\n      encoding: UTF-8\n      string: '{}'\nrecorded_with: VCR 6.2.0\n",
        indented(&gzip_base64(&not_found().to_string()), "        "),
        assistant().to_string().replace('\'', "''")
    );
    std::fs::write(dir.join("ruby.yml"), ruby).unwrap();
    let stream = format!(
        "event: thread.run.created\ndata: {}\n\nevent: done\ndata: [DONE]\n\n",
        queued_run()
    );
    let python = format!(
        "interactions:\n- request:\n    body: null\n    method: POST\n    uri: https://api.openai.com/v1/assistants\n  response:\n    body:\n      string: !!binary |\n{}    headers:\n      Content-Encoding:\n      - gzip\n      Content-Type:\n      - application/json\n    status:\n      code: 200\n      message: OK\n- request:\n    body: null\n    method: POST\n    uri: https://api.openai.com/v1/threads/thread_x/runs\n  response:\n    body:\n      string: {}\n    headers:\n      Content-Type:\n      - text/event-stream; charset=utf-8\n    status:\n      code: 200\n      message: OK\nversion: 1\n",
        indented(&gzip_base64(&assistant().to_string()), "        "),
        serde_json::to_string(&stream).unwrap()
    );
    std::fs::write(dir.join("python.yaml"), python).unwrap();
    let (code, out) = run_checked(&dir, &spec);
    assert_eq!(code, 0, "{out}");
    let report = check_recordings(std::slice::from_ref(&dir), &spec).unwrap();
    let formats: Vec<&str> = report.files.iter().map(|f| f.format.as_str()).collect();
    assert_eq!(formats, ["vcrpy", "vcr-ruby"]);
    assert_eq!(report.totals.responses.get("createAssistant"), Some(&2));
    assert_eq!(report.totals.events.get("thread.run.created"), Some(&1));

    // The same gzip cassette with the error envelope's `param` missing must fail.
    let mut broken = not_found();
    broken["error"].as_object_mut().unwrap().remove("param");
    let text = std::fs::read_to_string(dir.join("ruby.yml")).unwrap();
    let good = indented(&gzip_base64(&not_found().to_string()), "        ");
    std::fs::write(
        dir.join("ruby.yml"),
        text.replace(
            &good,
            &indented(&gzip_base64(&broken.to_string()), "        "),
        ),
    )
    .unwrap();
    let (code, out) = run_checked(&dir, &spec);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("[getThread]") && out.contains("param"),
        "{out}"
    );
}

/// A Ruby VCR cassette with one `GET /files/{id}/content` answered with `bytes` as `content_type`.
fn download_cassette(content_type: &str, bytes: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    format!(
        "---\nhttp_interactions:\n- request:\n    method: get\n    uri: https://api.openai.com/v1/files/file-abc123/content\n  response:\n    status:\n      code: 200\n      message: OK\n    headers:\n      Content-Type:\n      - {content_type}\n    body:\n      encoding: ASCII-8BIT\n      base64_string: |\n{}recorded_with: VCR 6.2.0\n",
        indented(&encoded, "        ")
    )
}

#[test]
fn a_binary_download_passes_where_the_document_declares_file_content() {
    let spec = spec();
    let dir = scratch("binary-download");
    let png = [
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, b'I', b'H', b'D', b'R',
        0xff, 0xfe, 0x80,
    ];
    std::fs::write(
        dir.join("download.yml"),
        download_cassette("image/png", &png),
    )
    .unwrap();
    let (code, out) = run_checked(&dir, &spec);
    assert_eq!(code, 0, "{out}");
    let report = check_recordings(std::slice::from_ref(&dir), &spec).unwrap();
    assert_eq!(report.totals.responses.get("downloadFile"), Some(&1));

    // The same bytes claiming to be JSON are still refused.
    std::fs::write(
        dir.join("download.yml"),
        download_cassette("application/json", &png),
    )
    .unwrap();
    let (code, out) = run_checked(&dir, &spec);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not UTF-8"), "{out}");
}

fn file_object() -> Value {
    json!({
        "id": "file-abc123", "object": "file", "bytes": 120000, "created_at": 1700000000,
        "filename": "notes.txt", "purpose": "assistants", "status": "processed",
        "status_details": null
    })
}

#[test]
fn a_2023_files_list_without_first_and_last_id_passes() {
    let spec = spec();
    let dir = scratch("files-list-2023");
    let old_list = json!({"object": "list", "data": [file_object()], "has_more": false});
    write_session_records(
        &dir,
        "files.json",
        vec![entry("GET", "/files", 200, "application/json", old_list)],
    );
    let (code, out) = run_checked(&dir, &spec);
    assert_eq!(code, 0, "{out}");

    // A list without its data is still wrong.
    write_session_records(
        &dir,
        "files.json",
        vec![entry(
            "GET",
            "/files",
            200,
            "application/json",
            json!({"object": "list", "has_more": false}),
        )],
    );
    let (code, out) = run_checked(&dir, &spec);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("[listFiles]") && out.contains("data"), "{out}");
}

#[test]
fn unusable_input_exits_with_2() {
    let spec = spec();
    let empty = scratch("empty");
    std::fs::write(empty.join("README.md"), "not a recording").unwrap();
    assert_eq!(
        run(std::slice::from_ref(&empty), &spec).0,
        2,
        "a directory without recordings"
    );
    assert_eq!(
        run(&[empty.join("missing.json")], &spec).0,
        2,
        "a path that does not exist"
    );
    std::fs::write(empty.join("fixture.yaml"), "description: x\nsteps: []\n").unwrap();
    let (code, out) = run(&[empty], &spec);
    assert_eq!(code, 2);
    assert!(out.contains("is not a recording"), "{out}");
}
