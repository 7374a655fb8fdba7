//! Snapshots of `coverage.md` and the Markdown report rendered from a hand-built [`Results`], plus
//! the properties the snapshots alone would not pin down (determinism, no run-specific values).

// Test code fails by panicking: unwrapping is how it says what broke.
#![allow(clippy::unwrap_used)]

use conformance::results::{
    Finding, FindingKind, OperationRecord, Phase, RequestRecord, ResponseRecord, RunInfo,
    ScenarioResult, StepResult, RESULTS_SCHEMA_VERSION,
};
use conformance::spec::Family;
use conformance::verdict::Severity;
use conformance::{render_coverage, render_report, Results, Verdict};
use serde_json::json;

fn operation(id: &str, method: &str, path: &str, family: Family) -> OperationRecord {
    OperationRecord {
        id: id.into(),
        method: method.into(),
        path: path.into(),
        family,
    }
}

fn step(name: &str, operation: &str, verdict: Verdict, findings: Vec<Finding>) -> StepResult {
    StepResult {
        name: name.into(),
        phase: Phase::Step,
        operation: Some(operation.into()),
        verdict,
        request: None,
        response: None,
        findings,
    }
}

fn sent(mut step: StepResult, status: u16, body: &str) -> StepResult {
    step.request = Some(RequestRecord {
        method: "POST".into(),
        url: "http://127.0.0.1:4010/v1/threads/thread_abc/messages".into(),
        headers: vec![
            ("Authorization".into(), "Bearer ****".into()),
            ("OpenAI-Beta".into(), "assistants=v2".into()),
            ("Content-Type".into(), "application/json".into()),
        ],
        body: Some(r#"{"role":"user","content":"hi"}"#.into()),
    });
    step.response = Some(ResponseRecord {
        status,
        content_type: Some("application/json".into()),
        body: body.into(),
        body_truncated: false,
    });
    step
}

fn scenario(
    id: &str,
    verdict: Verdict,
    raw: Verdict,
    reason: Option<&str>,
    steps: Vec<StepResult>,
) -> ScenarioResult {
    ScenarioResult {
        id: id.into(),
        description: format!("Scenario {id}."),
        verdict,
        raw_verdict: raw,
        reason: reason.map(str::to_owned),
        steps,
    }
}

fn results() -> Results {
    let pass = |name, op| sent(step(name, op, Verdict::Pass, vec![]), 200, "{}");
    let schema_error = Finding::new(
        FindingKind::Schema,
        Verdict::Fail,
        "schema error at /content/0/type: \"txt\" is not one of [\"text\"] (schema path /$defs/X/enum)",
    )
    .at("/content/0/type");
    let mismatch = Finding {
        pointer: Some("/role".into()),
        expected: Some(json!("user")),
        actual: Some(json!("assistant")),
        ..Finding::new(
            FindingKind::Body,
            Verdict::Fail,
            "body /role: different value (expected \"user\", got \"assistant\")",
        )
    };
    let mut cleanup = pass("delete-thread", "deleteThread");
    cleanup.phase = Phase::Cleanup;
    let skipped = step(
        "get-message",
        "getMessage",
        Verdict::Skipped,
        vec![Finding::new(
            FindingKind::Skipped,
            Verdict::Skipped,
            "not run: needs ${message}, which step `create-message` did not capture",
        )],
    );
    Results {
        schema_version: RESULTS_SCHEMA_VERSION,
        run: RunInfo {
            base_url: "http://127.0.0.1:4010/v1".into(),
            model: "gpt-4o".into(),
            filters: vec![],
            strict: false,
            wall_time_ms: 1234,
        },
        operations: vec![
            operation("createAssistant", "POST", "/assistants", Family::Assistants),
            operation("listAssistants", "GET", "/assistants", Family::Assistants),
            operation("createThread", "POST", "/threads", Family::Threads),
            operation("deleteThread", "DELETE", "/threads/{thread_id}", Family::Threads),
            operation("createMessage", "POST", "/threads/{thread_id}/messages", Family::Messages),
            operation("getMessage", "GET", "/threads/{thread_id}/messages/{message_id}", Family::Messages),
            operation("createRun", "POST", "/threads/{thread_id}/runs", Family::Runs),
            operation("listFiles", "GET", "/files", Family::Files),
        ],
        scenarios: vec![
            scenario("assistants/crud", Verdict::Pass, Verdict::Pass, None, vec![pass("create", "createAssistant")]),
            scenario(
                "assistants/list",
                Verdict::NonStrict,
                Verdict::NonStrict,
                None,
                vec![sent(
                    step(
                        "list",
                        "listAssistants",
                        Verdict::NonStrict,
                        vec![Finding::new(FindingKind::KeyOrder, Verdict::NonStrict, "keys of / are in a different order than recorded").at("/")],
                    ),
                    200,
                    "{}",
                )],
            ),
            scenario(
                "threads/messages/crud",
                Verdict::Fail,
                Verdict::Fail,
                None,
                vec![
                    pass("create-thread", "createThread"),
                    sent(
                        step("create-message", "createMessage", Verdict::Fail, vec![schema_error, mismatch]),
                        200,
                        "{\n  \"role\": \"assistant\",\n  \"content\": [{\"type\": \"txt\"}]\n}",
                    ),
                    skipped,
                    cleanup,
                ],
            ),
            scenario(
                "threads/messages/again",
                Verdict::Fail,
                Verdict::Fail,
                None,
                vec![
                    pass("create-thread", "createThread"),
                    sent(
                        step(
                            "create-message",
                            "createMessage",
                            Verdict::Fail,
                            vec![
                                Finding::new(
                                    FindingKind::Schema,
                                    Verdict::Fail,
                                    "schema error at /content/1/type: \"txt\" is not one of [\"text\"] (schema path /$defs/X/enum)",
                                )
                                .at("/content/1/type"),
                                Finding::new(
                                    FindingKind::Body,
                                    Verdict::Fail,
                                    "body /attachments: missing key (expected [])",
                                )
                                .at("/attachments")
                                .severity(Severity::Deviation),
                                Finding::new(
                                    FindingKind::Body,
                                    Verdict::Fail,
                                    "body /content/0/text/annotations: expected 1 elements, got 0 (needs a cooperative model: it must cite)",
                                )
                                .at("/content/0/text/annotations")
                                .severity(Severity::Model),
                            ],
                        ),
                        200,
                        "{\n  \"role\": \"user\",\n  \"content\": [{\"type\": \"text\"}, {\"type\": \"txt\"}]\n}",
                    ),
                ],
            ),
            scenario(
                "runs/create",
                Verdict::Xfail,
                Verdict::Unimplemented,
                Some("expected failure: runs are not implemented yet"),
                vec![sent(
                    step(
                        "create-run",
                        "createRun",
                        Verdict::Unimplemented,
                        vec![Finding::new(FindingKind::Unimplemented, Verdict::Unimplemented, "the route answered 404 `Invalid URL (POST /v1/threads/thread_abc/runs)`")],
                    ),
                    404,
                    "{\"error\": {\"message\": \"Invalid URL (POST /v1/threads/thread_abc/runs)\"}}",
                )],
            ),
        ],
    }
}

#[test]
fn coverage_markdown() {
    insta::assert_snapshot!(render_coverage(&results()));
}

#[test]
fn markdown_report() {
    insta::assert_snapshot!(render_report(&results()));
}

#[test]
fn coverage_has_no_run_specific_values_and_is_deterministic() {
    let mut other_run = results();
    other_run.run.base_url = "http://10.0.0.1:9999/v1".into();
    other_run.run.wall_time_ms = 99;
    other_run.scenarios.reverse();
    other_run.operations.reverse();
    for scenario in &mut other_run.scenarios {
        for step in &mut scenario.steps {
            if let Some(request) = &mut step.request {
                request.url = request.url.replace("127.0.0.1:4010", "10.0.0.1:9999");
            }
        }
    }
    let coverage = render_coverage(&results());
    assert_eq!(coverage, render_coverage(&other_run));
    assert!(!coverage.contains("127.0.0.1") && !coverage.contains("1234"));
}

#[test]
fn operation_verdicts_take_the_worst_scenario_and_map_expected_failures() {
    let coverage = conformance::report::coverage::operation_coverage(&results());
    let verdict_of = |id: &str| {
        coverage
            .iter()
            .find(|c| c.operation.id == id)
            .unwrap()
            .verdict
    };
    assert_eq!(verdict_of("createAssistant"), Some(Verdict::Pass));
    assert_eq!(verdict_of("listAssistants"), Some(Verdict::NonStrict));
    assert_eq!(verdict_of("createMessage"), Some(Verdict::Fail));
    assert_eq!(verdict_of("getMessage"), Some(Verdict::Skipped));
    assert_eq!(verdict_of("createRun"), Some(Verdict::Xfail));
    assert_eq!(verdict_of("listFiles"), None);
}

#[test]
fn the_same_finding_across_scenarios_is_one_problem_ranked_by_severity_then_spread() {
    let ranked = conformance::report::problems::problems(&results());
    let summary: Vec<(Severity, String, usize, usize)> = ranked
        .iter()
        .map(|p| (p.severity, p.key.clone(), p.scenarios.len(), p.findings))
        .collect();
    let expected = [
        (Severity::Breaking, "breaking|schema|type|enum", 2, 2),
        (Severity::Breaking, "breaking|body|role|differs", 1, 1),
        (
            Severity::Deviation,
            "deviation|body|attachments|missing",
            1,
            1,
        ),
        (
            Severity::Cosmetic,
            "cosmetic|key_order||keys of / are in a different order than recorded",
            1,
            1,
        ),
        (Severity::Model, "model|body|annotations|differs", 1, 1),
    ];
    let expected: Vec<(Severity, String, usize, usize)> = expected
        .into_iter()
        .map(|(severity, key, scenarios, findings)| (severity, key.to_owned(), scenarios, findings))
        .collect();
    assert_eq!(summary, expected);
}

#[test]
fn junit_xml() {
    insta::assert_snapshot!(conformance::report::render_junit(&results()));
}

#[test]
fn comparison_of_two_targets() {
    use conformance::report::compare::Target;
    let mut other = results();
    other.run.base_url = "http://127.0.0.1:5000/v1".into();
    other.scenarios.retain(|s| s.id != "assistants/list");
    for scenario in &mut other.scenarios {
        if scenario.id == "runs/create" {
            scenario.verdict = Verdict::Unimplemented;
        }
    }
    let targets = [
        Target {
            name: "reference".into(),
            results: results(),
        },
        Target {
            name: "other".into(),
            results: other,
        },
    ];
    insta::assert_snapshot!(conformance::report::render_compare(&targets));
}
