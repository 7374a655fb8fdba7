//! The lease, takeover, race and cancel rules with instances in this process on one
//! database, their turns answered by [`Stuck`] (a turn that never ends, as on an
//! instance that is about to die) or the offline model.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use server::models::RunStatus;
use server::runs::drive::STOPPED_MESSAGE;

use crate::client::{names_collapsed, Api, Events, ENDED};
use crate::models::{offline, Stuck};
use crate::node::Node;
use crate::serial;
use testkit::TestDatabase;

/// Leases in these tests: short, so takeovers come quickly.
const LEASE: Duration = Duration::from_secs(2);
/// Longer than any wait here: a run handed over within it was not waiting for a lease.
const LONG_LEASE: Duration = Duration::from_secs(300);
/// The user message every run answers.
const QUESTION: &str = "Tell me something with quite a few words in it";

/// Assistant and thread on `api`, and a run created there (streamed when `stream`).
async fn run_on(api: &Api, stream: bool) -> (String, String, Option<Events>, Value) {
    let assistant = api.assistant(json!([])).await;
    let thread = api.thread_with(QUESTION).await;
    let path = format!("/threads/{thread}/runs");
    if !stream {
        let run = api.post(&path, json!({"assistant_id": assistant})).await;
        let run_id = run["id"].as_str().unwrap().to_owned();
        return (thread, run_id, None, run);
    }
    let mut events = api
        .stream(&path, json!({"assistant_id": assistant, "stream": true}))
        .await;
    let created = events.next().await.expect("thread.run.created");
    assert_eq!(created.name, "thread.run.created");
    let run_id = created.data["id"].as_str().unwrap().to_owned();
    (thread, run_id, Some(events), created.data)
}

/// Reads events until the first message delta (the model's turn is under way).
async fn until_first_delta(events: &mut Events) {
    while let Some(event) = events.next().await {
        if event.name == "thread.message.delta" {
            return;
        }
    }
    panic!("the stream ended before the first delta");
}

/// The rest of a stream, which must end within a minute.
async fn rest_of(events: &mut Events) -> Vec<crate::client::Event> {
    tokio::time::timeout(Duration::from_secs(60), events.rest())
        .await
        .expect("the stream ends")
}

