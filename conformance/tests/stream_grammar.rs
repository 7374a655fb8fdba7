//! The stream grammar on event sequences shaped like the recorded ones (StreamingRunWorks,
//! StreamingToolCall(): a plain run, a createThreadAndRun that stops at requires_action, and the
//! submit_tool_outputs stream that resumes it), and on each way a stream can break it.

// Test code fails by panicking: unwrapping is how it says what broke.
#![allow(clippy::unwrap_used)]

use conformance::exec::stream::framing::framing_differences;
use conformance::exec::stream::grammar::{check_grammar, StreamOrigin, Violation};
use conformance::sse::{parse, SseEvent};
use serde_json::{json, Value};

const RUN: &str = "run_abcdefghijklmnopqrstuvwx";
const THREAD: &str = "thread_abcdefghijklmnopqrstuv";
const STEP: &str = "step_abcdefghijklmnopqrstuvw";
const TOOL_STEP: &str = "step_toolcallstep0123456789";
const MSG: &str = "msg_abcdefghijklmnopqrstuvwx";

fn event(name: &str, data: Value) -> SseEvent {
    let text = serde_json::to_string(&data).unwrap();
    SseEvent {
        event: name.into(),
        data: text,
        json: Some(data),
    }
}

fn done() -> SseEvent {
    SseEvent {
        event: "done".into(),
        data: "[DONE]".into(),
        json: None,
    }
}

fn run(status: &str) -> Value {
    json!({"id": RUN, "object": "thread.run", "thread_id": THREAD, "status": status})
}

fn step(id: &str, kind: &str, status: &str) -> Value {
    let details = if kind == "tool_calls" {
        json!({"type": "tool_calls", "tool_calls": []})
    } else {
        json!({"type": "message_creation", "message_creation": {"message_id": MSG}})
    };
    json!({"id": id, "object": "thread.run.step", "run_id": RUN, "type": kind, "status": status, "step_details": details})
}

fn message(status: &str) -> Value {
    json!({"id": MSG, "object": "thread.message", "run_id": RUN, "status": status})
}

fn delta(id: &str, object: &str) -> Value {
    json!({"id": id, "object": object, "delta": {}})
}

/// The message part of a run: step, message, `deltas` deltas, completion.
fn message_step(deltas: usize) -> Vec<SseEvent> {
    let mut events = vec![
        event(
            "thread.run.step.created",
            step(STEP, "message_creation", "in_progress"),
        ),
        event(
            "thread.run.step.in_progress",
            step(STEP, "message_creation", "in_progress"),
        ),
        event("thread.message.created", message("in_progress")),
        event("thread.message.in_progress", message("in_progress")),
    ];
    events.extend(
        (0..deltas).map(|_| event("thread.message.delta", delta(MSG, "thread.message.delta"))),
    );
    events.push(event("thread.message.completed", message("completed")));
    events.push(event(
        "thread.run.step.completed",
        step(STEP, "message_creation", "completed"),
    ));
    events
}

fn plain_run(deltas: usize) -> Vec<SseEvent> {
    let mut events = vec![
        event("thread.run.created", run("queued")),
        event("thread.run.queued", run("queued")),
        event("thread.run.in_progress", run("in_progress")),
    ];
    events.extend(message_step(deltas));
    events.push(event("thread.run.completed", run("completed")));
    events.push(done());
    events
}

fn thread_and_run_to_requires_action() -> Vec<SseEvent> {
    vec![
        event("thread.created", json!({"id": THREAD, "object": "thread"})),
        event("thread.run.created", run("queued")),
        event("thread.run.queued", run("queued")),
        event("thread.run.in_progress", run("in_progress")),
        event(
            "thread.run.step.created",
            step(TOOL_STEP, "tool_calls", "in_progress"),
        ),
        event(
            "thread.run.step.in_progress",
            step(TOOL_STEP, "tool_calls", "in_progress"),
        ),
        event(
            "thread.run.step.delta",
            delta(TOOL_STEP, "thread.run.step.delta"),
        ),
        event(
            "thread.run.step.delta",
            delta(TOOL_STEP, "thread.run.step.delta"),
        ),
        event("thread.run.requires_action", run("requires_action")),
        done(),
    ]
}

fn submitted_outputs() -> Vec<SseEvent> {
    let mut events = vec![
        event(
            "thread.run.step.completed",
            step(TOOL_STEP, "tool_calls", "completed"),
        ),
        event("thread.run.queued", run("queued")),
        event("thread.run.in_progress", run("in_progress")),
    ];
    events.extend(message_step(3));
    events.push(event("thread.run.completed", run("completed")));
    events.push(done());
    events
}

fn messages(violations: &[Violation]) -> Vec<String> {
    violations
        .iter()
        .map(|v| format!("#{} {}: {}", v.index, v.event, v.message))
        .collect()
}

#[test]
fn recorded_shapes_follow_the_grammar() {
    for deltas in [0, 1, 34] {
        let violations = check_grammar(&plain_run(deltas), StreamOrigin::CreateRun);
        assert!(violations.is_empty(), "{:?}", messages(&violations));
    }
    let violations = check_grammar(
        &thread_and_run_to_requires_action(),
        StreamOrigin::CreateThreadAndRun,
    );
    assert!(violations.is_empty(), "{:?}", messages(&violations));
    let violations = check_grammar(&submitted_outputs(), StreamOrigin::SubmitToolOutputs);
    assert!(violations.is_empty(), "{:?}", messages(&violations));
}

#[test]
fn a_missing_done_is_reported_at_the_end() {
    let mut events = plain_run(2);
    events.pop();
    let violations = check_grammar(&events, StreamOrigin::CreateRun);
    assert_eq!(violations.len(), 1, "{:?}", messages(&violations));
    assert_eq!(violations[0].index, events.len());
    assert!(violations[0]
        .message
        .contains("does not end with `event: done`"));
}

