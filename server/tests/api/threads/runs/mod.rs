//! Runs polled through their lifecycle with the offline model: create, retrieve, list,
//! modify, the thread lock, invalid_thread, cancel and unknown ids.

mod attempts;
mod budget;
mod cancel;
mod failures;
mod file_search;
mod limits;
mod restart;
mod shapes;
mod steps;
mod stream;
mod submissions;

use crate::support::runs::{assistant, create_run, poll_until, thread_with, SETTLED};
use serde_json::json;
use testkit::{assert_error, TestApp};

#[tokio::test]
async fn a_run_is_created_queued_and_polled_to_completed() {
    let app = TestApp::new().await;
    let assistant_id = assistant(&app, json!([])).await;
    let thread_id = thread_with(&app, "Hello, assistant!").await;
    let run = create_run(&app, &thread_id, json!({"assistant_id": assistant_id})).await;
    assert_eq!(run["status"], "queued");
    assert_eq!(run["started_at"], json!(null));
    assert_eq!(
        run["expires_at"].as_i64(),
        Some(run["created_at"].as_i64().unwrap() + 600)
    );
    assert_eq!(run["tool_resources"], json!({}));
    assert_eq!(
        run["truncation_strategy"],
        json!({"type": "auto", "last_messages": null})
    );
    let run_id = run["id"].as_str().unwrap();
    let done = poll_until(&app, &thread_id, run_id, SETTLED).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["expires_at"], json!(null));
    assert!(done["started_at"].is_i64() && done["completed_at"].is_i64());
    let usage = &done["usage"];
    assert_eq!(
        usage["total_tokens"].as_u64(),
        Some(
            usage["prompt_tokens"].as_u64().unwrap() + usage["completion_tokens"].as_u64().unwrap()
        )
    );
    assert_eq!(usage["prompt_token_details"], json!({"cached_tokens": 0}));
    assert_eq!(
        usage["completion_tokens_details"],
        json!({"reasoning_tokens": 0})
    );
    let messages = app
        .get(&format!("/v1/threads/{thread_id}/messages"))
        .await
        .json();
    let reply = &messages["data"][0];
    assert_eq!(reply["role"], "assistant");
    assert_eq!(reply["run_id"], run_id);
    assert_eq!(reply["assistant_id"], assistant_id.as_str());
    assert_eq!(
        reply["content"][0]["text"]["value"],
        "You said: \"Hello, assistant!\""
    );
    assert!(
        reply.get("status").is_none(),
        "REST messages carry no status"
    );
    let list = app
        .get(&format!("/v1/threads/{thread_id}/runs"))
        .await
        .json();
    assert_eq!(list["data"][0]["id"], run_id);
    assert_eq!(list["first_id"], run_id);
}

#[tokio::test]
async fn a_thread_with_an_active_run_refuses_messages_and_runs() {
    let app = TestApp::configured(|settings| settings.llm.offline_delay_ms = 60_000).await;
    let assistant_id = assistant(&app, json!([])).await;
    let thread_id = thread_with(&app, "Take your time").await;
    let run = create_run(&app, &thread_id, json!({"assistant_id": assistant_id})).await;
    let run_id = run["id"].as_str().unwrap();
    let message = app
        .post(
            &format!("/v1/threads/{thread_id}/messages"),
            json!({"role": "user", "content": "more"}),
        )
        .await;
    let locked = format!("Can't add messages to {thread_id} while a run {run_id} is active.");
    assert_error(&message, 400, &locked, None, None);
    let second = app
        .post(
            &format!("/v1/threads/{thread_id}/runs"),
            json!({"assistant_id": assistant_id}),
        )
        .await;
    let busy = format!("Thread {thread_id} already has an active run {run_id}.");
    assert_error(&second, 400, &busy, None, None);
    let cancelling = app
        .post(
            &format!("/v1/threads/{thread_id}/runs/{run_id}/cancel"),
            json!({}),
        )
        .await
        .json();
    assert_eq!(cancelling["status"], "cancelling");
    let cancelled = poll_until(&app, &thread_id, run_id, SETTLED).await;
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
    assert!(cancelled["cancelled_at"].is_i64());
    assert_eq!(cancelled["expires_at"], json!(null));
    let again = app
        .post(
            &format!("/v1/threads/{thread_id}/runs/{run_id}/cancel"),
            json!({}),
        )
        .await;
    assert_error(
        &again,
        400,
        "Cannot cancel run with status 'cancelled'.",
        None,
        None,
    );
    let after = app
        .post(
            &format!("/v1/threads/{thread_id}/messages"),
            json!({"role": "user", "content": "now it is free"}),
        )
        .await;
    assert_eq!(after.status, 200, "{}", after.text);
}

#[tokio::test]
async fn a_run_needs_a_user_message_or_instructions() {
    let app = TestApp::new().await;
    let assistant_id = assistant(&app, json!([])).await;
    let thread = app.create("/v1/threads", json!({})).await;
    let thread_id = thread["id"].as_str().unwrap();
    let response = app
        .post(
            &format!("/v1/threads/{thread_id}/runs"),
            json!({"assistant_id": assistant_id}),
        )
        .await;
    assert_error(
        &response,
        400,
        "Run creation requires a Thread with a user message or an assistant with instructions.",
        None,
        Some("invalid_thread"),
    );
    let runs = app
        .get(&format!("/v1/threads/{thread_id}/runs"))
        .await
        .json();
    assert_eq!(runs["data"], json!([]));
    let with_instructions = create_run(
        &app,
        thread_id,
        json!({"assistant_id": assistant_id, "instructions": "Greet the user."}),
    )
    .await;
    assert_eq!(with_instructions["instructions"], "Greet the user.");
}

