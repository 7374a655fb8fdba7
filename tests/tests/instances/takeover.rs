//! Runs across three real instances: a run created on one, continued (streamed) on
//! another and polled on a third; kill -9 of the instance driving a slowly streamed run;
//! a cancel on one instance ending the stream served by another; and a waiting run of a
//! killed instance that still expires.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::client::{names_collapsed, Events, ENDED};
use crate::cluster::{Cluster, Options};
use crate::serial;

const WEATHER: &str = "get_weather";

fn weather_tool() -> Value {
    json!([{"type": "function", "function": {"name": WEATHER, "parameters": {"type": "object",
        "properties": {"city": {"type": "string"}}, "required": ["city"]}}}])
}

/// A user message of `words` words: the offline model quotes it, one delta a word.
fn long_message(words: usize) -> String {
    (0..words)
        .map(|n| format!("word{n}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Reads events until `count` message deltas arrived.
async fn deltas(events: &mut Events, count: usize) {
    let mut seen = 0;
    while let Some(event) = events.next().await {
        if event.name == "thread.message.delta" {
            seen += 1;
            if seen == count {
                return;
            }
        }
    }
    panic!("the stream ended after {seen} deltas");
}

const SUBMITTED: &[&str] = &[
    "thread.run.step.completed",
    "thread.run.queued",
    "thread.run.in_progress",
    "thread.run.step.created",
    "thread.run.step.in_progress",
    "thread.message.created",
    "thread.message.in_progress",
    "thread.message.delta…",
    "thread.message.completed",
    "thread.run.step.completed",
    "thread.run.completed",
    "done",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_moves_across_instances_and_every_client_sees_the_same_run() {
    let _one = serial().await;
    let cluster = Cluster::start(3, Options::default()).await;
    let (a, b, c) = (cluster.direct(0), cluster.direct(1), cluster.direct(2));
    let assistant = a.assistant(weather_tool()).await;
    let thread = b.thread_with("Call get_weather for Paris").await;

    // Created on A, polled on C, continued as a stream on B, polled on C again.
    let run = a
        .post(
            &format!("/threads/{thread}/runs"),
            json!({"assistant_id": assistant}),
        )
        .await;
    let run_id = run["id"].as_str().unwrap();
    let waiting = c.wait_for_run(&thread, run_id, &["requires_action"]).await;
    let call = &waiting["required_action"]["submit_tool_outputs"]["tool_calls"][0];
    assert_eq!(call["function"]["name"], WEATHER);
    let mut events = b
        .stream(
            &format!("/threads/{thread}/runs/{run_id}/submit_tool_outputs"),
            json!({"tool_outputs": [{"tool_call_id": call["id"], "output": "sunny"}],
                "stream": true}),
        )
        .await;
    let streamed = events.rest().await;
    assert_eq!(names_collapsed(&streamed), SUBMITTED);
    let done = c.wait_for_run(&thread, run_id, ENDED).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done, streamed_run(&streamed), "the stream and a poll agree");
    let steps_path = format!("/threads/{thread}/runs/{run_id}/steps");
    let (on_a, on_c) = (a.get(&steps_path).await, c.get(&steps_path).await);
    assert_eq!(on_a, on_c);
    assert_eq!(on_a["data"].as_array().unwrap().len(), 2);

    // createThreadAndRun streamed through the proxy, its outputs streamed on the next
    // instance the proxy picks: the same grammar as on one instance.
    let api = cluster.api();
    let mut events = api
        .stream(
            "/threads/runs",
            json!({"assistant_id": assistant, "stream": true,
                "thread": {"messages": [{"role": "user", "content": "Call get_weather for Rome"}]}}),
        )
        .await;
    let first = events.rest().await;
    let last_run = first
        .iter()
        .rev()
        .find(|e| e.name == "thread.run.requires_action")
        .expect("requires_action");
    let run_id = last_run.data["id"].as_str().unwrap();
    let thread = last_run.data["thread_id"].as_str().unwrap();
    let call = &last_run.data["required_action"]["submit_tool_outputs"]["tool_calls"][0];
    let mut events = api
        .stream(
            &format!("/threads/{thread}/runs/{run_id}/submit_tool_outputs"),
            json!({"tool_outputs": [{"tool_call_id": call["id"], "output": "rainy"}],
                "stream": true}),
        )
        .await;
    assert_eq!(names_collapsed(&events.rest().await), SUBMITTED);
}

/// The run as the stream's `thread.run.completed` showed it, in REST form.
fn streamed_run(events: &[crate::client::Event]) -> Value {
    let mut run = events
        .iter()
        .find(|e| e.name == "thread.run.completed")
        .expect("thread.run.completed")
        .data
        .clone();
    run["tool_resources"] = json!({});
    run
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_the_instance_driving_a_streamed_run_and_another_finishes_it() {
    let _one = serial().await;
    let options = Options {
        delay_ms: 100,
        ..Options::default()
    };
    let mut cluster = Cluster::start(3, options).await;
    let driver = cluster.direct(0);
    let assistant = driver.assistant(json!([])).await;
    let text = long_message(60);
    let thread = driver.thread_with(&text).await;
    let mut events = driver
        .stream(
            &format!("/threads/{thread}/runs"),
            json!({"assistant_id": assistant, "stream": true}),
        )
        .await;
    let created = events.next().await.expect("thread.run.created");
    let run_id = created.data["id"].as_str().unwrap().to_owned();
    deltas(&mut events, 3).await;
    let steps_path = format!("/threads/{thread}/runs/{run_id}/steps");
    let interrupted = driver.get(&steps_path).await["data"][0]["id"].clone();

    let killed = Instant::now();
    cluster.kill(0);
    assert!(
        events
            .rest()
            .await
            .iter()
            .all(|e| e.name != "thread.run.completed"),
        "the stream broke with its instance"
    );
    // The client reconnects: it polls through the load balancer.
    let api = cluster.api();
    api.wait_for(&steps_path, |s| {
        s["data"].as_array().is_some_and(|d| !d.is_empty()) && s["data"][0]["id"] != interrupted
    })
    .await;
    let resumed = killed.elapsed();
    let done = api.wait_for_run(&thread, &run_id, ENDED).await;
    println!(
        "kill -9: lease {}s; another instance resumed the run {resumed:?} after the kill; it completed {:?} after",
        options.lease_secs,
        killed.elapsed()
    );
    assert_eq!(done["status"], "completed", "{done}\n{}", cluster.logs());
    let steps = api.get(&steps_path).await;
    assert_eq!(steps["data"].as_array().unwrap().len(), 1, "{steps}");
    let messages = api.get(&format!("/threads/{thread}/messages")).await;
    let replies: Vec<&Value> = messages["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "assistant")
        .collect();
    assert_eq!(replies.len(), 1, "{messages}");
    assert_eq!(
        replies[0]["content"][0]["text"]["value"],
        format!("You said: \"{text}\"")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_on_one_instance_ends_the_stream_served_by_another() {
    let _one = serial().await;
    let options = Options {
        delay_ms: 100,
        ..Options::default()
    };
    let cluster = Cluster::start(3, options).await;
    let (a, b) = (cluster.direct(0), cluster.direct(1));
    let assistant = a.assistant(json!([])).await;
    let mut latencies = Vec::new();
    // Cancels sent at spread-out moments of the driving instance's 250 ms poll (each
    // round would otherwise start in step with the poll that ended the last one).
    for pause in [0, 125, 50, 175, 100, 225, 25, 150, 75, 200] {
        let thread = a.thread_with(&long_message(200)).await;
        let mut events = a
            .stream(
                &format!("/threads/{thread}/runs"),
                json!({"assistant_id": assistant, "stream": true}),
            )
            .await;
        let created = events.next().await.expect("thread.run.created");
        let run_id = created.data["id"].as_str().unwrap().to_owned();
        deltas(&mut events, 2).await;
        tokio::time::sleep(Duration::from_millis(pause)).await;
        let sent = Instant::now();
        let cancelling = b
            .post(
                &format!("/threads/{thread}/runs/{run_id}/cancel"),
                json!({}),
            )
            .await;
        assert_eq!(cancelling["status"], "cancelling");
        let rest = tokio::time::timeout(Duration::from_secs(60), events.rest())
            .await
            .expect("the stream ends");
        latencies.push(sent.elapsed());
        let names = names_collapsed(&rest);
        assert_eq!(
            names[names.len() - 4..],
            [
                "thread.run.cancelling",
                "thread.run.step.cancelled",
                "thread.run.cancelled",
                "done"
            ],
            "{names:?}"
        );
        let ended = cluster.api().wait_for_run(&thread, &run_id, ENDED).await;
        assert_eq!(ended["status"], "cancelled");
    }
    latencies.sort();
    println!(
        "cancel across instances: the driving instance's stream ended {:?} after the cancel \
         was sent (median of {}; max {:?})",
        latencies[latencies.len() / 2],
        latencies.len(),
        latencies[latencies.len() - 1]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_run_of_a_killed_instance_still_expires() {
    let _one = serial().await;
    let options = Options {
        expiry_secs: 3,
        ..Options::default()
    };
    let mut cluster = Cluster::start(3, options).await;
    let a = cluster.direct(0);
    let assistant = a.assistant(weather_tool()).await;
    let thread = a.thread_with("Call get_weather for Oslo").await;
    let run = a
        .post(
            &format!("/threads/{thread}/runs"),
            json!({"assistant_id": assistant}),
        )
        .await;
    let run_id = run["id"].as_str().unwrap().to_owned();
    a.wait_for_run(&thread, &run_id, &["requires_action"]).await;
    cluster.kill(0);
    let ended = cluster.api().wait_for_run(&thread, &run_id, ENDED).await;
    assert_eq!(ended["status"], "expired", "{ended}");
    let steps = cluster
        .api()
        .get(&format!("/threads/{thread}/runs/{run_id}/steps"))
        .await;
    assert_eq!(steps["data"][0]["status"], "expired");
}