#[test]
fn done_before_the_run_ends_is_reported() {
    let mut events = thread_and_run_to_requires_action();
    events.remove(8); // thread.run.requires_action
    let violations = check_grammar(&events, StreamOrigin::CreateThreadAndRun);
    assert_eq!(violations.len(), 1, "{:?}", messages(&violations));
    assert_eq!(violations[0].event, "done");
    assert!(violations[0]
        .message
        .contains("before the run's final event"));
}

#[test]
fn events_after_requires_action_or_done_are_reported() {
    let mut events = thread_and_run_to_requires_action();
    events.insert(9, event("thread.run.completed", run("completed")));
    let violations = check_grammar(&events, StreamOrigin::CreateThreadAndRun);
    assert_eq!(violations[0].index, 9, "{:?}", messages(&violations));
    assert!(violations[0].message.contains("only `done` may follow"));

    let mut events = plain_run(1);
    events.push(event("thread.run.completed", run("completed")));
    let violations = check_grammar(&events, StreamOrigin::CreateRun);
    assert_eq!(messages(&violations).len(), 1);
    assert!(violations[0].message.contains("after `done`"));
}

#[test]
fn out_of_order_events_are_reported() {
    // in_progress before queued
    let mut events = plain_run(1);
    events.swap(1, 2);
    assert!(!check_grammar(&events, StreamOrigin::CreateRun).is_empty());
    // a message before its step
    let mut events = plain_run(1);
    events.swap(3, 5);
    let violations = check_grammar(&events, StreamOrigin::CreateRun);
    assert!(
        violations
            .iter()
            .any(|v| v.index == 3 && v.event == "thread.message.created"),
        "{:?}",
        messages(&violations)
    );
    // a delta after its message completed
    let mut events = plain_run(2);
    let completed = events
        .iter()
        .position(|e| e.event == "thread.message.completed")
        .unwrap();
    events.swap(completed, completed - 1);
    assert!(!check_grammar(&events, StreamOrigin::CreateRun).is_empty());
    // the run completes while its step is open
    let mut events = plain_run(0);
    let step_completed = events
        .iter()
        .position(|e| e.event == "thread.run.step.completed")
        .unwrap();
    events.remove(step_completed);
    let violations = check_grammar(&events, StreamOrigin::CreateRun);
    assert!(
        violations.iter().any(|v| v.message.contains("step")),
        "{:?}",
        messages(&violations)
    );
}

#[test]
fn each_origin_has_its_own_opening() {
    assert!(!check_grammar(&plain_run(1), StreamOrigin::CreateThreadAndRun).is_empty());
    assert!(!check_grammar(&plain_run(1), StreamOrigin::SubmitToolOutputs).is_empty());
    assert!(!check_grammar(&submitted_outputs(), StreamOrigin::CreateRun).is_empty());
    let mut events = thread_and_run_to_requires_action();
    events.remove(0);
    assert!(!check_grammar(&events, StreamOrigin::CreateThreadAndRun).is_empty());
}

#[test]
fn statuses_and_ids_must_agree_with_the_events() {
    let mut events = plain_run(1);
    events[2] = event("thread.run.in_progress", run("queued"));
    let violations = check_grammar(&events, StreamOrigin::CreateRun);
    assert!(
        violations[0].message.contains("data.status"),
        "{:?}",
        messages(&violations)
    );

    let mut events = plain_run(1);
    let mut other = run("completed");
    other["id"] = json!("run_someotherrun0000000000");
    let last_run_event = events.len() - 2;
    events[last_run_event] = event("thread.run.completed", other);
    let violations = check_grammar(&events, StreamOrigin::CreateRun);
    assert!(
        violations[0].message.contains("belongs to run"),
        "{:?}",
        messages(&violations)
    );
}

#[test]
fn an_error_event_ends_the_run_part_of_the_stream() {
    let mut events = plain_run(0);
    events.truncate(3);
    events.push(event("error", json!({"message": "boom"})));
    events.push(done());
    assert!(check_grammar(&events, StreamOrigin::CreateRun).is_empty());
}

#[test]
fn non_compact_data_is_a_framing_difference_and_keep_alives_are_not() {
    let compact = ": keep-alive\n\nevent: thread.run.created\ndata: {\"id\":\"run_1\"}\n\nevent: done\ndata: [DONE]\n\n";
    let events = parse(compact).unwrap();
    assert!(framing_differences(compact, &events).is_empty());
    let spaced =
        "event: thread.run.created\ndata: {\"id\": \"run_1\"}\n\nevent: done\ndata: [DONE]\n\n";
    let events = parse(spaced).unwrap();
    let differences = framing_differences(spaced, &events);
    assert_eq!(differences.len(), 1);
    assert!(differences[0].contains("not compact JSON"));
}

#[test]
fn failure_details_name_stream_findings() {
    use conformance::report::text::step_details;
    use conformance::results::{Finding, FindingKind, Phase, StepResult};
    use conformance::Verdict;
    let step = StepResult {
        name: "stream".into(),
        phase: Phase::Step,
        operation: Some("createRun".into()),
        verdict: Verdict::Fail,
        request: None,
        response: None,
        findings: vec![Finding::new(
            FindingKind::Stream,
            Verdict::Fail,
            "event grammar: event #9 `end of stream`: the stream does not end with `event: done` / `data: [DONE]`",
        )],
    };
    let details = step_details("threads/runs/x", &step);
    assert!(
        details.contains("- FAIL (breaking, stream): event grammar"),
        "{details}"
    );
}
