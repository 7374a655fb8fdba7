//! The runner against a tiny axum stub server on port 0: FAIL, UNIMPLEMENTED, NON-STRICT findings,
//! later steps and cleanup after a failure, skipped steps and unknown variables, severities and
//! `--strict`.

// Test code fails by panicking: unwrapping is how it says what broke.
#![allow(clippy::unwrap_used)]

mod runner_support;
#[path = "runner_stub_cases/second_tenant.rs"]
mod second_tenant;

use std::sync::atomic::Ordering;

use conformance::results::{FailOn, FindingKind, Phase};
use conformance::verdict::Severity;
use conformance::Verdict;
use runner_support::*;
use serde_json::json;

#[tokio::test]
async fn a_failing_step_does_not_stop_later_steps_and_cleanup_runs() {
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
            ("after", Verdict::Pass),
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
    assert_eq!(results.exit_code(FailOn::Breaking), 1);
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
async fn an_invalid_url_404_is_unimplemented_and_later_steps_still_run() {
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
    assert_eq!(scenario.steps[2].verdict, Verdict::Pass);
    assert_eq!(scenario.steps[3].verdict, Verdict::Pass);
    assert_eq!(stub.deletes.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_framework_404_on_a_create_route_is_unimplemented_and_its_dependents_skipped() {
    let steps = r#"
  - name: create-store
    operation: createStore
    body: {name: x}
    capture: {store: /id}
    expect:
      status: 200
      body: {id: "$id:store_", object: store, name: x, file_counts: {total: 0}}
  - name: get-store
    operation: getStore
    path: {store_id: "${store}"}
    expect: {status: 200, body: {id: "${store}"}}
  - name: get-by-id
    operation: getStore
    path: {store_id: "${thing}"}
    expect: {status: 200}
  - name: get-missing
    operation: getGone
    path: {thing_id: "${thing}"}
    expect: {status: 200}
"#;
    let yaml = scenario(steps, CLEANUP);
    let (results, _) = run_files("framework-404", &[("stub/stores", &yaml)]).await;
    let scenario = scenario_of(&results, "stub/stores");
    let outcome: Vec<(&str, Verdict, usize)> = scenario
        .steps
        .iter()
        .map(|s| (s.name.as_str(), s.verdict, s.findings.len()))
        .collect();
    assert_eq!(
        outcome,
        [
            ("create", Verdict::Pass, 0),
            ("create-store", Verdict::Unimplemented, 1),
            ("get-store", Verdict::Skipped, 1),
            ("get-by-id", Verdict::Unimplemented, 1),
            ("get-missing", Verdict::Fail, 1),
            ("delete", Verdict::Pass, 0),
        ],
        "a 404 naming no object, or not about one, is a missing route; one about the object is not"
    );
    assert_eq!(
        scenario.steps[1].findings[0].message,
        "the route answered 404 although its path names no object: Not Found"
    );
    assert_eq!(scenario.steps[4].findings[0].kind, FindingKind::Status);
    let coverage = conformance::report::coverage::operation_coverage(&results);
    let verdict_of = |id: &str| {
        coverage
            .iter()
            .find(|c| c.operation.id == id)
            .unwrap()
            .verdict
    };
    assert_eq!(verdict_of("createStore"), Some(Verdict::Unimplemented));
    assert_eq!(verdict_of("getStore"), Some(Verdict::Unimplemented));
    assert_eq!(verdict_of("getGone"), Some(Verdict::Fail));
}

#[tokio::test]
async fn an_uncaptured_variable_skips_its_dependents_naming_it_and_its_step() {
    let steps = r#"
  - name: refused
    operation: createRefused
    body: {}
    capture: {made: /id}
    expect: {status: 200, body: {id: "$id:thing_", object: thing}}
  - name: uses-made
    operation: getThing
    path: {thing_id: "${made}"}
    expect: {status: 200}
  - name: uses-thing
    operation: getThing
    path: {thing_id: "${thing}"}
    expect: {status: 200, body: {id: "${thing}", object: thing, name: wrong}}
"#;
    let yaml = scenario(steps, CLEANUP);
    let (results, _) = run_files("uncaptured", &[("stub/uncaptured", &yaml)]).await;
    let scenario = scenario_of(&results, "stub/uncaptured");
    let verdicts: Vec<Verdict> = scenario.steps.iter().map(|s| s.verdict).collect();
    assert_eq!(
        verdicts,
        [
            Verdict::Pass,
            Verdict::Fail,
            Verdict::Skipped,
            Verdict::Pass,
            Verdict::Pass
        ]
    );
    let refused = &scenario.steps[1];
    assert_eq!(
        refused.findings.len(),
        1,
        "a wrong status is one finding, the error body is not diffed: {:#?}",
        refused.findings
    );
    assert_eq!(
        refused.findings[0].message,
        "expected status 200, got 400: Missing required parameter: 'name'."
    );
    assert_eq!(
        scenario.steps[2].findings[0].message,
        "not run: needs ${made}, which step `refused` did not capture"
    );
}

#[tokio::test]
async fn an_absent_optional_key_is_a_deviation_that_fails_only_under_strict() {
    let yaml = single_step(
        "getFour",
        "{status: 200, indent: 4, trailing_newline: true, body: {id: \"$id:thing_\", expires_at: null}}",
    );
    for (strict, verdict, code) in [(false, Verdict::NonStrict, 0), (true, Verdict::Fail, 1)] {
        let (results, _) = run_files_with("deviation", &[("stub/only", &yaml)], strict).await;
        let step = &scenario_of(&results, "stub/only").steps[0];
        assert_eq!(
            step.verdict, verdict,
            "strict {strict}: {:#?}",
            step.findings
        );
        assert_eq!(step.findings.len(), 1);
        assert_eq!(step.findings[0].severity, Some(Severity::Deviation));
        assert_eq!(
            step.findings[0].message,
            "body /expires_at: missing key (expected null)"
        );
        assert_eq!(results.exit_code(FailOn::Breaking), code);
        assert_eq!(results.exit_code(FailOn::Deviation), 1);
        assert_eq!(results.exit_code(FailOn::Never), 0);
        assert_eq!(results.run.strict, strict);
    }
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
    assert_eq!(
        results.exit_code(FailOn::Breaking),
        0,
        "NON-STRICT is conformant"
    );
}

#[tokio::test]
async fn defaults_and_overrides_reach_the_server_and_a_clean_scenario_passes() {
    let yaml = scenario("", CLEANUP);
    let (results, _) = run_files("pass", &[("stub/pass", &yaml)]).await;
    let scenario = scenario_of(&results, "stub/pass");
    assert_eq!(scenario.verdict, Verdict::Pass, "{:#?}", scenario.steps);
    assert_eq!(results.exit_code(FailOn::Breaking), 0);
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
    assert_eq!(
        scenario.steps[1].findings[0].message,
        "not run: needs ${thing}, which step `create` did not capture"
    );
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
    assert_eq!(
        kinds,
        [FindingKind::Status],
        "a wrong status is one finding"
    );
    assert_eq!(step.response.as_ref().unwrap().status, 200);
    let (results, _) = run_files(
        "schema-200",
        &[("stub/only", &single_step("getPartial", "{status: 200}"))],
    )
    .await;
    let step = &scenario_of(&results, "stub/only").steps[0];
    assert_eq!(step.verdict, Verdict::Fail);
    let schema = &step.findings[0];
    assert_eq!(
        (schema.kind, schema.severity),
        (FindingKind::Schema, Some(Severity::Breaking))
    );
    assert_eq!(schema.pointer.as_deref(), Some("/"));
    assert!(
        schema.message.contains("\"object\" is a required property"),
        "{}",
        schema.message
    );
}

#[tokio::test]
async fn the_expected_indent_is_honoured() {
    let four = only_step_findings("indent-4", "getFour", "{status: 200, indent: 4}").await;
    assert_eq!(four, (Verdict::Pass, vec![]));
    let two = only_step_findings("indent-2", "getFour", "{status: 200}").await;
    assert_eq!(two, (Verdict::NonStrict, vec![FindingKind::Formatting]));
}

#[tokio::test]
async fn a_cooperative_model_expectation_is_never_a_fail() {
    let yaml = single_step(
        "getFour",
        "{status: 200, indent: 4, trailing_newline: true, cooperative_model: the model cites, body: {id: \"$id:thing_\", annotations: [1]}}",
    );
    for strict in [false, true] {
        let (results, _) = run_files_with("cooperative", &[("stub/only", &yaml)], strict).await;
        let step = &scenario_of(&results, "stub/only").steps[0];
        assert_eq!(step.verdict, Verdict::Pass, "{:#?}", step.findings);
        assert_eq!(step.findings.len(), 1);
        assert_eq!(step.findings[0].severity, Some(Severity::Model));
        assert!(
            step.findings[0]
                .message
                .ends_with("(needs a cooperative model: the model cites)"),
            "{}",
            step.findings[0].message
        );
        let report = conformance::render_report(&results);
        assert!(
            report.contains("## Cooperative-model expectations not met"),
            "{report}"
        );
        assert_eq!(results.exit_code(FailOn::Cosmetic), 0);
    }
}
