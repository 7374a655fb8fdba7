//! Function tools through run steps: single and parallel calls, two rounds in one
//! run, submitted outputs in `function.output`, the step rules (`expires_at`, usage,
//! `include[]`) and the errors of submit_tool_outputs.

use std::sync::Arc;

use crate::support::runs::{
    assistant, create_run, function_tool, poll_until, thread_with, SETTLED,
};
use async_trait::async_trait;
use futures::StreamExt;
use serde_json::{json, Value};
use server::llm::offline::render::new_call_id;
use server::llm::{
    ChatEvent, ChatModel, ChatRequest, ChatStream, FinishReason, LlmError, OfflineModel,
    ToolCallDelta, Usage,
};
use testkit::{assert_error, TestApp};

const INCLUDE: &str =
    "include[]=step_details.tool_calls%5B%2A%5D.file_search.results%5B%2A%5D.content";

async fn steps(app: &TestApp, thread_id: &str, run_id: &str) -> Vec<Value> {
    let list = app
        .get(&format!(
            "/v1/threads/{thread_id}/runs/{run_id}/steps?order=asc&{INCLUDE}"
        ))
        .await;
    assert_eq!(list.status, 200, "{}", list.text);
    list.json()["data"].as_array().unwrap().clone()
}

async fn submit(
    app: &TestApp,
    thread_id: &str,
    run_id: &str,
    outputs: Value,
) -> testkit::TestResponse {
    app.post(
        &format!("/v1/threads/{thread_id}/runs/{run_id}/submit_tool_outputs"),
        json!({ "tool_outputs": outputs }),
    )
    .await
}

