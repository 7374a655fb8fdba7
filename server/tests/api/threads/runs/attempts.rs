//! A run whose model turn takes the server down is not resumed forever: every start of
//! the turn is counted in the database before the model is called, and the restart
//! that finds the turn started `MAX_RUN_ATTEMPTS` times ends the run `failed`
//! (`server_error`) with its open step failed. Each "server" here is a fresh app on
//! the same database whose model never finishes its turn, as a server that died in it.

use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;
use serde_json::{json, Value};
use server::llm::{ChatEvent, ChatModel, ChatRequest, ChatStream, LlmError};
use server::runs::recovery::GAVE_UP_MESSAGE;
use server::runs::MAX_RUN_ATTEMPTS;
use server::store::{Store, Tenant};
use server::AppState;

use crate::support::runs::{assistant, create_run, function_tool, poll_until, thread_with};
use testkit::{TestApp, TestDatabase, KEY};

/// Starts an answer, then never finishes it (the process "dies" mid-turn).
struct Stuck;

#[async_trait]
impl ChatModel for Stuck {
    async fn stream(&self, _request: ChatRequest) -> Result<ChatStream, LlmError> {
        let first = futures::stream::iter([Ok(ChatEvent::TextDelta("Half".into()))]);
        Ok(first.chain(futures::stream::pending()).boxed())
    }
}

/// One server process on `store` (a store of `database`), its model being `model`.
fn server_on(
    database: &Arc<TestDatabase>,
    store: &Arc<dyn Store>,
    model: Arc<dyn ChatModel>,
) -> (TestApp, AppState) {
    let state = AppState::with_parts(Arc::clone(store), model, &database.settings());
    (
        TestApp::from_state(Arc::clone(database), state.clone()),
        state,
    )
}

/// The attempts recorded for `run_id`, if it is unfinished.
async fn attempts(store: &Arc<dyn Store>, run_id: &str) -> Option<u32> {
    let unfinished = store.unfinished_runs().await.unwrap();
    unfinished
        .into_iter()
        .find(|found| found.run.id == run_id)
        .map(|found| found.attempts)
}

/// Waits (a bounded number of polls) until the run's turn was started `count` times
/// and its half-written step exists.
async fn wait_for_attempt(
    app: &TestApp,
    store: &Arc<dyn Store>,
    path: &str,
    run_id: &str,
    count: u32,
) {
    for _ in 0..2000 {
        let steps = app.get(&format!("{path}/steps")).await.json();
        let has_step = steps["data"].as_array().is_some_and(|d| !d.is_empty());
        if has_step && attempts(store, run_id).await == Some(count) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("attempt {count} of {run_id} never started");
}

#[tokio::test]
async fn a_turn_that_keeps_taking_the_server_down_fails_the_run_after_three_attempts() {
    assert_eq!(MAX_RUN_ATTEMPTS, 3);
    let database = Arc::new(TestDatabase::new().await);
    let store = database.connect().await;
    let (first, _) = server_on(&database, &store, Arc::new(Stuck));
    let assistant_id = assistant(&first, json!([])).await;
    let thread_id = thread_with(&first, "Tell me a story").await;
    let run = create_run(&first, &thread_id, json!({"assistant_id": assistant_id})).await;
    let run_id = run["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/threads/{thread_id}/runs/{run_id}");
    wait_for_attempt(&first, &store, &path, &run_id, 1).await;

    // Restarts 1 and 2 resume the run; each resumed turn counts.
    for attempt in 2..=MAX_RUN_ATTEMPTS {
        let (app, state) = server_on(&database, &store, Arc::new(Stuck));
        assert_eq!(state.runs.recover_unfinished().await.unwrap(), 1);
        wait_for_attempt(&app, &store, &path, &run_id, attempt).await;
        let steps = app.get(&format!("{path}/steps")).await.json();
        assert_eq!(
            steps["data"].as_array().unwrap().len(),
            1,
            "the interrupted step is replaced"
        );
    }

    // Restart 3 gives up: the run fails, as a model error would fail it.
    let (app, state) = server_on(&database, &store, Arc::new(Stuck));
    let mut events = state.runs.hub.subscribe(&run_id);
    assert_eq!(state.runs.recover_unfinished().await.unwrap(), 1);
    let failed = app.get(&path).await.json();
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(
        failed["last_error"],
        json!({"code": "server_error", "message": GAVE_UP_MESSAGE})
    );
    assert!(failed["failed_at"].is_i64());
    assert_eq!(failed["expires_at"], Value::Null);
    assert_eq!(
        attempts(&store, &run_id).await,
        None,
        "no longer unfinished"
    );
    let steps = app.get(&format!("{path}/steps")).await.json();
    let steps = steps["data"].as_array().unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0]["status"], "failed");
    assert_eq!(steps[0]["last_error"], failed["last_error"]);
    let mut names = Vec::new();
    while let Ok(event) = events.try_recv() {
        names.push(event.name);
    }
    assert_eq!(names, ["thread.run.step.failed", "thread.run.failed"]);

    // A further restart leaves it alone.
    let (_, state) = server_on(&database, &store, Arc::new(Stuck));
    assert_eq!(state.runs.recover_unfinished().await.unwrap(), 0);
}

#[tokio::test]
async fn a_run_resting_for_tool_outputs_starts_counting_afresh() {
    let database = Arc::new(TestDatabase::new().await);
    let store = database.connect().await;
    let (app, _) = server_on(
        &database,
        &store,
        Arc::new(server::llm::OfflineModel::new()),
    );
    let assistant_id = assistant(&app, json!([function_tool("get_weather")])).await;
    let thread_id = thread_with(&app, "Call get_weather for Paris").await;
    let run = create_run(&app, &thread_id, json!({"assistant_id": assistant_id})).await;
    let run_id = run["id"].as_str().unwrap();
    poll_until(&app, &thread_id, run_id, &["requires_action"]).await;
    let tenant = Tenant::from_api_key(KEY);
    // Earlier turns' starts do not count against the next one.
    assert_eq!(attempts(&store, run_id).await, Some(0));
    assert_eq!(store.start_attempt(&tenant, run_id).await.unwrap(), 1);
}
