//! Helpers for run tests: an assistant and thread to run on, polling a run until it
//! reaches a status (bounded by a number of polls, not by time), and SSE parsing.

use serde_json::{json, Value};

use testkit::TestApp;

/// Statuses a run ends in or waits in.
pub(crate) const SETTLED: &[&str] = &[
    "requires_action",
    "completed",
    "incomplete",
    "failed",
    "cancelled",
    "expired",
];

/// A function tool named `name` with one required string parameter `city`.
pub(crate) fn function_tool(name: &str) -> Value {
    json!({"type": "function", "function": {"name": name, "description": "test tool",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
            "required": ["city"]}}})
}

/// Creates an assistant with `tools` and returns its id.
pub(crate) async fn assistant(app: &TestApp, tools: Value) -> String {
    let body = app
        .create("/v1/assistants", json!({"model": "gpt-4o", "tools": tools}))
        .await;
    body["id"].as_str().unwrap().to_owned()
}

/// Creates a thread with one user message and returns its id.
pub(crate) async fn thread_with(app: &TestApp, text: &str) -> String {
    let body = app
        .create(
            "/v1/threads",
            json!({"messages": [{"role": "user", "content": text}]}),
        )
        .await;
    body["id"].as_str().unwrap().to_owned()
}

/// Creates a run and returns its body.
pub(crate) async fn create_run(app: &TestApp, thread_id: &str, body: Value) -> Value {
    app.create(&format!("/v1/threads/{thread_id}/runs"), body)
        .await
}

/// Polls a run until its status is one of `statuses`; gives up after many polls.
pub(crate) async fn poll_until(
    app: &TestApp,
    thread_id: &str,
    run_id: &str,
    statuses: &[&str],
) -> Value {
    for _ in 0..2000 {
        let run = app
            .get(&format!("/v1/threads/{thread_id}/runs/{run_id}"))
            .await
            .json();
        if statuses.contains(&run["status"].as_str().unwrap_or_default()) {
            return run;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("run {run_id} never reached {statuses:?}");
}

/// One parsed SSE event.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    /// The `event:` name.
    pub name: String,
    /// The `data:` text.
    pub data: String,
}

impl Event {
    /// The data as JSON.
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap_or_else(|e| panic!("{e}: {}", self.data))
    }
}

/// Splits an SSE body into events, checking the exact framing on the way.
pub(crate) fn parse_sse(body: &str) -> Vec<Event> {
    assert!(body.ends_with("\n\n"), "stream must end with a blank line");
    body.trim_end_matches("\n\n")
        .split("\n\n")
        .map(|frame| {
            let (event, data) = frame.split_once('\n').expect("event and data lines");
            let name = event
                .strip_prefix("event: ")
                .expect("event: line")
                .to_owned();
            let data = data.strip_prefix("data: ").expect("data: line").to_owned();
            assert!(!data.contains('\n'), "one data line per event");
            Event { name, data }
        })
        .collect()
}

/// The names of `events`, deltas collapsed into one `NAME…` entry per run of them.
pub(crate) fn names_collapsed(events: &[Event]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for event in events {
        let name = if event.name.ends_with(".delta") {
            format!("{}…", event.name)
        } else {
            event.name.clone()
        };
        if names.last() != Some(&name) || !name.ends_with('…') {
            names.push(name);
        }
    }
    names
}

/// The body of a streamed run, read at the test's own pace.
pub(crate) struct OpenStream {
    body: axum::body::BodyDataStream,
    /// Everything read so far.
    pub(crate) text: String,
}

/// Starts a run on `thread_id` with `stream: true` through the router (no socket) and
/// returns its body unread.
pub(crate) async fn start_streamed_run(
    app: &TestApp,
    thread_id: &str,
    assistant_id: &str,
) -> OpenStream {
    let request = axum::http::Request::builder()
        .method("POST")
        .uri(format!("/v1/threads/{thread_id}/runs"))
        .header("authorization", format!("Bearer {}", testkit::KEY))
        .header("openai-beta", "assistants=v2")
        .body(axum::body::Body::from(
            json!({"assistant_id": assistant_id, "stream": true}).to_string(),
        ))
        .unwrap();
    let response = tower::ServiceExt::oneshot(app.router.clone(), request)
        .await
        .unwrap();
    OpenStream {
        body: response.into_body().into_data_stream(),
        text: String::new(),
    }
}

impl OpenStream {
    /// Reads until `marker` has arrived (e.g. `event: thread.message.delta`).
    pub(crate) async fn read_until(&mut self, marker: &str) {
        use futures::StreamExt;
        while !self.text.contains(marker) {
            let chunk = self.body.next().await.expect("the stream goes on").unwrap();
            self.text.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// The run's id, from what has been read.
    pub(crate) fn run_id(&self) -> String {
        self.text
            .split("\"id\":\"")
            .find(|piece| piece.starts_with("run_"))
            .map(|piece| piece[..28].to_owned())
            .expect("a run event was read")
    }

    /// Reads the rest and returns every event of the stream.
    pub(crate) async fn events(mut self) -> Vec<Event> {
        use futures::StreamExt;
        while let Some(chunk) = self.body.next().await {
            self.text
                .push_str(std::str::from_utf8(&chunk.unwrap()).unwrap());
        }
        parse_sse(&self.text)
    }
}
