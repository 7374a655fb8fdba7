//! Streamed runs (`stream: true` on createRun, createThreadAndRun and
//! submitToolOuputsToRun): framing, the recorded event order, each event object's key
//! order compared with OpenAI's recordings (when `../shared` is present), and the
//! SSE-only shapes (run `tool_resources`, message `status`).

use std::path::PathBuf;

use crate::support::runs::{
    assistant, function_tool, names_collapsed, parse_sse, start_streamed_run, thread_with, Event,
};
use serde_json::{json, Value};
use testkit::TestApp;

const PLAIN_RUN: &[&str] = &[
    "thread.run.created",
    "thread.run.queued",
    "thread.run.in_progress",
    "thread.run.step.created",
    "thread.run.step.in_progress",
    "thread.message.created",
    "thread.message.in_progress",
    "thread.message.delta…",
    "thread.message.completed",
    "thread.run.step.completed",
    "thread.run.completed",
    "done",
];

const TOOL_CALL_RUN: &[&str] = &[
    "thread.created",
    "thread.run.created",
    "thread.run.queued",
    "thread.run.in_progress",
    "thread.run.step.created",
    "thread.run.step.in_progress",
    "thread.run.step.delta…",
    "thread.run.requires_action",
    "done",
];

const SUBMITTED: &[&str] = &[
    "thread.run.step.completed",
    "thread.run.queued",
    "thread.run.in_progress",
    "thread.run.step.created",
    "thread.run.step.in_progress",
    "thread.message.created",
    "thread.message.in_progress",
    "thread.message.delta…",
    "thread.message.completed",
    "thread.run.step.completed",
    "thread.run.completed",
    "done",
];

/// The SSE bodies of a recording, when the shared recordings are on this machine.
fn recorded_streams(name: &str) -> Option<Vec<Vec<Event>>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/recordings/openai-dotnet/SessionRecords/AssistantsTests")
        .join(name);
    let text = std::fs::read_to_string(path).ok()?;
    let session: Value = serde_json::from_str(&text).ok()?;
    let streams = session["Entries"]
        .as_array()?
        .iter()
        .filter_map(|entry| entry["ResponseBody"].as_array())
        .map(|lines| {
            let body: String = lines.iter().filter_map(Value::as_str).collect();
            parse_sse(&body)
        })
        .collect();
    Some(streams)
}

/// Key paths of a JSON value (objects in order, arrays by their first item).
fn shape(value: &Value, path: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                let here = format!("{path}.{key}");
                out.push(here.clone());
                if !matches!(
                    key.as_str(),
                    "metadata" | "parameters" | "tool_resources" | "tools"
                ) {
                    shape(item, &here, out);
                }
            }
        }
        Value::Array(items) => {
            if let Some(first) = items.first() {
                shape(first, &format!("{path}[]"), out);
            }
        }
        _ => {}
    }
}

fn shape_of(event: &Event) -> Vec<String> {
    if event.name == "done" {
        return vec![event.data.clone()];
    }
    let mut out = Vec::new();
    shape(&event.json(), "", &mut out);
    out
}

/// Every event of `ours` has the key layout of some recorded event of that name (a
/// first delta looks like a recorded first delta, a later one like a later one).
fn assert_same_shapes(ours: &[Event], recorded: &[Event]) {
    for event in ours {
        let models: Vec<&Event> = recorded.iter().filter(|r| r.name == event.name).collect();
        if models.is_empty() {
            continue;
        }
        let mine = shape_of(event);
        assert!(
            models.iter().any(|model| shape_of(model) == mine),
            "{}: {}\nrecorded: {}",
            event.name,
            event.data,
            models[0].data
        );
    }
}

async fn stream(app: &TestApp, path: &str, body: Value) -> Vec<Event> {
    let response = app.post(path, body).await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_eq!(
        response.headers["content-type"],
        "text/event-stream; charset=utf-8"
    );
    assert!(response.headers.get("content-length").is_none());
    let events = parse_sse(&response.text);
    assert_eq!(
        events.last().map(|e| (e.name.as_str(), e.data.as_str())),
        Some(("done", "[DONE]"))
    );
    for event in &events[..events.len() - 1] {
        let compact = serde_json::to_string(&event.json()).unwrap();
        assert_eq!(compact, event.data, "compact JSON in the order written");
    }
    events
}

