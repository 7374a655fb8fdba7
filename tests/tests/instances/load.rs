//! 200 concurrent clients across three instances for a bounded time: each keeps one
//! thread and runs on it (plain answers and function-call round trips, streamed and
//! polled, alternately) until the time is up. Afterwards every run has ended, each
//! thread holds exactly the messages written to it (the client's and one answer per
//! run), and each run exactly its steps: none lost, none written twice.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::client::{Api, ENDED};
use crate::cluster::{Cluster, Options};
use crate::serial;

/// Concurrent clients.
const CLIENTS: usize = 200;
/// After this, clients start no new run (the runs under way finish).
const RUN_FOR: Duration = Duration::from_secs(15);
/// Most runs one client starts.
const MOST_RUNS: usize = 4;

/// What one client wrote and expects.
struct Written {
    thread: String,
    /// User messages it added.
    user_messages: usize,
    /// Its runs: id and whether it was a function-call round trip.
    runs: Vec<(String, bool)>,
}

/// Polls a run (bounded) until it ended or waits for outputs.
async fn settle(api: &Api, thread: &str, run: &str) -> Value {
    let path = format!("/threads/{thread}/runs/{run}");
    for _ in 0..1200 {
        let answer = api.send(reqwest::Method::GET, &path, None).await;
        let status = answer.body["status"].as_str().unwrap_or("");
        if ENDED.contains(&status) || status == "requires_action" {
            return answer.body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path} never settled");
}

/// Reads a stream to its end; the run as its last run event showed it.
async fn consume(api: &Api, path: &str, body: Value) -> Value {
    let mut events = api.stream(path, body).await;
    let mut last_run = Value::Null;
    while let Some(event) = events.next().await {
        assert_ne!(event.name, "error", "{path}: {}", event.data);
        if event.name.starts_with("thread.run.") && !event.name.starts_with("thread.run.step") {
            last_run = event.data;
        }
    }
    last_run
}

async fn client(api: Api, assistant: String, number: usize, until: Instant) -> Written {
    let thread = api.post("/threads", json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut written = Written {
        thread: thread.clone(),
        user_messages: 0,
        runs: Vec::new(),
    };
    for round in 0..MOST_RUNS {
        if Instant::now() >= until {
            break;
        }
        let calls = (number + round) % 2 == 1;
        let text = if calls {
            format!("Call get_weather for city {number}")
        } else {
            format!("Hello from client {number}, round {round}")
        };
        api.post(
            &format!("/threads/{thread}/messages"),
            json!({"role": "user", "content": text}),
        )
        .await;
        written.user_messages += 1;
        let stream = (number + round / 2).is_multiple_of(2);
        let runs = format!("/threads/{thread}/runs");
        let body = json!({"assistant_id": assistant, "stream": stream});
        let mut run = if stream {
            consume(&api, &runs, body).await
        } else {
            api.post(&runs, body).await
        };
        let run_id = run["id"].as_str().expect("a run id").to_owned();
        written.runs.push((run_id.clone(), calls));
        if !stream {
            run = settle(&api, &thread, &run_id).await;
        }
        if run["status"] == "requires_action" {
            let call = &run["required_action"]["submit_tool_outputs"]["tool_calls"][0];
            let path = format!("/threads/{thread}/runs/{run_id}/submit_tool_outputs");
            let outputs =
                json!([{"tool_call_id": call["id"], "output": format!("sunny {number}")}]);
            if stream {
                consume(
                    &api,
                    &path,
                    json!({"tool_outputs": outputs, "stream": true}),
                )
                .await;
            } else {
                api.post(&path, json!({"tool_outputs": outputs})).await;
            }
        }
        settle(&api, &thread, &run_id).await;
    }
    written
}

/// Every item of a list endpoint (ascending), following `after` cursors.
async fn list_all(api: &Api, path: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let cursor = after
            .as_deref()
            .map(|id| format!("&after={id}"))
            .unwrap_or_default();
        let page = api
            .get(&format!("{path}?order=asc&limit=100{cursor}"))
            .await;
        let data = page["data"].as_array().unwrap().clone();
        after = data
            .last()
            .and_then(|item| item["id"].as_str())
            .map(str::to_owned);
        items.extend(data);
        if page["has_more"] != true {
            return items;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_clients_across_three_instances_lose_and_repeat_nothing() {
    let _one = serial().await;
    let options = Options {
        lease_secs: 10,
        ..Options::default()
    };
    let cluster = Cluster::start(3, options).await;
    let api = cluster.api();
    let tool = json!([{"type": "function", "function": {"name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
            "required": ["city"]}}}]);
    let assistant = api.assistant(tool).await;
    let started = Instant::now();
    let until = started + RUN_FOR;
    let assistant = Arc::new(assistant);
    let clients: Vec<_> = (0..CLIENTS)
        .map(|number| {
            let (api, assistant) = (api.clone(), assistant.to_string());
            tokio::spawn(client(api, assistant, number, until))
        })
        .collect();
    let mut all = Vec::new();
    for client in clients {
        all.push(client.await.expect("a client finished"));
    }
    let elapsed = started.elapsed();
    let runs: usize = all.iter().map(|w| w.runs.len()).sum();
    println!(
        "{CLIENTS} clients, 3 instances: {runs} runs in {elapsed:?} ({:.1} runs/s)",
        runs as f64 / elapsed.as_secs_f64()
    );
    assert!(runs >= CLIENTS, "every client ran at least once");

    for written in &all {
        let thread = &written.thread;
        let listed = list_all(&api, &format!("/threads/{thread}/runs")).await;
        let ids: Vec<&str> = listed.iter().filter_map(|r| r["id"].as_str()).collect();
        let expected: Vec<&str> = written.runs.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, expected, "{thread}: the runs it created, no other");
        for run in &listed {
            assert_eq!(run["status"], "completed", "{run}\n{}", cluster.logs());
        }
        let messages = list_all(&api, &format!("/threads/{thread}/messages")).await;
        let roles: Vec<&str> = messages.iter().filter_map(|m| m["role"].as_str()).collect();
        let expected_roles: Vec<&str> = (0..written.user_messages)
            .flat_map(|_| ["user", "assistant"])
            .collect();
        assert_eq!(roles, expected_roles, "{thread}: each message once");
        for (run, calls) in &written.runs {
            let steps = list_all(&api, &format!("/threads/{thread}/runs/{run}/steps")).await;
            let kinds: Vec<&str> = steps.iter().filter_map(|s| s["type"].as_str()).collect();
            let expected: &[&str] = if *calls {
                &["tool_calls", "message_creation"]
            } else {
                &["message_creation"]
            };
            assert_eq!(kinds, expected, "{run}: each step once");
            assert!(
                steps.iter().all(|s| s["status"] == "completed"),
                "{steps:?}"
            );
        }
    }
}
