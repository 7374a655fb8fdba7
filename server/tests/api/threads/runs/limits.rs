//! Run limits and endings: `max_completion_tokens` (→ `incomplete`), `max_prompt_tokens`,
//! `truncation_strategy`, expiry of an unanswered `requires_action`, createThreadAndRun
//! polled, additional instructions and messages, and a streaming client that leaves.

use crate::support::runs::{
    assistant, create_run, function_tool, parse_sse, poll_until, start_streamed_run, thread_with,
    SETTLED,
};
use serde_json::json;
use server::llm::{ChatModel, ChatRequest, ChatStream, LlmError, OfflineModel, Role};
use std::sync::{Arc, Mutex};
use testkit::TestApp;

#[tokio::test]
async fn max_completion_tokens_ends_the_run_incomplete() {
    let app = TestApp::new().await;
    let assistant_id = assistant(&app, json!([])).await;
    let thread_id = thread_with(&app, "Please repeat this rather long sentence back to me").await;
    let response = app
        .post(
            &format!("/v1/threads/{thread_id}/runs"),
            json!({"assistant_id": assistant_id, "max_completion_tokens": 3, "stream": true}),
        )
        .await;
    let events = parse_sse(&response.text);
    let names: Vec<&str> = events.iter().map(|e| e.name.as_str()).collect();
    assert!(names.contains(&"thread.message.incomplete"), "{names:?}");
    assert_eq!(names[names.len() - 2..], ["thread.run.incomplete", "done"]);
    let message = events
        .iter()
        .find(|e| e.name == "thread.message.incomplete")
        .unwrap()
        .json();
    assert_eq!(message["status"], "incomplete");
    assert_eq!(
        message["incomplete_details"],
        json!({"reason": "max_tokens"})
    );
    assert!(message["incomplete_at"].is_i64());
    assert_eq!(message["completed_at"], json!(null));
    let run = events[events.len() - 2].json();
    assert_eq!(run["status"], "incomplete");
    assert_eq!(
        run["incomplete_details"],
        json!({"reason": "max_completion_tokens"})
    );
    assert!(run["completed_at"].is_i64());
    assert_eq!(run["max_completion_tokens"], 3);
    assert!(run["usage"]["completion_tokens"].as_u64().unwrap() <= 3);
}

/// The offline model, keeping every request it was sent.
#[derive(Default)]
struct Recorder(Mutex<Vec<ChatRequest>>);

#[async_trait::async_trait]
impl ChatModel for Recorder {
    async fn stream(&self, request: ChatRequest) -> Result<ChatStream, LlmError> {
        self.0.lock().unwrap().push(request.clone());
        OfflineModel::new().stream(request).await
    }
}

async fn recording_app(recorder: Arc<Recorder>) -> TestApp {
    // Awaited, not block_on: connecting runs queries (migrations, the bm25 statistics backfill)
    // that need this test's single-threaded runtime to make progress.
    TestApp::with_model(recorder, |_| {}).await
}

#[tokio::test]
async fn truncation_and_prompt_limits_shape_what_the_model_sees() {
    let recorder = Arc::new(Recorder::default());
    let app = recording_app(recorder.clone()).await;
    let assistant_id = assistant(&app, json!([])).await;
    let thread = app
        .create(
            "/v1/threads",
            json!({"messages": [
                {"role": "user", "content": "first question"},
                {"role": "user", "content": "second question"}
            ]}),
        )
        .await;
    let thread_id = thread["id"].as_str().unwrap();
    let run = create_run(
        &app,
        thread_id,
        json!({"assistant_id": assistant_id, "instructions": "Answer.",
            "truncation_strategy": {"type": "last_messages", "last_messages": 2},
            "additional_instructions": "Be brief.",
            "additional_messages": [{"role": "user", "content": "third question"}]}),
    )
    .await;
    assert_eq!(
        run["truncation_strategy"],
        json!({"type": "last_messages", "last_messages": 2})
    );
    assert_eq!(run["instructions"], "Answer.\n\nBe brief.");
    let done = poll_until(&app, thread_id, run["id"].as_str().unwrap(), SETTLED).await;
    assert_eq!(done["status"], "completed", "{done}");
    let seen: Vec<(Role, String)> = recorder.0.lock().unwrap()[0]
        .messages
        .iter()
        .map(|m| (m.role, m.text()))
        .collect();
    assert_eq!(
        seen,
        [
            (Role::System, "Answer.\n\nBe brief.".to_owned()),
            (Role::User, "second question".to_owned()),
            (Role::User, "third question".to_owned()),
        ]
    );
    let messages = app
        .get(&format!("/v1/threads/{thread_id}/messages"))
        .await
        .json();
    assert_eq!(
        messages["data"][1]["content"][0]["text"]["value"],
        "third question"
    );

    let long = "word ".repeat(300);
    let thread = app
        .create(
            "/v1/threads",
            json!({"messages": [
                {"role": "user", "content": long},
                {"role": "user", "content": long},
                {"role": "user", "content": "short"}
            ]}),
        )
        .await;
    let thread_id = thread["id"].as_str().unwrap();
    let run = create_run(
        &app,
        thread_id,
        json!({"assistant_id": assistant_id, "max_prompt_tokens": 256}),
    )
    .await;
    poll_until(&app, thread_id, run["id"].as_str().unwrap(), SETTLED).await;
    let request = recorder.0.lock().unwrap()[1].clone();
    assert!(server::llm::tokens::count_prompt(&request) <= 256);
    assert_eq!(
        request.messages.len(),
        1,
        "the two long messages were dropped"
    );
}

