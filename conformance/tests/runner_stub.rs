//! The runner against a tiny axum stub server on port 0: FAIL, UNIMPLEMENTED, NON-STRICT key
//! order, cleanup after a failure, skipped cleanup, unknown variables, expected failures, and the
//! input errors that mean exit code 2.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use conformance::results::{FindingKind, Phase};
use conformance::spec::Family;
use conformance::{
    render_coverage, run_with, HarnessError, InMemoryCatalog, Results, RunConfig, Verdict,
};
use serde_json::{json, Value};

/// Counts DELETE requests, to prove cleanup ran.
#[derive(Clone, Default)]
struct Stub {
    deletes: Arc<AtomicUsize>,
}

fn openai_json(status: StatusCode, body: Value) -> Response {
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

fn header(headers: &HeaderMap, name: &str) -> Value {
    headers
        .get(name)
        .map_or(Value::Null, |v| json!(v.to_str().unwrap()))
}

async fn create_thing(headers: HeaderMap, body: String) -> Response {
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

async fn get_thing(Path(id): Path<String>) -> Response {
    openai_json(
        StatusCode::OK,
        json!({"id": id, "object": "thing", "name": "wrong"}),
    )
}

async fn delete_thing(State(stub): State<Stub>, Path(id): Path<String>) -> Response {
    stub.deletes.fetch_add(1, Ordering::SeqCst);
    openai_json(
        StatusCode::OK,
        json!({"id": id, "object": "thing.deleted", "deleted": true}),
    )
}

async fn unordered() -> Response {
    openai_json(
        StatusCode::OK,
        json!({"object": "thing", "id": "thing_abcdefgh1234"}),
    )
}

async fn invalid_url() -> Response {
    let error = json!({"error": {"message": "Invalid URL (GET /v1/widgets)", "type": "invalid_request_error", "param": null, "code": null}});
    openai_json(StatusCode::NOT_FOUND, error)
}

async fn spawn_stub() -> (String, Stub) {
    let stub = Stub::default();
    let app = Router::new()
        .route("/v1/things", post(create_thing))
        .route("/v1/things/{id}", get(get_thing).delete(delete_thing))
        .route("/v1/unordered", get(unordered))
        .fallback(invalid_url)
        .with_state(stub.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{address}/v1"), stub)
}

fn catalog() -> InMemoryCatalog {
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
        .with("listWidgets", "GET", "/widgets", Family::Files, &["data"])
        .with("getUnordered", "GET", "/unordered", Family::Files, &["id"])
        .with("neverUsed", "GET", "/never", Family::Uploads, &[])
}

/// A fresh fixtures directory holding `files` (id → YAML).
fn fixtures(test: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("runner_stub")
        .join(test)
        .join("fixtures");
    let _ = std::fs::remove_dir_all(&dir);
    for (id, yaml) in files {
        let file = dir.join(format!("{id}.yaml"));
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, yaml).unwrap();
    }
    std::fs::write(dir.join("README.md"), "not a scenario").unwrap();
    dir
}

const HEADER: &str =
    "description: A stub scenario.\nprovenance:\n  - source: the stub server in this test\n";

const CREATE: &str = r#"
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

const CLEANUP: &str = r#"
cleanup:
  - name: delete
    operation: deleteThing
    path: {thing_id: "${thing}"}
    expect:
      status: 200
      body: {id: "${thing}", object: thing.deleted, deleted: true}
"#;

fn scenario(steps: &str, cleanup: &str) -> String {
    format!("{HEADER}steps:{CREATE}{steps}{cleanup}")
}

fn config(base_url: &str, fixtures_dir: PathBuf) -> RunConfig {
    let mut config = RunConfig::new(base_url, fixtures_dir);
    config.api_key = Some("sk-stub".into());
    config.headers = vec![("X-Custom".into(), "yes".into())];
    config.jobs = 2;
    config
}

async fn run_files(test: &str, files: &[(&str, &str)]) -> (Results, Stub) {
    let (base_url, stub) = spawn_stub().await;
    let results = run_with(
        &config(&base_url, fixtures(test, files)),
        &catalog(),
        &conformance::progress::Silent,
    )
    .await
    .expect("run completes");
    (results, stub)
}

fn scenario_of<'a>(results: &'a Results, id: &str) -> &'a conformance::results::ScenarioResult {
    results
        .scenarios
        .iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| panic!("no scenario {id}"))
}

const GET_EXPECTING_RIGHT: &str = r#"
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

