//! Streaming steps against a stub on port 0 that answers `POST /v1/threads/{variant}/runs` with a
//! canned event stream per variant: a good stream (with keep-alive comments) passes and its
//! captures reach the next step; a missing `done`, spaced JSON, unexpected events, a JSON answer
//! and a stream that never ends are each judged as the harness documents.

// Test code fails by panicking: unwrapping is how it says what broke.
#![allow(clippy::unwrap_used)]

mod runner_support;

use std::time::Duration;

use axum::body::Body;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use conformance::results::{FindingKind, ScenarioResult};
use conformance::spec::Family;
use conformance::{run_with, InMemoryCatalog, Verdict};
use runner_support::{config, fixtures, openai_json, HEADER};
use serde_json::json;

const RUN: &str = r#"{"id":"run_abcdefghijkl","object":"thread.run","thread_id":"thread_abcdefghijkl","status":"STATUS"}"#;
const STEP: &str = r#"{"id":"step_abcdefghijkl","object":"thread.run.step","run_id":"run_abcdefghijkl","type":"message_creation","status":"STATUS","step_details":{"type":"message_creation","message_creation":{"message_id":"msg_abcdefghijkl"}}}"#;
const MESSAGE: &str = r#"{"id":"msg_abcdefghijkl","object":"thread.message","run_id":"run_abcdefghijkl","status":"STATUS"}"#;
const DELTA: &str = r#"{"id":"msg_abcdefghijkl","object":"thread.message.delta","delta":{"content":[{"index":0,"type":"text","text":{"value":"Hi"}}]}}"#;

fn frame(name: &str, template: &str, status: &str) -> String {
    format!(
        "event: {name}\ndata: {}\n\n",
        template.replace("STATUS", status)
    )
}

/// The plain run of the recordings, with `deltas` message deltas.
fn good_stream(deltas: usize) -> String {
    let mut text = String::from(": keep-alive\n\n");
    text += &frame("thread.run.created", RUN, "queued");
    text += &frame("thread.run.queued", RUN, "queued");
    text += &frame("thread.run.in_progress", RUN, "in_progress");
    text += &frame("thread.run.step.created", STEP, "in_progress");
    text += &frame("thread.run.step.in_progress", STEP, "in_progress");
    text += &frame("thread.message.created", MESSAGE, "in_progress");
    text += &frame("thread.message.in_progress", MESSAGE, "in_progress");
    text += ": keep-alive\n\n";
    for _ in 0..deltas {
        text += &frame("thread.message.delta", DELTA, "");
    }
    text += &frame("thread.message.completed", MESSAGE, "completed");
    text += &frame("thread.run.step.completed", STEP, "completed");
    text += &frame("thread.run.completed", RUN, "completed");
    text += "event: done\ndata: [DONE]\n\n";
    text
}

fn sse(text: String) -> Response {
    (
        [
            ("content-type", "text/event-stream; charset=utf-8"),
            ("openai-version", "2020-10-01"),
            ("x-request-id", "req_0123456789abcdef0123456789abcdef"),
        ],
        text,
    )
        .into_response()
}

async fn create_run(Path(variant): Path<String>) -> Response {
    match variant.as_str() {
        "good" => sse(good_stream(3)),
        "no-deltas" => sse(good_stream(0)),
        "no-done" => sse(good_stream(2).replace("event: done\ndata: [DONE]\n\n", "")),
        "spaced" => {
            sse(good_stream(1).replace(r#""status":"completed""#, r#""status": "completed""#))
        }
        "json" => openai_json(
            StatusCode::OK,
            serde_json::from_str(&RUN.replace("STATUS", "queued")).unwrap(),
        ),
        "error" => openai_json(
            StatusCode::BAD_REQUEST,
            json!({"error": {"message": "No thread.", "type": "invalid_request_error", "param": null, "code": null}}),
        ),
        _ => {
            // a stream that sends its first event and then nothing, never ending
            let first = frame("thread.run.created", RUN, "queued");
            let body = futures::stream::once(async move { Ok::<_, std::io::Error>(first) })
                .chain(futures::stream::pending());
            let mut response = Body::from_stream(body).into_response();
            response
                .headers_mut()
                .insert("content-type", "text/event-stream".parse().unwrap());
            response
        }
    }
}

async fn get_run(Path((_, run)): Path<(String, String)>) -> Response {
    openai_json(StatusCode::OK, json!({"id": run, "object": "thread.run"}))
}

use futures::StreamExt;

fn scenario(variant: &str, events: &str) -> String {
    format!(
        "{HEADER}steps:\n  - name: stream\n    operation: createRun\n    path: {{thread_id: {variant}}}\n    body: {{assistant_id: asst_1, stream: true}}\n    timeout_s: 1\n    expect:\n      status: 200\n      events:\n{events}  - name: get\n    operation: getRun\n    path: {{thread_id: {variant}, run_id: \"${{run}}\"}}\n    expect:\n      status: 200\n      body: {{id: \"${{run}}\", object: thread.run}}\n"
    )
}

const EXPECTED: &str = r#"        - event: thread.run.created
          data: {id: "$id:run_", object: thread.run, thread_id: "$id:thread_", status: queued}
          capture: {run: /id}
        - event: thread.run.queued
          data: {id: "${run}", object: thread.run, thread_id: "$id:thread_", status: queued}
        - thread.run.in_progress
        - thread.run.step.created
        - thread.run.step.in_progress
        - thread.message.created
        - thread.message.in_progress
        - event: thread.message.delta*
          data: {id: "$id:msg_", object: thread.message.delta, delta: "$any"}
        - thread.message.completed
        - thread.run.step.completed
        - event: thread.run.completed
          data: {id: "${run}", object: thread.run, thread_id: "$id:thread_", status: completed}
        - done
"#;

async fn judged(test: &str, variant: &str, events: &str) -> ScenarioResult {
    let app = Router::new()
        .route("/v1/threads/{thread}/runs", post(create_run))
        .route("/v1/threads/{thread}/runs/{run}", get(get_run));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let catalog = InMemoryCatalog::default()
        .with(
            "createRun",
            "POST",
            "/threads/{thread_id}/runs",
            Family::Runs,
            &["id"],
        )
        .with(
            "getRun",
            "GET",
            "/threads/{thread_id}/runs/{run_id}",
            Family::Runs,
            &["id"],
        );
    let dir = fixtures(test, &[("stream/run", &scenario(variant, events))]);
    let results = tokio::time::timeout(
        Duration::from_secs(30),
        run_with(
            &config(&format!("http://{address}/v1"), dir),
            &catalog,
            &conformance::progress::Silent,
        ),
    )
    .await
    .expect("the harness never hangs on a stream")
    .expect("run completes");
    results.scenarios.into_iter().next().unwrap()
}

fn kinds(scenario: &ScenarioResult) -> Vec<(FindingKind, Verdict)> {
    scenario.steps[0]
        .findings
        .iter()
        .map(|f| (f.kind, f.verdict))
        .collect()
}

#[tokio::test]
async fn a_recorded_shape_stream_passes_and_its_captures_reach_later_steps() {
    for variant in ["good", "no-deltas"] {
        let scenario = judged(&format!("good-{variant}"), variant, EXPECTED).await;
        assert_eq!(scenario.verdict, Verdict::Pass, "{:#?}", scenario.steps);
        let get = scenario.steps[1].request.as_ref().unwrap();
        assert!(get.url.ends_with("/runs/run_abcdefghijkl"), "{}", get.url);
        let body = &scenario.steps[0].response.as_ref().unwrap().body;
        assert!(
            body.contains("event: done"),
            "the stream is kept as the response body"
        );
    }
}

#[tokio::test]
async fn a_missing_done_fails_as_a_stream_finding() {
    let scenario = judged("no-done", "no-done", EXPECTED).await;
    assert_eq!(scenario.steps[0].verdict, Verdict::Fail);
    let messages: Vec<&str> = scenario.steps[0]
        .findings
        .iter()
        .map(|f| f.message.as_str())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("does not end with `event: done`")),
        "{messages:?}"
    );
    assert!(kinds(&scenario)
        .iter()
        .all(|(kind, _)| *kind == FindingKind::Stream));
}

