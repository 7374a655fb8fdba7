//! Concurrent `submit_tool_outputs` on one run: the submission is one compare-and-set,
//! so exactly one caller wins and the run's next turn happens once.
//!
//! The server has two run slots, held by runs whose model never answers: the winning
//! submission's run stays `queued` until one is cancelled, so every other submission
//! meets the run in `queued` whatever the scheduling (the race the issue measured, made
//! deterministic). Run slots are handed out in order, which also makes a duplicate
//! worker for the run observable.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Value};
use server::llm::{ChatModel, ChatRequest, ChatStream, LlmError, OfflineModel, Role};
use server::runs::RunKey;
use server::store::Tenant;
use tokio::sync::watch;

use crate::support::runs::{assistant, create_run, function_tool, poll_until, thread_with};
use testkit::{TestApp, KEY};

/// Callers racing to answer the same waiting run.
const CALLERS: usize = 20;

/// The offline model, except that it never answers a user who says "hold", and
/// answers tool outputs only once `gate` opens (counting those turns).
struct Holding {
    gate: watch::Receiver<bool>,
    output_turns: AtomicUsize,
}

#[async_trait]
impl ChatModel for Holding {
    async fn stream(&self, request: ChatRequest) -> Result<ChatStream, LlmError> {
        let last = request.messages.last();
        if last.is_some_and(|m| m.text() == "hold") {
            return Ok(Box::pin(futures::stream::pending()));
        }
        if last.is_some_and(|m| m.role == Role::Tool) {
            self.output_turns.fetch_add(1, Ordering::SeqCst);
            let mut gate = self.gate.clone();
            let _ = gate.wait_for(|open| *open).await;
        }
        OfflineModel::new().stream(request).await
    }
}

/// Starts a run that takes a run slot until it is cancelled; returns its cancel path.
async fn hold_a_slot(app: &TestApp, assistant_id: &str) -> String {
    let thread_id = thread_with(app, "hold").await;
    let run = create_run(app, &thread_id, json!({"assistant_id": assistant_id})).await;
    let run_id = run["id"].as_str().unwrap();
    poll_until(app, &thread_id, run_id, &["in_progress"]).await;
    format!("/v1/threads/{thread_id}/runs/{run_id}/cancel")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_submissions_have_one_winner_and_one_turn() {
    let (open_gate, gate) = watch::channel(false);
    let model = Arc::new(Holding {
        gate,
        output_turns: AtomicUsize::new(0),
    });
    let (app, state) = TestApp::with_model_state(model.clone(), |settings| {
        settings.max_concurrent_runs = 2;
    })
    .await;
    let assistant_id = assistant(&app, json!([function_tool("get_weather")])).await;
    let thread_id = thread_with(&app, "Call get_weather for Paris").await;
    let run = create_run(&app, &thread_id, json!({"assistant_id": assistant_id})).await;
    let run_id = run["id"].as_str().unwrap().to_owned();
    let waiting = poll_until(&app, &thread_id, &run_id, &["requires_action"]).await;
    let call_id = waiting["required_action"]["submit_tool_outputs"]["tool_calls"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Take both run slots.
    let first_holder = hold_a_slot(&app, &assistant_id).await;
    let second_holder = hold_a_slot(&app, &assistant_id).await;

    let path = format!("/v1/threads/{thread_id}/runs/{run_id}/submit_tool_outputs");
    let submissions: Vec<_> = (0..CALLERS)
        .map(|caller| {
            let app = app.clone();
            let path = path.clone();
            let body = json!({"tool_outputs": [{"tool_call_id": call_id,
                "output": format!("answer {caller}")}]});
            tokio::spawn(async move { app.post(&path, body).await })
        })
        .collect();
    let mut accepted = Vec::new();
    for (caller, submission) in submissions.into_iter().enumerate() {
        let response = submission.await.unwrap();
        match response.status.as_u16() {
            200 => accepted.push(caller),
            400 => {
                let error = &response.json()["error"];
                assert_eq!(
                    error,
                    &json!({"message": "Runs in status \"queued\" do not accept tool outputs.",
                        "type": "invalid_request_error", "param": null, "code": null})
                );
            }
            other => panic!("caller {caller}: unexpected {other}: {}", response.text),
        }
    }
    assert_eq!(
        accepted.len(),
        1,
        "exactly one submission wins: {accepted:?}"
    );
    // A duplicate worker for the queued run (as a second start would make) waits for
    // a slot behind the winner's worker, and a third run behind both.
    let key = RunKey {
        tenant: Tenant::from_api_key(KEY),
        thread_id: thread_id.clone(),
        run_id: run_id.clone(),
    };
    state.runs.start(key, None);
    let later_thread = thread_with(&app, "Hello").await;
    let later = create_run(&app, &later_thread, json!({"assistant_id": assistant_id})).await;
    let later_id = later["id"].as_str().unwrap();

    // One slot frees: the winner's worker takes the run into its turn.
    assert_eq!(app.post(&first_holder, json!({})).await.status, 200);
    poll_until(&app, &thread_id, &run_id, &["in_progress"]).await;
    // The other frees: the duplicate worker gets it and must leave the run alone,
    // passing the slot on to the later run.
    assert_eq!(app.post(&second_holder, json!({})).await.status, 200);
    let finished = poll_until(&app, &later_thread, later_id, &["completed"]).await;
    assert_eq!(finished["status"], "completed");
    assert_eq!(
        model.output_turns.load(Ordering::SeqCst),
        1,
        "one turn after the outputs"
    );

    open_gate.send(true).unwrap();
    let done = poll_until(
        &app,
        &thread_id,
        &run_id,
        &["completed", "failed", "incomplete", "cancelled", "expired"],
    )
    .await;
    assert_eq!(done["status"], "completed", "{done}");
    let winner = format!("answer {}", accepted[0]);
    let messages = app
        .get(&format!("/v1/threads/{thread_id}/messages?run_id={run_id}"))
        .await
        .json();
    let replies: Vec<&Value> = messages["data"].as_array().unwrap().iter().collect();
    assert_eq!(replies.len(), 1, "one turn, one message: {messages}");
    assert_eq!(
        replies[0]["content"][0]["text"]["value"],
        format!("get_weather returned \"{winner}\".")
    );
    let steps = app
        .get(&format!(
            "/v1/threads/{thread_id}/runs/{run_id}/steps?order=asc"
        ))
        .await
        .json();
    let steps = steps["data"].as_array().unwrap();
    let kinds: Vec<&str> = steps.iter().map(|s| s["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["tool_calls", "message_creation"]);
    assert_eq!(
        steps[0]["step_details"]["tool_calls"][0]["function"]["output"],
        winner.as_str(),
        "the winner's output is the one recorded"
    );
}