#[tokio::test]
async fn a_body_mismatch_fails_and_cleanup_still_runs() {
    let yaml = scenario(GET_EXPECTING_RIGHT, CLEANUP);
    let (results, stub) = run_files("mismatch", &[("stub/fail", &yaml)]).await;
    let scenario = scenario_of(&results, "stub/fail");
    assert_eq!(scenario.verdict, Verdict::Fail);
    let verdicts: Vec<(&str, Verdict)> = scenario
        .steps
        .iter()
        .map(|s| (s.name.as_str(), s.verdict))
        .collect();
    assert_eq!(
        verdicts,
        [
            ("create", Verdict::Pass),
            ("get", Verdict::Fail),
            ("after", Verdict::Skipped),
            ("delete", Verdict::Pass)
        ]
    );
    let mismatch = &scenario.steps[1].findings[0];
    assert_eq!(mismatch.kind, FindingKind::Body);
    assert_eq!(mismatch.pointer.as_deref(), Some("/name"));
    assert_eq!(mismatch.expected, Some(json!("right")));
    assert_eq!(mismatch.actual, Some(json!("wrong")));
    assert_eq!(scenario.steps[3].phase, Phase::Cleanup);
    assert_eq!(
        stub.deletes.load(Ordering::SeqCst),
        1,
        "cleanup sent its DELETE"
    );
    assert_eq!(results.exit_code(), 1);
    let request = scenario.steps[1].request.as_ref().unwrap();
    assert!(
        request.url.ends_with("/v1/things/thing_abcdefgh1234"),
        "{}",
        request.url
    );
    assert!(
        request
            .headers
            .contains(&("Authorization".into(), "Bearer ****".into())),
        "{:?}",
        request.headers
    );
}

