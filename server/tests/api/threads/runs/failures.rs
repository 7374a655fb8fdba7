//! Model failures end the run `failed` with OpenAI's `last_error {code, message}`:
//! before any output (rate limit) and in the middle of an answer (the open step fails
//! too); a streamed run then ends with `thread.run.failed` and `done`.

use std::sync::Arc;

use crate::support::runs::{assistant, create_run, parse_sse, poll_until, thread_with, SETTLED};
use async_trait::async_trait;
use futures::StreamExt;
use serde_json::json;
use server::llm::{ChatEvent, ChatModel, ChatRequest, ChatStream, LlmError};
use testkit::TestApp;

/// Fails before answering when the user says "limit", else after one word.
struct Failing;

#[async_trait]
impl ChatModel for Failing {
    async fn stream(&self, request: ChatRequest) -> Result<ChatStream, LlmError> {
        let text = request
            .messages
            .last()
            .map(|m| m.text())
            .unwrap_or_default();
        if text.contains("limit") {
            return Err(LlmError::rate_limited("Rate limit reached for requests"));
        }
        let events = vec![
            Ok(ChatEvent::TextDelta("Hello".into())),
            Err(LlmError::server_error("the upstream connection was reset")),
        ];
        Ok(futures::stream::iter(events).boxed())
    }
}

async fn failing_app() -> TestApp {
    TestApp::with_model(Arc::new(Failing), |_| {}).await
}

#[tokio::test]
async fn a_model_error_before_output_fails_the_run() {
    let app = failing_app().await;
    let assistant_id = assistant(&app, json!([])).await;
    let thread_id = thread_with(&app, "hit the limit").await;
    let run = create_run(&app, &thread_id, json!({"assistant_id": assistant_id})).await;
    let failed = poll_until(&app, &thread_id, run["id"].as_str().unwrap(), SETTLED).await;
    assert_eq!(failed["status"], "failed");
    assert_eq!(
        failed["last_error"],
        json!({"code": "rate_limit_exceeded", "message": "Rate limit reached for requests"})
    );
    assert!(failed["failed_at"].is_i64());
    assert_eq!(failed["expires_at"], json!(null));
    let free = app
        .post(
            &format!("/v1/threads/{thread_id}/messages"),
            json!({"role": "user", "content": "the thread is free again"}),
        )
        .await;
    assert_eq!(free.status, 200);
}

#[tokio::test]
async fn a_model_error_mid_answer_fails_the_step_and_the_stream_says_so() {
    let app = failing_app().await;
    let assistant_id = assistant(&app, json!([])).await;
    let thread_id = thread_with(&app, "say hello").await;
    let response = app
        .post(
            &format!("/v1/threads/{thread_id}/runs"),
            json!({"assistant_id": assistant_id, "stream": true}),
        )
        .await;
    let events = parse_sse(&response.text);
    let names: Vec<&str> = events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names[names.len() - 3..],
        ["thread.run.step.failed", "thread.run.failed", "done"]
    );
    let step = events[events.len() - 3].json();
    assert_eq!(step["status"], "failed");
    assert_eq!(step["last_error"]["code"], "server_error");
    let run = events[events.len() - 2].json();
    assert_eq!(
        run["last_error"]["message"],
        "the upstream connection was reset"
    );
    let messages = app
        .get(&format!("/v1/threads/{thread_id}/messages"))
        .await
        .json();
    assert_eq!(
        messages["data"][0]["content"][0]["text"]["value"], "Hello",
        "the text written before the failure is kept"
    );
}
