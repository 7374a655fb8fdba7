//! A run waiting for tool outputs past its `expires_at` is expired by whichever instance
//! meets it first: the one that rested it (its timer), one that claims it, or one that
//! receives outputs or a cancel for it, which are refused as for an expired run. So a
//! client never sees the run expired beside a step still in progress, and late outputs
//! never race the expiry.

use std::time::Duration;

use serde_json::{json, Value};
use server::ids::{new_id, unix_now, IdKind};
use server::models::{Message, Run, Thread};
use server::runs::progress::new_step;
use server::store::Tenant;
use testkit::TestDatabase;

use crate::client::KEY;
use crate::models::offline;
use crate::node::Node;
use crate::serial;

/// A thread whose run waits for the output of call `call_late` since `expires_at`,
/// written as an instance that died would have left it (no lease: claimable).
async fn waiting_past_expiry(node: &Node, expires_at: i64) -> (String, String) {
    let tenant = Tenant::from_api_key(KEY);
    let store = &node.state.store;
    let now = unix_now();
    let thread: Thread = serde_json::from_value(json!({"id": new_id(IdKind::Thread),
        "object": "thread", "created_at": now, "metadata": {}, "tool_resources": {}}))
    .unwrap();
    let message: Message = serde_json::from_value(json!({"id": new_id(IdKind::Message),
        "object": "thread.message", "created_at": now, "assistant_id": null,
        "thread_id": thread.id, "run_id": null, "role": "user",
        "content": [{"type": "text", "text": {"value": "Call get_weather", "annotations": []}}],
        "attachments": [], "metadata": {}}))
    .unwrap();
    store
        .insert_thread(&tenant, &thread, &[message])
        .await
        .unwrap();
    let call = json!({"id": "call_late", "type": "function",
        "function": {"name": "get_weather", "arguments": "{}"}});
    let run: Run = serde_json::from_value(json!({
        "id": new_id(IdKind::Run), "object": "thread.run", "created_at": now - 700,
        "assistant_id": "asst_gone", "thread_id": thread.id, "status": "requires_action",
        "started_at": now - 700, "expires_at": expires_at, "cancelled_at": null,
        "failed_at": null, "completed_at": null,
        "required_action": {"type": "submit_tool_outputs",
            "submit_tool_outputs": {"tool_calls": [call]}},
        "last_error": null, "model": "gpt-4o", "instructions": null, "tools": [],
        "tool_resources": {}, "metadata": {}, "temperature": 1.0, "top_p": 1.0,
        "reasoning_effort": null, "max_completion_tokens": null, "max_prompt_tokens": null,
        "truncation_strategy": {"type": "auto", "last_messages": null},
        "incomplete_details": null, "usage": null, "response_format": "auto",
        "tool_choice": "auto", "parallel_tool_calls": true
    }))
    .unwrap();
    store.insert_run(&tenant, &run, &[]).await.unwrap();
    let mut details = json!({"type": "tool_calls", "tool_calls": [call]});
    details["tool_calls"][0]["function"]["output"] = Value::Null;
    let step = new_step(&run, "tool_calls", details);
    store.insert_step(&tenant, &step).await.unwrap();
    (thread.id, run.id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outputs_or_a_cancel_after_expires_at_expire_the_run_instead() {
    let _one = serial().await;
    let db = TestDatabase::reconnectable().await;
    // No keeper: nothing claims the runs, only the requests meet them.
    let node = Node::without_keeper(&db, "late", offline(), Duration::from_secs(2)).await;
    let past = unix_now() - 1;
    for request in ["submit_tool_outputs", "cancel"] {
        let (thread, run) = waiting_past_expiry(&node, past).await;
        let path = format!("/threads/{thread}/runs/{run}/{request}");
        let body = json!({"tool_outputs": [{"tool_call_id": "call_late", "output": "sunny"}]});
        let answer = node
            .api
            .send(reqwest::Method::POST, &path, Some(&body))
            .await;
        assert_eq!(answer.status, 400, "{request}: {}", answer.body);
        let expected = match request {
            "cancel" => "Cannot cancel run with status 'expired'.",
            _ => "Runs in status \"expired\" do not accept tool outputs.",
        };
        assert_eq!(answer.body["error"]["message"], expected);
        let stored = node.api.get(&format!("/threads/{thread}/runs/{run}")).await;
        assert_eq!(stored["status"], "expired", "{stored}");
        assert_eq!(stored["required_action"], Value::Null);
        let steps = node
            .api
            .get(&format!("/threads/{thread}/runs/{run}/steps"))
            .await;
        assert_eq!(steps["data"][0]["status"], "expired", "{steps}");
    }
    // Before its expiry the same outputs are taken.
    let (thread, run) = waiting_past_expiry(&node, unix_now() + 600).await;
    let taken = node
        .api
        .post(
            &format!("/threads/{thread}/runs/{run}/submit_tool_outputs"),
            json!({"tool_outputs": [{"tool_call_id": "call_late", "output": "sunny"}]}),
        )
        .await;
    assert_eq!(taken["status"], "queued");
}