#[tokio::test]
async fn an_invalid_url_404_is_unimplemented_and_stops_the_scenario() {
    let steps = r#"
  - name: list
    operation: listWidgets
    expect: {status: 200}
  - name: later
    operation: getThing
    path: {thing_id: "${thing}"}
    expect: {status: 200}
"#;
    let yaml = scenario(steps, CLEANUP);
    let (results, stub) = run_files("unimplemented", &[("stub/unimplemented", &yaml)]).await;
    let scenario = scenario_of(&results, "stub/unimplemented");
    assert_eq!(scenario.verdict, Verdict::Unimplemented);
    assert_eq!(scenario.steps[1].verdict, Verdict::Unimplemented);
    assert_eq!(scenario.steps[2].verdict, Verdict::Skipped);
    assert_eq!(scenario.steps[3].verdict, Verdict::Pass);
    assert_eq!(stub.deletes.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_method_not_allowed_is_unimplemented() {
    let yaml = format!(
        "{HEADER}steps:\n  - name: put\n    url: /things\n    method: PUT\n    body: {{}}\n    expect: {{status: 200}}\n"
    );
    let (results, _) = run_files("method", &[("stub/put", &yaml)]).await;
    assert_eq!(
        scenario_of(&results, "stub/put").verdict,
        Verdict::Unimplemented
    );
}

#[tokio::test]
async fn a_different_key_order_is_non_strict() {
    let yaml = format!(
        "{HEADER}steps:\n  - name: get\n    operation: getUnordered\n    expect:\n      status: 200\n      body: {{id: \"$id:thing_\", object: thing}}\n"
    );
    let (results, _) = run_files("order", &[("stub/order", &yaml)]).await;
    let scenario = scenario_of(&results, "stub/order");
    assert_eq!(scenario.verdict, Verdict::NonStrict);
    let kinds: Vec<FindingKind> = scenario.steps[0].findings.iter().map(|f| f.kind).collect();
    assert_eq!(kinds, [FindingKind::KeyOrder]);
    assert_eq!(results.exit_code(), 0, "NON-STRICT is conformant");
}

#[tokio::test]
async fn defaults_and_overrides_reach_the_server_and_a_clean_scenario_passes() {
    let yaml = scenario("", CLEANUP);
    let (results, _) = run_files("pass", &[("stub/pass", &yaml)]).await;
    let scenario = scenario_of(&results, "stub/pass");
    assert_eq!(scenario.verdict, Verdict::Pass, "{:#?}", scenario.steps);
    assert_eq!(results.exit_code(), 0);
}

#[tokio::test]
async fn a_cleanup_step_without_its_variables_is_skipped() {
    let yaml = format!(
        "{HEADER}steps:\n  - name: create\n    operation: createThing\n    body: {{}}\n    capture: {{thing: /nope}}\n    expect: {{status: 200}}\n{CLEANUP}"
    );
    let (results, stub) = run_files("skipped-cleanup", &[("stub/capture", &yaml)]).await;
    let scenario = scenario_of(&results, "stub/capture");
    assert_eq!(scenario.steps[0].verdict, Verdict::Fail);
    assert_eq!(scenario.steps[0].findings[0].kind, FindingKind::Capture);
    assert_eq!(scenario.steps[1].verdict, Verdict::Skipped);
    assert!(scenario.steps[1].findings[0].message.contains("thing"));
    assert_eq!(stub.deletes.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn an_unknown_variable_is_an_error() {
    let yaml = format!(
        "{HEADER}steps:\n  - name: get\n    operation: getThing\n    path: {{thing_id: \"${{nobody}}\"}}\n    expect: {{status: 200}}\n"
    );
    let (results, _) = run_files("unknown-variable", &[("stub/unknown", &yaml)]).await;
    let step = &scenario_of(&results, "stub/unknown").steps[0];
    assert_eq!(step.verdict, Verdict::Error);
    assert_eq!(step.findings[0].kind, FindingKind::Variable);
    assert!(step.request.is_none());
}

#[tokio::test]
async fn expected_failures_turn_failures_into_xfail_and_passes_into_xpass() {
    let (base_url, _) = spawn_stub().await;
    let dir = fixtures(
        "xfail",
        &[
            ("stub/fail", &scenario(GET_EXPECTING_RIGHT, CLEANUP)),
            ("stub/pass", &scenario("", CLEANUP)),
        ],
    );
    let list = dir.parent().unwrap().join("expected-failures.yaml");
    std::fs::write(
        &list,
        "stub/fail: the stub answers the wrong name\nstub/pass: stale entry\n",
    )
    .unwrap();
    let mut config = config(&base_url, dir);
    config.expected_failures = Some(list);
    let results = run_with(&config, &catalog(), &conformance::progress::Silent)
        .await
        .unwrap();
    let failed = scenario_of(&results, "stub/fail");
    assert_eq!(
        (failed.verdict, failed.raw_verdict),
        (Verdict::Xfail, Verdict::Fail)
    );
    assert!(failed
        .reason
        .as_deref()
        .unwrap()
        .contains("the stub answers the wrong name"));
    assert_eq!(scenario_of(&results, "stub/pass").verdict, Verdict::Xpass);
    assert_eq!(results.exit_code(), 1, "an XPASS fails the list");
}

#[tokio::test]
async fn filters_skip_other_scenarios_and_a_filter_matching_nothing_is_an_input_error() {
    let (base_url, _) = spawn_stub().await;
    let dir = fixtures(
        "filter",
        &[
            ("stub/one", &scenario("", CLEANUP)),
            ("stub/two", &scenario(GET_EXPECTING_RIGHT, CLEANUP)),
        ],
    );
    let mut config = config(&base_url, dir);
    config.filters = vec!["one".into()];
    let results = run_with(&config, &catalog(), &conformance::progress::Silent)
        .await
        .unwrap();
    assert_eq!(scenario_of(&results, "stub/one").verdict, Verdict::Pass);
    assert_eq!(scenario_of(&results, "stub/two").verdict, Verdict::Skipped);
    assert_eq!(results.exit_code(), 0);
    config.filters = vec!["nothing-has-this".into()];
    let err = run_with(&config, &catalog(), &conformance::progress::Silent)
        .await
        .unwrap_err();
    assert!(
        matches!(err, HarnessError::FilterMatchesNothing { .. }),
        "{err}"
    );
}

#[tokio::test]
async fn an_unreachable_base_url_is_an_input_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let dir = fixtures("unreachable", &[("stub/pass", &scenario("", CLEANUP))]);
    let config = config(&format!("http://{address}/v1"), dir);
    let err = run_with(&config, &catalog(), &conformance::progress::Silent)
        .await
        .unwrap_err();
    assert!(matches!(err, HarnessError::Unreachable { .. }), "{err}");
}

#[tokio::test]
async fn results_round_trip_through_json_and_coverage_comes_from_them() {
    let files = [
        ("stub/fail", scenario(GET_EXPECTING_RIGHT, CLEANUP)),
        (
            "stub/serial",
            format!("serial: true\n{}", scenario("", CLEANUP)),
        ),
    ];
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(id, yaml)| (*id, yaml.as_str()))
        .collect();
    let (results, _) = run_files("round-trip", &files).await;
    let read_back = Results::from_json(&results.to_json()).unwrap();
    assert_eq!(read_back, results);
    let coverage = render_coverage(&read_back);
    assert!(coverage.contains("| `getThing`"), "{coverage}");
    assert!(coverage.contains("not covered"), "{coverage}");
    assert!(
        !coverage.contains("127.0.0.1"),
        "no run-specific values: {coverage}"
    );
}