/// The run's steps and the thread's assistant messages, through `api`.
async fn steps_and_replies(api: &Api, thread: &str, run: &str) -> (Vec<Value>, Vec<Value>) {
    let steps = api
        .get(&format!("/threads/{thread}/runs/{run}/steps"))
        .await;
    let messages = api.get(&format!("/threads/{thread}/messages")).await;
    let replies = messages["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "assistant")
        .cloned()
        .collect();
    (steps["data"].as_array().unwrap().clone(), replies)
}

/// The offline model's whole answer to [`QUESTION`].
fn full_answer() -> String {
    format!("You said: \"{QUESTION}\"")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_create_runs_racing_on_two_instances_have_exactly_one_winner() {
    let _one = serial().await;
    let db = TestDatabase::reconnectable().await;
    // Runs never end, so the loser always meets the winner's active run.
    let a = Node::start(&db, "a", Arc::new(Stuck::default()), LEASE).await;
    let b = Node::start(&db, "b", Arc::new(Stuck::default()), LEASE).await;
    let assistant = a.api.assistant(json!([])).await;
    for round in 0..20 {
        let thread = a.api.thread_with("Hello").await;
        let path = format!("/threads/{thread}/runs");
        let body = json!({"assistant_id": assistant});
        let (first, second) = tokio::join!(
            a.api.send(Method::POST, &path, Some(&body)),
            b.api.send(Method::POST, &path, Some(&body))
        );
        let (won, lost) = if first.status == 200 {
            (first, second)
        } else {
            (second, first)
        };
        assert_eq!(won.status, 200, "round {round}: {}", won.body);
        assert_eq!(lost.status, 400, "round {round}: {}", lost.body);
        let winner = won.body["id"].as_str().unwrap();
        assert_eq!(
            lost.body["error"]["message"],
            format!("Thread {thread} already has an active run {winner}.")
        );
        let runs = b.api.get(&path).await;
        assert_eq!(runs["data"].as_array().unwrap().len(), 1, "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_instances_run_is_taken_over_once_its_lease_runs_out() {
    let _one = serial().await;
    let db = TestDatabase::reconnectable().await;
    let stuck = Arc::new(Stuck::default());
    let mut a = Node::start(&db, "a", stuck.clone(), LEASE).await;
    let b = Node::start(&db, "b", offline(), LEASE).await;
    let (thread, run, _, _) = run_on(&a.api, false).await;
    let steps_path = format!("/threads/{thread}/runs/{run}/steps");
    let steps = a
        .api
        .wait_for(&steps_path, |s| {
            s["data"].as_array().is_some_and(|d| !d.is_empty())
        })
        .await;
    let interrupted = steps["data"][0]["id"].clone();
    assert_eq!(a.stored_run(&thread, &run).await.holder, Some(a.holder()));

    // While `a` renews its lease, `b` (sweeping every second) leaves the run alone.
    tokio::time::sleep(LEASE * 3).await;
    let held = a.stored_run(&thread, &run).await;
    assert_eq!(held.holder, Some(a.holder()), "a still holds the run");
    assert_eq!(held.run.status, RunStatus::InProgress);
    assert_eq!(stuck.started(), 1, "no second turn anywhere");

    let died = Instant::now();
    a.die();
    let taken = b
        .api
        .wait_for(&steps_path, |s| {
            s["data"].as_array().is_some_and(|d| !d.is_empty()) && s["data"][0]["id"] != interrupted
        })
        .await;
    let taken_after = died.elapsed();
    let done = b.api.wait_for_run(&thread, &run, ENDED).await;
    println!(
        "in-process: lease {LEASE:?}; b resumed the run {taken_after:?} after a died, and it ended {:?} after",
        died.elapsed()
    );
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(b.stored_run(&thread, &run).await.holder, None, "released");
    let (steps, replies) = steps_and_replies(&b.api, &thread, &run).await;
    assert_eq!(
        steps.len(),
        1,
        "the interrupted step is replaced: {steps:?}"
    );
    assert_eq!(steps[0]["id"], taken["data"][0]["id"]);
    assert_eq!(replies.len(), 1, "one reply, not a half-written one too");
    assert_eq!(replies[0]["content"][0]["text"]["value"], full_answer());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_on_one_instance_stops_the_model_where_the_run_is_driven() {
    let _one = serial().await;
    let db = TestDatabase::reconnectable().await;
    let stuck = Arc::new(Stuck::default());
    let a = Node::start(&db, "a", stuck.clone(), LEASE).await;
    let b = Node::start(&db, "b", offline(), LEASE).await;
    let (thread, run, events, _) = run_on(&a.api, true).await;
    let mut events = events.unwrap();
    until_first_delta(&mut events).await;

    let sent = Instant::now();
    let cancelling = b
        .api
        .post(&format!("/threads/{thread}/runs/{run}/cancel"), json!({}))
        .await;
    assert_eq!(cancelling["status"], "cancelling");
    let rest = rest_of(&mut events).await;
    let latency = sent.elapsed();
    println!("in-process: a cancel on b ended a's stream of the run after {latency:?}");
    assert_eq!(stuck.dropped(), 1, "a dropped its model stream");
    assert_eq!(
        names_collapsed(&rest),
        [
            "thread.run.cancelling",
            "thread.run.step.cancelled",
            "thread.run.cancelled",
            "done"
        ]
    );
    let ended = b.api.wait_for_run(&thread, &run, ENDED).await;
    assert_eq!(ended["status"], "cancelled");
    let (steps, replies) = steps_and_replies(&b.api, &thread, &run).await;
    assert_eq!(steps[0]["status"], "cancelled");
    assert_eq!(replies[0]["content"][0]["text"]["value"], "Half");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_shutting_down_hands_its_runs_to_another_at_once() {
    let _one = serial().await;
    let db = TestDatabase::reconnectable().await;
    let stuck = Arc::new(Stuck::default());
    let a = Node::start(&db, "a", stuck.clone(), LONG_LEASE).await;
    let b = Node::start(&db, "b", offline(), LONG_LEASE).await;
    let (thread, run, events, _) = run_on(&a.api, true).await;
    let mut events = events.unwrap();
    until_first_delta(&mut events).await;

    let started = Instant::now();
    assert_eq!(a.state.runs.hand_back().await.unwrap(), 1);
    let rest = rest_of(&mut events).await;
    assert_eq!(names_collapsed(&rest), ["error", "done"]);
    assert_eq!(rest[0].data["message"], STOPPED_MESSAGE);
    assert_eq!(stuck.dropped(), 1);
    // Well before the lease could run out: only the hand back lets b have the run.
    let done = b.api.wait_for_run(&thread, &run, ENDED).await;
    println!(
        "in-process: a run handed back ended on another instance {:?} later",
        started.elapsed()
    );
    assert!(started.elapsed() < LONG_LEASE);
    assert_eq!(done["status"], "completed", "{done}");
    let (steps, replies) = steps_and_replies(&b.api, &thread, &run).await;
    assert_eq!(steps.len(), 1, "{steps:?}");
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0]["content"][0]["text"]["value"], full_answer());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_whose_run_was_taken_stops_it_without_writing() {
    let _one = serial().await;
    let db = TestDatabase::reconnectable().await;
    let stuck = Arc::new(Stuck::default());
    let a = Node::start(&db, "a", stuck.clone(), LEASE).await;
    let b = Node::start(&db, "b", offline(), LEASE).await;
    let (thread, run, events, _) = run_on(&a.api, true).await;
    let mut events = events.unwrap();
    until_first_delta(&mut events).await;

    // b takes the run although a is alive (as a process that believes it is alone).
    assert_eq!(b.state.runs.recover_unfinished().await.unwrap(), 1);
    let rest = rest_of(&mut events).await;
    assert_eq!(names_collapsed(&rest), ["error", "done"]);
    assert_eq!(stuck.dropped(), 1, "a stopped its turn");
    let done = b.api.wait_for_run(&thread, &run, ENDED).await;
    assert_eq!(done["status"], "completed", "{done}");
    let (steps, replies) = steps_and_replies(&b.api, &thread, &run).await;
    assert_eq!(steps.len(), 1, "{steps:?}");
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(replies[0]["content"][0]["text"]["value"], full_answer());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_run_of_a_dead_instance_is_taken_over_by_exactly_one_instance() {
    let _one = serial().await;
    let db = TestDatabase::reconnectable().await;
    let stuck = Arc::new(Stuck::default());
    let mut dead = Node::without_keeper(&db, "dead", stuck.clone(), LEASE).await;
    let assistant = dead.api.assistant(json!([])).await;
    let mut runs = Vec::new();
    for _ in 0..12 {
        let thread = dead.api.thread_with(QUESTION).await;
        let run = dead
            .api
            .post(
                &format!("/threads/{thread}/runs"),
                json!({"assistant_id": assistant}),
            )
            .await;
        runs.push((thread, run["id"].as_str().unwrap().to_owned()));
    }
    for _ in 0..1200 {
        if stuck.started() == runs.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(stuck.started(), runs.len(), "every turn began");
    dead.die();

    let (x, y, z) = tokio::join!(
        Node::start(&db, "x", offline(), LEASE),
        Node::start(&db, "y", offline(), LEASE),
        Node::start(&db, "z", offline(), LEASE)
    );
    let nodes = [x, y, z];
    for (index, (thread, run)) in runs.iter().enumerate() {
        let api = &nodes[index % nodes.len()].api;
        let done = api.wait_for_run(thread, run, ENDED).await;
        assert_eq!(done["status"], "completed", "{done}");
        let (steps, replies) = steps_and_replies(api, thread, run).await;
        assert_eq!(steps.len(), 1, "{run}: {steps:?}");
        assert_eq!(replies.len(), 1, "{run}: {replies:?}");
        assert_eq!(replies[0]["content"][0]["text"]["value"], full_answer());
    }
}