#[tokio::test]
async fn spaced_json_is_non_strict() {
    let scenario = judged("spaced", "spaced", EXPECTED).await;
    assert_eq!(
        scenario.verdict,
        Verdict::NonStrict,
        "{:#?}",
        scenario.steps
    );
    assert_eq!(
        kinds(&scenario),
        [(FindingKind::Stream, Verdict::NonStrict)]
    );
}

#[tokio::test]
async fn an_unexpected_sequence_names_what_was_received() {
    let expected = EXPECTED.replace(
        "        - thread.run.step.created\n",
        "        - thread.run.step.created\n        - thread.run.step.delta+\n",
    );
    let scenario = judged("sequence", "good", &expected).await;
    assert_eq!(scenario.steps[0].verdict, Verdict::Fail);
    let finding = &scenario.steps[0].findings[0];
    assert_eq!(finding.kind, FindingKind::Stream);
    assert!(
        finding.message.contains("thread.message.delta ×3"),
        "{}",
        finding.message
    );
}

#[tokio::test]
async fn a_data_mismatch_points_into_the_event() {
    let expected = EXPECTED.replace("status: completed}", "status: failed}");
    let scenario = judged("data", "good", &expected).await;
    let finding = &scenario.steps[0].findings[0];
    assert_eq!(finding.kind, FindingKind::Body);
    assert_eq!(finding.pointer.as_deref(), Some("/events/12/data/status"));
}

#[tokio::test]
async fn a_json_answer_to_a_stream_request_fails_and_an_error_is_judged_as_json() {
    let scenario = judged("json", "json", EXPECTED).await;
    assert_eq!(scenario.steps[0].verdict, Verdict::Fail);
    assert!(kinds(&scenario).contains(&(FindingKind::ContentType, Verdict::Fail)));

    let error_step = format!(
        "{HEADER}steps:\n  - name: stream\n    operation: createRun\n    path: {{thread_id: error}}\n    body: {{assistant_id: asst_1, stream: true}}\n    expect:\n      status: 400\n"
    );
    let dir_test = "error-json";
    let app = Router::new().route("/v1/threads/{thread}/runs", post(create_run));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let catalog = InMemoryCatalog::default().with(
        "createRun",
        "POST",
        "/threads/{thread_id}/runs",
        Family::Runs,
        &["id"],
    );
    let results = run_with(
        &config(
            &format!("http://{address}/v1"),
            fixtures(dir_test, &[("stream/error", &error_step)]),
        ),
        &catalog,
        &conformance::progress::Silent,
    )
    .await
    .unwrap();
    assert_eq!(
        results.scenarios[0].verdict,
        Verdict::Pass,
        "{:#?}",
        results.scenarios[0].steps
    );
}

#[tokio::test]
async fn a_stream_that_never_ends_fails_at_the_deadline() {
    let scenario = judged("endless", "endless", EXPECTED).await;
    let step = &scenario.steps[0];
    assert_eq!(step.verdict, Verdict::Fail);
    assert!(
        step.findings
            .iter()
            .any(|f| f.kind == FindingKind::Stream && f.message.contains("deadline")),
        "{:#?}",
        step.findings
    );
}