#[tokio::test]
async fn an_unanswered_requires_action_run_expires() {
    let app = TestApp::configured(|settings| {
        settings.run_expiry = std::time::Duration::from_secs(1);
    })
    .await;
    let assistant_id = assistant(&app, json!([function_tool("get_weather")])).await;
    let thread_id = thread_with(&app, "get_weather please").await;
    let run = create_run(&app, &thread_id, json!({"assistant_id": assistant_id})).await;
    assert_eq!(
        run["expires_at"].as_i64(),
        Some(run["created_at"].as_i64().unwrap() + 1)
    );
    let run_id = run["id"].as_str().unwrap();
    let ended = poll_until(
        &app,
        &thread_id,
        run_id,
        &["expired", "completed", "failed"],
    )
    .await;
    assert_eq!(ended["status"], "expired", "{ended}");
    assert_eq!(ended["required_action"], json!(null));
    let steps = app
        .get(&format!("/v1/threads/{thread_id}/runs/{run_id}/steps"))
        .await
        .json();
    assert_eq!(steps["data"][0]["status"], "expired");
    let late = app
        .post(
            &format!("/v1/threads/{thread_id}/runs/{run_id}/submit_tool_outputs"),
            json!({"tool_outputs": [{"tool_call_id": "call_x", "output": "x"}]}),
        )
        .await;
    assert_eq!(
        late.message(),
        "Runs in status \"expired\" do not accept tool outputs."
    );
}

#[tokio::test]
async fn create_thread_and_run_polled() {
    let app = TestApp::new().await;
    let assistant_id = assistant(&app, json!([])).await;
    let run = app
        .create(
            "/v1/threads/runs",
            json!({"assistant_id": assistant_id, "metadata": {"a": "b"},
                "thread": {"messages": [{"role": "user", "content": "What should I eat?"}]}}),
        )
        .await;
    assert_eq!(run["status"], "queued");
    assert_eq!(run["metadata"], json!({"a": "b"}));
    let thread_id = run["thread_id"].as_str().unwrap();
    let done = poll_until(&app, thread_id, run["id"].as_str().unwrap(), SETTLED).await;
    assert_eq!(done["status"], "completed");
    let empty = app
        .post("/v1/threads/runs", json!({"assistant_id": assistant_id}))
        .await;
    assert_eq!(empty.json()["error"]["code"], "invalid_thread");
    let missing = app
        .post(
            "/v1/threads/runs",
            json!({"assistant_id": "asst_missing", "thread": {}}),
        )
        .await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn a_client_that_leaves_a_stream_does_not_stop_the_run() {
    let app = TestApp::configured(|settings| settings.llm.offline_delay_ms = 20).await;
    let assistant_id = assistant(&app, json!([])).await;
    let thread_id = thread_with(&app, "stream me and then go away").await;
    let stream = start_streamed_run(&app, &thread_id, &assistant_id).await;
    drop(stream);
    let runs = app
        .get(&format!("/v1/threads/{thread_id}/runs"))
        .await
        .json();
    let run_id = runs["data"][0]["id"].as_str().unwrap();
    let done = poll_until(&app, &thread_id, run_id, SETTLED).await;
    assert_eq!(done["status"], "completed");
}

/// A model that never answers: a run calling it holds its run slot until cancelled.
struct Stalled;

#[async_trait::async_trait]
impl ChatModel for Stalled {
    async fn stream(&self, _request: ChatRequest) -> Result<ChatStream, LlmError> {
        Ok(Box::pin(futures::stream::pending()))
    }
}

#[tokio::test]
async fn a_queued_run_waiting_for_a_run_slot_is_cancelled_at_once() {
    let app = TestApp::with_model(Arc::new(Stalled), |settings| {
        settings.max_concurrent_runs = 1;
    })
    .await;
    let assistant_id = assistant(&app, json!([])).await;
    let busy_thread = thread_with(&app, "I hold the only run slot").await;
    let busy = create_run(&app, &busy_thread, json!({"assistant_id": assistant_id})).await;
    let busy_id = busy["id"].as_str().unwrap();
    poll_until(&app, &busy_thread, busy_id, &["in_progress"]).await;

    let thread_id = thread_with(&app, "I wait for a slot").await;
    let waiting = create_run(&app, &thread_id, json!({"assistant_id": assistant_id})).await;
    let run_id = waiting["id"].as_str().unwrap();
    let answer = app
        .post(
            &format!("/v1/threads/{thread_id}/runs/{run_id}/cancel"),
            json!({}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json()["status"], "cancelling");
    let run = poll_until(&app, &thread_id, run_id, SETTLED).await;
    assert_eq!(run["status"], "cancelled");
    assert!(run["cancelled_at"].is_i64());
    assert_eq!(run["started_at"], json!(null));
    let busy_now = app
        .get(&format!("/v1/threads/{busy_thread}/runs/{busy_id}"))
        .await
        .json();
    assert_eq!(busy_now["status"], "in_progress", "the slot is still held");

    // Freeing the slot later does not end the cancelled run a second time.
    app.post(
        &format!("/v1/threads/{busy_thread}/runs/{busy_id}/cancel"),
        json!({}),
    )
    .await;
    poll_until(&app, &busy_thread, busy_id, SETTLED).await;
    let steps = app
        .get(&format!("/v1/threads/{thread_id}/runs/{run_id}/steps"))
        .await
        .json();
    assert_eq!(steps["data"], json!([]));
    let again = app
        .get(&format!("/v1/threads/{thread_id}/runs/{run_id}"))
        .await
        .json();
    assert_eq!(again["cancelled_at"], run["cancelled_at"]);
}
