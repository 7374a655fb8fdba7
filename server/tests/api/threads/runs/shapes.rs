//! Snapshots of the run and step objects as REST returns them, each id and timestamp
//! checked for its shape before it is hidden, plus the upstream access a request
//! hands to the model (`api-key`, bearer key, `LLM-PARAM-<name>` headers).

use std::sync::{Arc, Mutex};

use crate::support::runs::{
    assistant, create_run, function_tool, poll_until, thread_with, SETTLED,
};
use serde_json::json;
use server::llm::{ChatModel, ChatRequest, ChatStream, LlmError, OfflineModel};
use testkit::{id_redaction, timestamp_redaction, TestApp, KEY};

/// Checks that `expires_at` is about ten minutes from now, then hides it.
fn expiry_redaction() -> insta::internals::Redaction {
    insta::dynamic_redaction(|value, path| {
        let at = value
            .as_i64()
            .unwrap_or_else(|| panic!("{path}: must be an integer"));
        let now = server::ids::unix_now();
        assert!(
            (now + 540..=now + 601).contains(&at),
            "{path}: {at} (now {now})"
        );
        "[created_at + 600]"
    })
}

#[tokio::test]
async fn run_and_step_shapes() {
    let app = TestApp::new().await;
    let assistant_id = assistant(&app, json!([function_tool("get_weather")])).await;
    let thread_id = thread_with(&app, "get_weather for Rome").await;
    let run = create_run(&app, &thread_id, json!({"assistant_id": assistant_id})).await;
    insta::assert_json_snapshot!("queued_run", run, {
        ".id" => id_redaction("run_"),
        ".assistant_id" => id_redaction("asst_"),
        ".thread_id" => id_redaction("thread_"),
        ".created_at" => timestamp_redaction(),
        ".expires_at" => expiry_redaction(),
    });
    let run_id = run["id"].as_str().unwrap();
    let waiting = poll_until(&app, &thread_id, run_id, SETTLED).await;
    insta::assert_json_snapshot!("requires_action_run", waiting, {
        ".id" => id_redaction("run_"),
        ".assistant_id" => id_redaction("asst_"),
        ".thread_id" => id_redaction("thread_"),
        ".created_at" => timestamp_redaction(),
        ".started_at" => timestamp_redaction(),
        ".expires_at" => expiry_redaction(),
        ".required_action.submit_tool_outputs.tool_calls[].id" => id_redaction("call_"),
    });
    let call_id = waiting["required_action"]["submit_tool_outputs"]["tool_calls"][0]["id"].clone();
    app.post(
        &format!("/v1/threads/{thread_id}/runs/{run_id}/submit_tool_outputs"),
        json!({"tool_outputs": [{"tool_call_id": call_id, "output": "22 degrees"}]}),
    )
    .await;
    let done = poll_until(&app, &thread_id, run_id, &["completed", "failed"]).await;
    insta::assert_json_snapshot!("completed_run", done, {
        ".id" => id_redaction("run_"),
        ".assistant_id" => id_redaction("asst_"),
        ".thread_id" => id_redaction("thread_"),
        ".created_at" => timestamp_redaction(),
        ".started_at" => timestamp_redaction(),
        ".completed_at" => timestamp_redaction(),
    });
    let steps = app
        .get(&format!("/v1/threads/{thread_id}/runs/{run_id}/steps"))
        .await
        .json();
    insta::assert_json_snapshot!("completed_steps", steps, {
        ".first_id" => id_redaction("step_"),
        ".last_id" => id_redaction("step_"),
        ".data[].id" => id_redaction("step_"),
        ".data[].run_id" => id_redaction("run_"),
        ".data[].assistant_id" => id_redaction("asst_"),
        ".data[].thread_id" => id_redaction("thread_"),
        ".data[].created_at" => timestamp_redaction(),
        ".data[].completed_at" => timestamp_redaction(),
        ".data[].step_details.message_creation.message_id" => id_redaction("msg_"),
        ".data[].step_details.tool_calls[].id" => id_redaction("call_"),
    });
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

#[tokio::test]
async fn request_headers_choose_the_upstream_key_and_extra_parameters() {
    let recorder = Arc::new(Recorder::default());
    let app = TestApp::with_model(recorder.clone(), |_| {}).await;
    let assistant_id = assistant(&app, json!([])).await;
    let thread_id = thread_with(&app, "hi").await;
    let request = axum::http::Request::builder()
        .method("POST")
        .uri(format!("/v1/threads/{thread_id}/runs"))
        .header("authorization", format!("Bearer {KEY}"))
        .header("openai-beta", "assistants=v2")
        .header("api-key", "sk-upstream")
        .header("LLM-PARAM-seed", "7")
        .header("llm-param-user", "alice")
        .body(axum::body::Body::from(
            json!({"assistant_id": assistant_id}).to_string(),
        ))
        .unwrap();
    let run = app.send(request).await.json();
    poll_until(&app, &thread_id, run["id"].as_str().unwrap(), SETTLED).await;
    let seen = recorder.0.lock().unwrap()[0].clone();
    assert_eq!(seen.credentials.api_key.as_deref(), Some("sk-upstream"));
    assert_eq!(seen.credentials.caller_bearer.as_deref(), Some(KEY));
    assert_eq!(seen.extra["seed"], json!(7));
    assert_eq!(seen.extra["user"], json!("alice"));
    assert_eq!(seen.model, "gpt-4o");
}