#[tokio::test]
async fn a_streamed_run_follows_the_recorded_event_order() {
    let app = TestApp::new().await;
    let assistant_id = assistant(&app, json!([])).await;
    let thread_id = thread_with(&app, "Hello there, assistant! How are you today?").await;
    let events = stream(
        &app,
        &format!("/v1/threads/{thread_id}/runs?include[]=step_details.tool_calls%5B%2A%5D.file_search.results%5B%2A%5D.content"),
        json!({"assistant_id": assistant_id, "additional_messages": [], "stream": true}),
    )
    .await;
    assert_eq!(names_collapsed(&events), PLAIN_RUN);
    let deltas: Vec<&Event> = events
        .iter()
        .filter(|e| e.name == "thread.message.delta")
        .collect();
    assert!(deltas.len() > 1);
    assert!(deltas[0].data.contains("\"annotations\":[]"));
    assert!(deltas[1..].iter().all(|d| !d.data.contains("annotations")));
    let text: String = deltas
        .iter()
        .map(|d| {
            d.json()["delta"]["content"][0]["text"]["value"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let completed = events
        .iter()
        .find(|e| e.name == "thread.message.completed")
        .unwrap()
        .json();
    assert_eq!(completed["content"][0]["text"]["value"], text.as_str());
    assert_eq!(completed["status"], "completed");
    let run = events
        .iter()
        .find(|e| e.name == "thread.run.completed")
        .unwrap()
        .json();
    assert_eq!(
        run["tool_resources"],
        json!({"code_interpreter": {"file_ids": []}})
    );
    assert_eq!(run["expires_at"], json!(null));
    let step = events
        .iter()
        .find(|e| e.name == "thread.run.step.completed")
        .unwrap()
        .json();
    assert!(
        step["expires_at"].is_i64(),
        "step.completed before run.completed keeps expires_at"
    );
    let run_id = run["id"].as_str().unwrap();
    let rest = app
        .get(&format!("/v1/threads/{thread_id}/runs/{run_id}"))
        .await
        .json();
    assert_eq!(rest["tool_resources"], json!({}));
    assert_eq!(rest["status"], "completed");
    if let Some(recorded) = recorded_streams("StreamingRunWorks.json") {
        assert_eq!(names_collapsed(&recorded[0]), PLAIN_RUN);
        assert_same_shapes(&events, &recorded[0]);
    }
}

#[tokio::test]
async fn a_streamed_tool_call_and_streamed_outputs_follow_the_recordings() {
    let app = TestApp::new().await;
    let assistant_id = assistant(&app, json!([function_tool("get_current_weather")])).await;
    let events = stream(
        &app,
        "/v1/threads/runs",
        json!({"assistant_id": assistant_id, "stream": true,
            "thread": {"messages": [{"role": "user", "content": "Should I call get_current_weather now?"}]}}),
    )
    .await;
    assert_eq!(names_collapsed(&events), TOOL_CALL_RUN);
    let thread = events[0].json();
    assert_eq!(
        thread["tool_resources"],
        json!({"code_interpreter": {"file_ids": []}})
    );
    let step_deltas: Vec<Value> = events
        .iter()
        .filter(|e| e.name == "thread.run.step.delta")
        .map(Event::json)
        .collect();
    let first = &step_deltas[0]["delta"]["step_details"]["tool_calls"][0];
    assert_eq!(
        first["function"],
        json!({"name": "get_current_weather", "arguments": "", "output": null})
    );
    let arguments: String = step_deltas[1..]
        .iter()
        .map(|d| {
            d["delta"]["step_details"]["tool_calls"][0]["function"]["arguments"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let waiting = events
        .iter()
        .find(|e| e.name == "thread.run.requires_action")
        .unwrap()
        .json();
    let call = &waiting["required_action"]["submit_tool_outputs"]["tool_calls"][0];
    assert_eq!(call["function"]["arguments"], arguments.as_str());
    assert_eq!(call["id"], first["id"]);
    let thread_id = thread["id"].as_str().unwrap();
    let run_id = waiting["id"].as_str().unwrap();
    let submitted = stream(
        &app,
        &format!("/v1/threads/{thread_id}/runs/{run_id}/submit_tool_outputs"),
        json!({"tool_outputs": [{"tool_call_id": call["id"], "output": "warm and sunny"}], "stream": true}),
    )
    .await;
    assert_eq!(names_collapsed(&submitted), SUBMITTED);
    let tool_step = submitted[0].json();
    assert_eq!(
        tool_step["step_details"]["tool_calls"][0]["function"]["output"],
        "warm and sunny"
    );
    assert_eq!(tool_step["status"], "completed");
    if let Some(recorded) = recorded_streams("StreamingToolCall().json") {
        assert_eq!(names_collapsed(&recorded[0]), TOOL_CALL_RUN);
        assert_eq!(names_collapsed(&recorded[1]), SUBMITTED);
        assert_same_shapes(&events, &recorded[0]);
        assert_same_shapes(&submitted, &recorded[1]);
    }
}

#[tokio::test]
async fn cancelling_a_streamed_run_ends_its_stream_cancelled() {
    let app = TestApp::configured(|settings| settings.llm.offline_delay_ms = 250).await;
    let assistant_id = assistant(&app, json!([])).await;
    let thread_id = thread_with(&app, "a reply with a good number of words to cancel").await;
    let mut stream = start_streamed_run(&app, &thread_id, &assistant_id).await;
    stream.read_until("event: thread.message.delta").await;
    let run_id = stream.run_id();
    let cancelled = app
        .post(
            &format!("/v1/threads/{thread_id}/runs/{run_id}/cancel"),
            json!({}),
        )
        .await;
    assert_eq!(cancelled.json()["status"], "cancelling");
    let events = stream.events().await;
    let names: Vec<&str> = events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names[names.len() - 4..],
        [
            "thread.run.cancelling",
            "thread.run.step.cancelled",
            "thread.run.cancelled",
            "done"
        ],
        "{names:?}"
    );
    let run = events[events.len() - 2].json();
    assert!(run["cancelled_at"].is_i64());
}
