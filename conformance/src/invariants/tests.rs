use serde_json::{json, Value};

use super::*;
use crate::results::{Phase, ResponseRecord};

fn step(authorization: Option<&str>) -> Step {
    let headers = authorization
        .map(|value| format!(", headers: {{Authorization: '{value}'}}"))
        .unwrap_or_default();
    serde_yaml::from_str(&format!(
        "{{name: s, operation: listAssistants{headers}, expect: {{status: 200}}}}"
    ))
    .expect("step parses")
}

fn result(
    url: &str,
    request_body: Option<Value>,
    status: u16,
    body: &str,
    sse: bool,
) -> StepResult {
    StepResult {
        name: "s".into(),
        phase: Phase::Step,
        operation: None,
        verdict: Verdict::Pass,
        request: Some(RequestRecord {
            method: "GET".into(),
            url: url.into(),
            headers: vec![],
            body: request_body.map(|b| b.to_string()),
        }),
        response: Some(ResponseRecord {
            status,
            content_type: Some(
                if sse {
                    "text/event-stream"
                } else {
                    "application/json"
                }
                .into(),
            ),
            body: body.into(),
            body_truncated: false,
        }),
        findings: vec![],
    }
}

/// The invariant messages of one answer reviewed after `before` (earlier answers of the run).
fn review_after(
    before: &[(Option<&str>, &str, Value)],
    last: (Option<&str>, &str, Value),
) -> Vec<String> {
    let mut observed = Observed::default();
    for (key, url, body) in before {
        observed.review(
            &step(*key),
            &mut result(url, None, 200, &body.to_string(), false),
        );
    }
    let mut last_result = result(last.1, None, 200, &last.2.to_string(), false);
    observed.review(&step(last.0), &mut last_result);
    last_result
        .findings
        .into_iter()
        .map(|f| f.message)
        .collect()
}

fn review(url: &str, body: Value) -> Vec<String> {
    review_after(&[], (None, url, body))
}

fn run(status: &str, calls: &[&str], usage: Value) -> Value {
    let calls: Vec<Value> = calls
        .iter()
        .map(|id| json!({"id": id, "type": "function", "function": {"name": "f", "arguments": "{}"}}))
        .collect();
    let required = if calls.is_empty() {
        Value::Null
    } else {
        json!({"type": "submit_tool_outputs", "submit_tool_outputs": {"tool_calls": calls}})
    };
    json!({"id": "run_1", "object": "thread.run", "status": status, "required_action": required, "usage": usage})
}

fn tool_step(id: &str, status: &str, calls: &[&str], usage: Value) -> Value {
    let calls: Vec<Value> = calls
        .iter()
        .map(|id| json!({"id": id, "type": "function", "function": {"name": "f", "arguments": "{}", "output": null}}))
        .collect();
    json!({"id": id, "object": "thread.run.step", "run_id": "run_1", "type": "tool_calls", "status": status,
           "step_details": {"type": "tool_calls", "tool_calls": calls}, "usage": usage})
}

fn usage(prompt: u64, completion: u64, total: u64) -> Value {
    json!({"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total})
}

const RUN_URL: &str = "http://x/v1/threads/t/runs/run_1";
const STEPS_URL: &str = "http://x/v1/threads/t/runs/run_1/steps";

#[test]
fn duplicate_tool_call_ids_in_requires_action_fail() {
    assert!(review(
        RUN_URL,
        run("requires_action", &["call_a", "call_b"], Value::Null)
    )
    .is_empty());
    let messages = review(
        RUN_URL,
        run("requires_action", &["call_a", "call_a"], Value::Null),
    );
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages[0].contains("more than once"));
}

#[test]
fn a_waiting_step_must_hold_the_calls_the_run_asks_for() {
    let before = [(
        None,
        RUN_URL,
        run("requires_action", &["call_a", "call_b"], Value::Null),
    )];
    let same = json!({"object": "list", "data": [tool_step("step_1", "in_progress", &["call_b", "call_a"], Value::Null)]});
    assert!(review_after(&before, (None, STEPS_URL, same)).is_empty());
    let other = json!({"object": "list", "data": [tool_step("step_1", "in_progress", &["call_a", "call_x"], Value::Null)]});
    let messages = review_after(&before, (None, STEPS_URL, other));
    assert!(
        messages.iter().any(|m| m.contains("asked for the outputs")),
        "{messages:?}"
    );
}

#[test]
fn one_tool_call_id_in_two_steps_fails() {
    let before = [(
        None,
        STEPS_URL,
        json!({"object": "list", "data": [tool_step("step_1", "cancelled", &["call_a"], Value::Null)]}),
    )];
    let messages = review_after(
        &before,
        (
            None,
            STEPS_URL,
            tool_step("step_2", "cancelled", &["call_a"], Value::Null),
        ),
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("already made by step step_1")),
        "{messages:?}"
    );
}

