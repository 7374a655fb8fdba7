//! Durability: a server killed in the middle of a run leaves it active in the
//! database; the next server on the same database resumes it (discarding the
//! half-written message) so it ends, never left active.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
use testkit::TestDatabase;

const KEY: &str = "sk-restart-test";

/// A server process on its own port; killed (not shut down) when dropped.
struct ServerProcess {
    child: Child,
    base: String,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The server binary on `database` (reconnectable: the restart reopens it).
async fn start(database: &TestDatabase, delay_ms: u64) -> ServerProcess {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_assistants-server"))
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--database",
            database.url(),
        ])
        .arg("--data-dir")
        .arg(database.data_dir())
        .args([
            "--llm",
            "offline",
            "--offline-delay-ms",
            &delay_ms.to_string(),
        ])
        .env_remove("ASSISTANTS_API_KEYS")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("server binary starts");
    let server = ServerProcess {
        child,
        base: format!("http://127.0.0.1:{port}/v1"),
    };
    for _ in 0..500 {
        if reqwest::Client::new()
            .get(format!("{}/assistants", server.base))
            .bearer_auth(KEY)
            .header("OpenAI-Beta", "assistants=v2")
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("server on port {port} never became ready");
}

async fn call(base: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
    let mut request = reqwest::Client::new()
        .request(method, format!("{base}{path}"))
        .bearer_auth(KEY)
        .header("OpenAI-Beta", "assistants=v2");
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request sent");
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

async fn poll(base: &str, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..1000 {
        let value = call(base, reqwest::Method::GET, path, None).await;
        if done(&value) {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{path} never reached the expected state");
}

#[tokio::test]
async fn a_run_interrupted_by_a_crash_completes_after_restart() {
    let database = TestDatabase::reconnectable().await;
    let first = start(&database, 150).await;
    let post = reqwest::Method::POST;
    let assistant = call(
        &first.base,
        post.clone(),
        "/assistants",
        Some(json!({"model": "gpt-4o"})),
    )
    .await;
    let thread = call(
        &first.base,
        post.clone(),
        "/threads",
        Some(json!({"messages": [{"role": "user", "content": "Tell me something with quite a few words in it"}]})),
    )
    .await;
    let thread_id = thread["id"].as_str().unwrap().to_owned();
    let run = call(
        &first.base,
        post,
        &format!("/threads/{thread_id}/runs"),
        Some(json!({"assistant_id": assistant["id"]})),
    )
    .await;
    let run_id = run["id"].as_str().unwrap().to_owned();
    let steps_path = format!("/threads/{thread_id}/runs/{run_id}/steps");
    // Wait until the model turn is under way: its message and step exist, half-written.
    let steps = poll(&first.base, &steps_path, |list| {
        list["data"].as_array().is_some_and(|d| !d.is_empty())
    })
    .await;
    let interrupted_step = steps["data"][0]["id"].clone();
    drop(first);

    let second = start(&database, 0).await;
    let run_path = format!("/threads/{thread_id}/runs/{run_id}");
    let ended = poll(&second.base, &run_path, |run| {
        !matches!(
            run["status"].as_str(),
            Some("queued" | "in_progress" | "cancelling")
        )
    })
    .await;
    assert_eq!(ended["status"], "completed", "{ended}");
    assert_eq!(ended["expires_at"], json!(null));
    let steps = call(&second.base, reqwest::Method::GET, &steps_path, None).await;
    let steps = steps["data"].as_array().unwrap();
    assert_eq!(
        steps.len(),
        1,
        "the interrupted step is replaced: {steps:?}"
    );
    assert_ne!(steps[0]["id"], interrupted_step);
    assert_eq!(steps[0]["status"], "completed");
    let messages = call(
        &second.base,
        reqwest::Method::GET,
        &format!("/threads/{thread_id}/messages"),
        None,
    )
    .await;
    let replies: Vec<&Value> = messages["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "assistant")
        .collect();
    assert_eq!(replies.len(), 1, "one reply, not a half-written one too");
    assert_eq!(
        replies[0]["content"][0]["text"]["value"],
        "You said: \"Tell me something with quite a few words in it\""
    );
}

/// A run document in `status`, as an earlier server process left it.
fn left_behind(thread_id: &str, status: &str, expires_at: i64) -> server::models::Run {
    let run = json!({
        "id": server::ids::new_id(server::ids::IdKind::Run), "object": "thread.run",
        "created_at": server::ids::unix_now() - 700, "assistant_id": "asst_gone",
        "thread_id": thread_id, "status": status, "started_at": null, "expires_at": expires_at,
        "cancelled_at": null, "failed_at": null, "completed_at": null,
        "required_action": null, "last_error": null, "model": "gpt-4o", "instructions": null,
        "tools": [], "tool_resources": {}, "metadata": {}, "temperature": 1.0, "top_p": 1.0,
        "reasoning_effort": null, "max_completion_tokens": null, "max_prompt_tokens": null,
        "truncation_strategy": {"type": "auto", "last_messages": null},
        "incomplete_details": null, "usage": null, "response_format": "auto",
        "tool_choice": "auto", "parallel_tool_calls": true
    });
    serde_json::from_value(run).unwrap()
}

#[tokio::test]
async fn startup_ends_or_resumes_every_unfinished_run() {
    let database = TestDatabase::reconnectable().await;
    let tenant = server::store::Tenant::from_api_key(KEY);
    let now = server::ids::unix_now();
    let mut runs = Vec::new();
    {
        let store = database.connect().await;
        for (status, expires_at) in [
            ("cancelling", now + 100),
            ("requires_action", now - 10),
            ("in_progress", now + 100),
        ] {
            let thread: server::models::Thread = serde_json::from_value(json!({
                "id": server::ids::new_id(server::ids::IdKind::Thread), "object": "thread",
                "created_at": now, "metadata": {}, "tool_resources": {}
            }))
            .unwrap();
            let message: server::models::Message = serde_json::from_value(json!({
                "id": server::ids::new_id(server::ids::IdKind::Message),
                "object": "thread.message", "created_at": now, "assistant_id": null,
                "thread_id": thread.id, "run_id": null, "role": "user",
                "content": [{"type": "text", "text": {"value": "still there?", "annotations": []}}],
                "attachments": [], "metadata": {}
            }))
            .unwrap();
            store
                .insert_thread(&tenant, &thread, &[message])
                .await
                .unwrap();
            let run = left_behind(&thread.id, status, expires_at);
            store.insert_run(&tenant, &run, &[]).await.unwrap();
            runs.push((status, thread.id, run.id));
        }
        store.close().await;
    }
    let server = start(&database, 0).await;
    for (status, thread_id, run_id) in runs {
        let path = format!("/threads/{thread_id}/runs/{run_id}");
        let ended = poll(&server.base, &path, |run| {
            !matches!(
                run["status"].as_str(),
                Some("queued" | "in_progress" | "cancelling" | "requires_action")
            )
        })
        .await;
        let expected = match status {
            "cancelling" => "cancelled",
            "requires_action" => "expired",
            _ => "completed",
        };
        assert_eq!(ended["status"], expected, "{status}: {ended}");
        assert_eq!(ended["expires_at"], json!(null));
    }
}