fn call_ids(run: &Value) -> Vec<String> {
    run["required_action"]["submit_tool_outputs"]["tool_calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|call| call["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_function_call_round_trip_completes_the_run() {
    let app = TestApp::new().await;
    let assistant_id = assistant(&app, json!([function_tool("get_weather")])).await;
    let thread_id = thread_with(&app, "Call get_weather for Paris").await;
    let run = create_run(&app, &thread_id, json!({"assistant_id": assistant_id})).await;
    let run_id = run["id"].as_str().unwrap();
    let waiting = poll_until(&app, &thread_id, run_id, SETTLED).await;
    assert_eq!(waiting["status"], "requires_action", "{waiting}");
    assert_eq!(waiting["usage"], json!(null));
    let calls = &waiting["required_action"]["submit_tool_outputs"]["tool_calls"];
    assert_eq!(waiting["required_action"]["type"], "submit_tool_outputs");
    assert_eq!(calls[0]["type"], "function");
    assert_eq!(calls[0]["function"]["name"], "get_weather");
    let arguments: Value =
        serde_json::from_str(calls[0]["function"]["arguments"].as_str().unwrap()).unwrap();
    assert!(arguments["city"].is_string(), "{arguments}");
    let keys: Vec<&String> = calls[0].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["id", "type", "function"]);
    let tool_step = &steps(&app, &thread_id, run_id).await[0];
    assert_eq!(tool_step["type"], "tool_calls");
    assert_eq!(tool_step["status"], "in_progress");
    assert_eq!(tool_step["expires_at"], waiting["expires_at"]);
    assert_eq!(tool_step["usage"], json!(null), "no usage while waiting");
    assert_eq!(
        tool_step["step_details"]["tool_calls"][0]["function"]["output"],
        json!(null)
    );

    let id = call_ids(&waiting)[0].clone();
    let wrong = submit(
        &app,
        &thread_id,
        run_id,
        json!([{"tool_call_id": "call_wrong", "output": "x"}]),
    )
    .await;
    assert_error(
        &wrong,
        400,
        &format!("Expected tool outputs for call_ids ['{id}'], got ['call_wrong']"),
        None,
        None,
    );
    let queued = submit(
        &app,
        &thread_id,
        run_id,
        json!([{"tool_call_id": id, "output": "sunny"}]),
    )
    .await
    .json();
    assert_eq!(queued["status"], "queued");
    assert_eq!(queued["required_action"], json!(null));
    assert_eq!(queued["started_at"], waiting["started_at"]);
    assert_eq!(queued["expires_at"], waiting["expires_at"]);
    let done = poll_until(
        &app,
        &thread_id,
        run_id,
        &["completed", "failed", "cancelled", "expired", "incomplete"],
    )
    .await;
    assert_eq!(done["status"], "completed", "{done}");

    let late = submit(
        &app,
        &thread_id,
        run_id,
        json!([{"tool_call_id": id, "output": "again"}]),
    )
    .await;
    assert_error(
        &late,
        400,
        "Runs in status \"completed\" do not accept tool outputs.",
        None,
        None,
    );

    let all = steps(&app, &thread_id, run_id).await;
    assert_eq!(all.len(), 2);
    assert_eq!(all[0]["status"], "completed");
    assert_eq!(
        all[0]["step_details"]["tool_calls"][0]["function"]["output"],
        "sunny"
    );
    assert_eq!(all[1]["type"], "message_creation");
    for step in &all {
        assert_eq!(
            step["expires_at"],
            json!(null),
            "REST steps of an ended run"
        );
        assert!(step["usage"]["total_tokens"].as_u64().unwrap() > 0);
    }
    let summed: u64 = all
        .iter()
        .map(|s| s["usage"]["total_tokens"].as_u64().unwrap())
        .sum();
    assert_eq!(done["usage"]["total_tokens"].as_u64(), Some(summed));
    let message_id = all[1]["step_details"]["message_creation"]["message_id"]
        .as_str()
        .unwrap();
    let message = app
        .get(&format!("/v1/threads/{thread_id}/messages/{message_id}"))
        .await
        .json();
    assert_eq!(
        message["content"][0]["text"]["value"],
        "get_weather returned \"sunny\"."
    );

    let step_id = all[0]["id"].as_str().unwrap();
    let one = app
        .get(&format!(
            "/v1/threads/{thread_id}/runs/{run_id}/steps/{step_id}?{INCLUDE}"
        ))
        .await
        .json();
    assert_eq!(one, all[0]);
}

#[tokio::test]
async fn parallel_calls_get_distinct_ids_and_need_every_output() {
    let app = TestApp::new().await;
    let tools = json!([function_tool("get_weather"), function_tool("get_time")]);
    let assistant_id = assistant(&app, tools).await;
    let thread_id = thread_with(&app, "Use get_weather and get_time for Oslo").await;
    let run = create_run(&app, &thread_id, json!({"assistant_id": assistant_id})).await;
    let run_id = run["id"].as_str().unwrap();
    let waiting = poll_until(&app, &thread_id, run_id, SETTLED).await;
    let ids = call_ids(&waiting);
    assert_eq!(ids.len(), 2, "{waiting}");
    assert_ne!(ids[0], ids[1]);
    assert!(ids.iter().all(|id| id.starts_with("call_")));
    let partial = submit(
        &app,
        &thread_id,
        run_id,
        json!([{"tool_call_id": ids[0], "output": "1"}]),
    )
    .await;
    assert_eq!(partial.status, 400, "{}", partial.text);
    let outputs = json!([{"tool_call_id": ids[1], "output": "noon"}, {"tool_call_id": ids[0], "output": "rain"}]);
    assert_eq!(submit(&app, &thread_id, run_id, outputs).await.status, 200);
    let done = poll_until(&app, &thread_id, run_id, &["completed", "failed"]).await;
    assert_eq!(done["status"], "completed");
    let tool_step = &steps(&app, &thread_id, run_id).await[0];
    let calls = tool_step["step_details"]["tool_calls"].as_array().unwrap();
    assert_eq!(calls[0]["function"]["output"], "rain");
    assert_eq!(calls[1]["function"]["output"], "noon");
}

#[tokio::test]
async fn tool_choice_and_parallel_tool_calls_are_honoured() {
    let app = TestApp::new().await;
    let tools = json!([function_tool("get_weather"), function_tool("get_time")]);
    let assistant_id = assistant(&app, tools).await;
    let cases = [
        (
            json!({"parallel_tool_calls": false}),
            "Use get_weather and get_time",
            Some(1),
        ),
        (
            json!({"tool_choice": {"type": "function", "function": {"name": "get_time"}}}),
            "hello",
            Some(1),
        ),
        (json!({"tool_choice": "required"}), "hello", Some(1)),
        (
            json!({"tool_choice": "none"}),
            "Use get_weather please",
            None,
        ),
    ];
    for (overrides, text, calls) in cases {
        let thread_id = thread_with(&app, text).await;
        let mut body = overrides.clone();
        body["assistant_id"] = json!(assistant_id);
        let run = create_run(&app, &thread_id, body).await;
        assert_eq!(
            run["parallel_tool_calls"],
            json!(overrides
                .get("parallel_tool_calls")
                .cloned()
                .unwrap_or(json!(true)))
        );
        let settled = poll_until(&app, &thread_id, run["id"].as_str().unwrap(), SETTLED).await;
        match calls {
            Some(count) => assert_eq!(call_ids(&settled).len(), count, "{overrides} {settled}"),
            None => assert_eq!(settled["status"], "completed", "{overrides} {settled}"),
        }
    }
}

/// Calls a tool in its first two turns, then answers like the offline model.
struct TwoRounds;

#[async_trait]
impl ChatModel for TwoRounds {
    async fn stream(&self, request: ChatRequest) -> Result<ChatStream, LlmError> {
        let rounds = request
            .messages
            .iter()
            .filter(|m| !m.tool_calls.is_empty())
            .count();
        if rounds >= 2 {
            return OfflineModel::new().stream(request).await;
        }
        let events = vec![
            Ok(ChatEvent::ToolCallDelta(ToolCallDelta {
                index: 0,
                id: Some(new_call_id()),
                name: Some(request.tools[0].name.clone()),
                arguments: format!("{{\"round\":{rounds}}}"),
            })),
            Ok(ChatEvent::Finish(FinishReason::ToolCalls)),
            Ok(ChatEvent::Usage(Usage::estimated(10, 5))),
        ];
        Ok(futures::stream::iter(events).boxed())
    }
}

#[tokio::test]
async fn one_run_can_take_two_tool_rounds() {
    let app = TestApp::with_model(Arc::new(TwoRounds), |_| {}).await;
    let assistant_id = assistant(&app, json!([function_tool("lookup")])).await;
    let thread_id = thread_with(&app, "Look it up twice").await;
    let run = create_run(&app, &thread_id, json!({"assistant_id": assistant_id})).await;
    let run_id = run["id"].as_str().unwrap();
    for round in 0..2 {
        let waiting = poll_until(&app, &thread_id, run_id, SETTLED).await;
        assert_eq!(
            waiting["status"], "requires_action",
            "round {round}: {waiting}"
        );
        let id = call_ids(&waiting)[0].clone();
        let answer = json!([{"tool_call_id": id, "output": format!("answer {round}")}]);
        assert_eq!(submit(&app, &thread_id, run_id, answer).await.status, 200);
    }
    let done = poll_until(&app, &thread_id, run_id, &["completed", "failed"]).await;
    assert_eq!(done["status"], "completed", "{done}");
    let all = steps(&app, &thread_id, run_id).await;
    let kinds: Vec<&str> = all.iter().map(|s| s["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["tool_calls", "tool_calls", "message_creation"]);
    assert_eq!(
        all[1]["step_details"]["tool_calls"][0]["function"]["arguments"],
        "{\"round\":1}"
    );
    assert_eq!(
        done["usage"]["total_tokens"].as_u64(),
        Some(
            all.iter()
                .map(|s| s["usage"]["total_tokens"].as_u64().unwrap())
                .sum()
        )
    );
}

#[tokio::test]
async fn step_errors_follow_openai() {
    let app = TestApp::new().await;
    let assistant_id = assistant(&app, json!([])).await;
    let thread_id = thread_with(&app, "hi").await;
    let run = create_run(&app, &thread_id, json!({"assistant_id": assistant_id})).await;
    let run_id = run["id"].as_str().unwrap();
    let missing = app
        .get(&format!(
            "/v1/threads/{thread_id}/runs/{run_id}/steps/step_123"
        ))
        .await;
    assert_error(
        &missing,
        404,
        "No run step found with id 'step_123'.",
        None,
        None,
    );
    let bad_include = app
        .get(&format!(
            "/v1/threads/{thread_id}/runs/{run_id}/steps?include[]=nope"
        ))
        .await;
    assert_eq!(bad_include.status, 400, "{}", bad_include.text);
    let waiting_submit = submit(&app, &thread_id, run_id, json!([])).await;
    assert_eq!(waiting_submit.status, 400);
    assert!(
        waiting_submit.message().starts_with("Runs in status \""),
        "{}",
        waiting_submit.text
    );
}