#[test]
fn streamed_deltas_are_compared_with_the_requires_action_event() {
    let stream = |delta_id: &str| {
        let created = tool_step("step_1", "in_progress", &[], Value::Null);
        let delta = json!({"id": "step_1", "object": "thread.run.step.delta", "delta": {"step_details": {"type": "tool_calls",
            "tool_calls": [{"index": 0, "id": delta_id, "type": "function", "function": {"name": "f", "arguments": "", "output": null}}]}}});
        let waiting = run("requires_action", &["call_a"], Value::Null);
        format!(
            "event: thread.run.step.created\ndata: {created}\n\nevent: thread.run.step.delta\ndata: {delta}\n\n\
             event: thread.run.requires_action\ndata: {waiting}\n\nevent: done\ndata: [DONE]\n\n"
        )
    };
    let findings = |delta_id: &str| {
        let mut observed = Observed::default();
        let mut answer = result(RUN_URL, None, 200, &stream(delta_id), true);
        observed.review(&step(None), &mut answer);
        (answer.verdict, answer.findings)
    };
    assert_eq!(findings("call_a"), (Verdict::Pass, vec![]));
    let (verdict, found) = findings("call_b");
    assert_eq!(verdict, Verdict::Fail);
    assert_eq!(
        found[0].pointer.as_deref(),
        Some("/events/2/data/required_action/submit_tool_outputs/tool_calls")
    );
}

#[test]
fn usage_must_add_up_and_be_spent_when_a_run_completed() {
    assert!(review(RUN_URL, run("completed", &[], usage(10, 5, 15))).is_empty());
    assert!(review(RUN_URL, run("queued", &[], Value::Null)).is_empty());
    let wrong_total = review(RUN_URL, run("completed", &[], usage(10, 5, 16)));
    assert!(
        wrong_total[0].contains("is not prompt_tokens 10 + completion_tokens 5"),
        "{wrong_total:?}"
    );
    let zero = review(RUN_URL, run("completed", &[], usage(0, 0, 0)));
    assert!(zero[0].contains("both must be above 0"), "{zero:?}");
    let missing = review(RUN_URL, run("completed", &[], Value::Null));
    assert!(missing[0].contains("has no usage"), "{missing:?}");
    let step_zero = review(
        STEPS_URL,
        json!({"object": "list", "data": [tool_step("step_1", "completed", &["c"], usage(3, 0, 3))]}),
    );
    assert!(
        step_zero.iter().any(|m| m.contains("both must be above 0")),
        "{step_zero:?}"
    );
}

#[test]
fn pages_respect_the_limit_and_name_their_ends() {
    let page = |n: usize| {
        let data: Vec<Value> = (0..n)
            .map(|i| json!({"id": format!("asst_{i}"), "object": "assistant"}))
            .collect();
        let last = n.checked_sub(1).map(|i| format!("asst_{i}"));
        json!({"object": "list", "data": data, "first_id": if n > 0 { json!("asst_0") } else { Value::Null }, "last_id": last, "has_more": false})
    };
    assert!(review("http://x/v1/assistants", page(20)).is_empty());
    assert!(review("http://x/v1/assistants?limit=2", page(2)).is_empty());
    assert!(review("http://x/v1/assistants", page(0)).is_empty());
    assert!(review("http://x/v1/assistants", page(21))[0].contains("more than the limit of 20"));
    assert!(
        review("http://x/v1/assistants?limit=2", page(3))[0].contains("more than the limit of 2")
    );
    assert!(
        review("http://x/v1/files", page(30)).is_empty(),
        "files page by 10,000"
    );
    let mut wrong_end = page(2);
    wrong_end["last_id"] = json!("asst_0");
    assert!(review("http://x/v1/assistants", wrong_end)[0].contains("last_id"));
}

#[test]
fn search_results_come_best_first_and_no_more_than_asked() {
    let page = |scores: &[f64]| {
        let data: Vec<Value> = scores
            .iter()
            .map(|s| json!({"file_id": "f", "score": s}))
            .collect();
        json!({"object": "vector_store.search_results.page", "data": data}).to_string()
    };
    let messages = |request: Value, scores: &[f64]| {
        let mut observed = Observed::default();
        let mut answer = result(
            "http://x/v1/vector_stores/vs/search",
            Some(request),
            200,
            &page(scores),
            false,
        );
        observed.review(&step(None), &mut answer);
        answer
            .findings
            .into_iter()
            .map(|f| f.message)
            .collect::<Vec<_>>()
    };
    assert!(messages(json!({"query": "q", "max_num_results": 2}), &[0.9, 0.9]).is_empty());
    assert!(messages(
        json!({"query": "q", "max_num_results": 2}),
        &[0.9, 0.8, 0.7]
    )[0]
    .contains("more than max_num_results 2"));
    assert!(messages(json!({"query": "q"}), &[0.5, 0.9])[0].contains("best first"));
}

#[test]
fn the_second_key_never_sees_the_first_keys_objects() {
    let second = Some("Bearer ${second_api_key}");
    let asst = json!({"id": "asst_1", "object": "assistant"});
    let before = [(None, "http://x/v1/assistants", asst.clone())];
    let leaked =
        json!({"object": "list", "data": [asst], "first_id": "asst_1", "last_id": "asst_1"});
    let messages = review_after(&before, (second, "http://x/v1/assistants", leaked.clone()));
    assert!(messages[0].contains("tenant isolation"), "{messages:?}");
    assert!(review_after(&before, (None, "http://x/v1/assistants", leaked)).is_empty());
}

#[test]
fn error_answers_are_not_judged() {
    let mut observed = Observed::default();
    let body = run("completed", &[], usage(0, 0, 0)).to_string();
    let mut answer = result(RUN_URL, None, 404, &body, false);
    observed.review(&step(None), &mut answer);
    assert!(answer.findings.is_empty());
}