#[tokio::test]
async fn unknown_runs_and_assistants_are_404() {
    let app = TestApp::new().await;
    let thread_id = thread_with(&app, "hi").await;
    let missing = app
        .get(&format!("/v1/threads/{thread_id}/runs/run_abc"))
        .await;
    assert_error(&missing, 404, "No run found with id 'run_abc'.", None, None);
    let no_assistant = app
        .post(
            &format!("/v1/threads/{thread_id}/runs"),
            json!({"assistant_id": "asst_nope"}),
        )
        .await;
    assert_error(
        &no_assistant,
        404,
        "No assistant found with id 'asst_nope'.",
        None,
        None,
    );
    let bad_prefix = app.get(&format!("/v1/threads/{thread_id}/runs/xyz")).await;
    assert_eq!(bad_prefix.status, 400);
}

#[tokio::test]
async fn modify_run_changes_metadata_of_an_ended_run_only() {
    let app = TestApp::new().await;
    let assistant_id = assistant(&app, json!([])).await;
    let thread_id = thread_with(&app, "hello").await;
    let run = create_run(&app, &thread_id, json!({"assistant_id": assistant_id})).await;
    let run_id = run["id"].as_str().unwrap();
    poll_until(&app, &thread_id, run_id, SETTLED).await;
    let modified = app
        .post(
            &format!("/v1/threads/{thread_id}/runs/{run_id}"),
            json!({"metadata": {"k": "v"}}),
        )
        .await
        .json();
    assert_eq!(modified["metadata"], json!({"k": "v"}));
    let wrong = app
        .post(
            &format!("/v1/threads/{thread_id}/runs/{run_id}"),
            json!({"metadata": {"modified": true}}),
        )
        .await;
    assert_error(
        &wrong,
        400,
        "Invalid type for 'metadata.modified': expected a string, but got a boolean instead.",
        Some("metadata.modified"),
        Some("invalid_type"),
    );
}

#[tokio::test]
async fn another_tenant_sees_no_runs_or_steps() {
    let app = TestApp::new().await;
    let assistant_id = assistant(&app, json!([])).await;
    let thread_id = thread_with(&app, "mine").await;
    let run = create_run(&app, &thread_id, json!({"assistant_id": assistant_id})).await;
    let run_id = run["id"].as_str().unwrap();
    poll_until(&app, &thread_id, run_id, SETTLED).await;
    for path in [
        format!("/v1/threads/{thread_id}/runs"),
        format!("/v1/threads/{thread_id}/runs/{run_id}"),
        format!("/v1/threads/{thread_id}/runs/{run_id}/steps"),
    ] {
        let response = app
            .call_as(testkit::OTHER_KEY, axum::http::Method::GET, &path, None)
            .await;
        let missing = format!("No thread found with id '{thread_id}'.");
        assert_error(&response, 404, &missing, None, None);
    }
}

#[tokio::test]
async fn json_response_formats_shape_the_answer() {
    let app = TestApp::new().await;
    let assistant_id = assistant(&app, json!([])).await;
    let schema = json!({"type": "json_schema", "json_schema": {"name": "answer",
        "schema": {"type": "object", "properties": {"answer": {"type": "string"}},
            "required": ["answer"]}}});
    for format in [json!({"type": "json_object"}), schema] {
        let thread_id = thread_with(&app, "Write some JSON for me!").await;
        let body = json!({"assistant_id": assistant_id, "response_format": format});
        let run = create_run(&app, &thread_id, body).await;
        assert_eq!(run["response_format"], format);
        let done = poll_until(&app, &thread_id, run["id"].as_str().unwrap(), SETTLED).await;
        assert_eq!(done["status"], "completed");
        let messages = app
            .get(&format!("/v1/threads/{thread_id}/messages"))
            .await
            .json();
        let text = messages["data"][0]["content"][0]["text"]["value"]
            .as_str()
            .unwrap();
        let parsed: serde_json::Value = serde_json::from_str(text).expect("the answer is JSON");
        assert!(parsed.is_object(), "{text}");
    }
}

#[tokio::test]
async fn runs_and_steps_require_the_assistants_beta_header() {
    let app = TestApp::new().await;
    let thread_id = thread_with(&app, "hi").await;
    for path in [
        format!("/v1/threads/{thread_id}/runs"),
        format!("/v1/threads/{thread_id}/runs/run_x/steps"),
    ] {
        let request = axum::http::Request::builder()
            .uri(&path)
            .header("authorization", format!("Bearer {}", testkit::KEY))
            .body(axum::body::Body::empty())
            .unwrap();
        let response = app.send(request).await;
        assert_eq!(response.status, 400, "{path}");
        assert_eq!(response.json()["error"]["code"], "invalid_beta");
    }
}
