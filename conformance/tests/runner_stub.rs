//! The runner against a tiny axum stub server on port 0: FAIL, UNIMPLEMENTED, NON-STRICT findings,
//! cleanup after a failure, skipped cleanup and unknown variables.

mod runner_support;
#[path = "runner_stub_cases/second_tenant.rs"]
mod second_tenant;

use std::sync::atomic::Ordering;

use conformance::results::{FindingKind, Phase};
use conformance::Verdict;
use runner_support::*;
use serde_json::json;

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

async fn only_step_findings(
    test: &str,
    operation: &str,
    expect: &str,
) -> (Verdict, Vec<FindingKind>) {
    let yaml = single_step(operation, expect);
    let (results, _) = run_files(test, &[("stub/only", &yaml)]).await;
    let step = &scenario_of(&results, "stub/only").steps[0];
    (step.verdict, step.findings.iter().map(|f| f.kind).collect())
}

#[tokio::test]
async fn compact_bodies_and_missing_openai_headers_are_non_strict() {
    let found = only_step_findings(
        "compact",
        "getCompact",
        "{status: 200, body: {id: \"$id:thing_\"}}",
    )
    .await;
    assert_eq!(
        found,
        (
            Verdict::NonStrict,
            vec![
                FindingKind::Formatting,
                FindingKind::Header,
                FindingKind::Header
            ]
        )
    );
}

#[tokio::test]
async fn a_non_json_answer_fails_on_content_type_and_body() {
    let found = only_step_findings("html", "getHtml", "{status: 200}").await;
    assert_eq!(
        found,
        (
            Verdict::Fail,
            vec![FindingKind::ContentType, FindingKind::Json]
        )
    );
}

#[tokio::test]
async fn schema_violations_and_wrong_statuses_fail() {
    let (results, _) = run_files(
        "schema",
        &[("stub/only", &single_step("getPartial", "{status: 201}"))],
    )
    .await;
    let step = &scenario_of(&results, "stub/only").steps[0];
    assert_eq!(step.verdict, Verdict::Fail);
    let kinds: Vec<FindingKind> = step.findings.iter().map(|f| f.kind).collect();
    assert_eq!(kinds, [FindingKind::Status, FindingKind::Schema]);
    assert_eq!(step.findings[1].pointer.as_deref(), Some("/"));
    assert!(
        step.findings[1]
            .message
            .contains("\"object\" is a required property"),
        "{}",
        step.findings[1].message
    );
    assert_eq!(step.response.as_ref().unwrap().status, 200);
}

#[tokio::test]
async fn the_expected_indent_is_honoured() {
    let four = only_step_findings("indent-4", "getFour", "{status: 200, indent: 4}").await;
    assert_eq!(four, (Verdict::Pass, vec![]));
    let two = only_step_findings("indent-2", "getFour", "{status: 200}").await;
    assert_eq!(two, (Verdict::NonStrict, vec![FindingKind::Formatting]));
}
