//! A small API client for these tests: JSON calls that retry while an instance (or the
//! proxy's pick of one) cannot be reached, bounded polls, and a Server-Sent Events
//! reader that hands events over as they arrive.

use std::time::Duration;

use serde_json::Value;

/// The API key every test uses (any key is accepted: it is the tenant).
pub(crate) const KEY: &str = "sk-instances";

/// Terminal run statuses.
pub(crate) const ENDED: &[&str] = &["completed", "failed", "cancelled", "expired", "incomplete"];

/// Polls before a wait gives up (with [`POLL_PAUSE`] between them: about a minute).
const POLLS: usize = 1200;
/// Pause between polls.
const POLL_PAUSE: Duration = Duration::from_millis(50);

/// A client of one base URL (with `/v1`).
#[derive(Clone)]
pub(crate) struct Api {
    /// e.g. `http://127.0.0.1:4000/v1`.
    pub base: String,
    client: reqwest::Client,
}

/// An answer: status and JSON body (`Null` when the body is not JSON).
pub(crate) struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The body.
    pub body: Value,
}

impl Api {
    /// A client of `base`.
    pub(crate) fn new(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            client: reqwest::Client::new(),
        }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(KEY)
            .header("OpenAI-Beta", "assistants=v2")
    }

    /// Sends a request, retrying (bounded) while no instance can be reached (the
    /// request was never received, so retrying it is safe); `None` body sends none.
    pub(crate) async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Answer {
        for _ in 0..POLLS {
            let mut request = self.request(method.clone(), path);
            if let Some(body) = body {
                request = request.json(body);
            }
            match request.send().await {
                Ok(response) if response.status().as_u16() != 502 => {
                    let status = response.status().as_u16();
                    let text = response.text().await.unwrap_or_default();
                    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
                    return Answer { status, body };
                }
                Ok(_) => tokio::time::sleep(POLL_PAUSE).await,
                Err(error) if error.is_connect() => tokio::time::sleep(POLL_PAUSE).await,
                Err(error) => panic!("{method} {path}: {error}"),
            }
        }
        panic!("{method} {path}: no instance answered");
    }

    /// GET, which must succeed.
    pub(crate) async fn get(&self, path: &str) -> Value {
        let answer = self.send(reqwest::Method::GET, path, None).await;
        assert_eq!(answer.status, 200, "GET {path}: {}", answer.body);
        answer.body
    }

    /// POST, which must succeed.
    pub(crate) async fn post(&self, path: &str, body: Value) -> Value {
        let answer = self.send(reqwest::Method::POST, path, Some(&body)).await;
        assert_eq!(answer.status, 200, "POST {path}: {}", answer.body);
        answer.body
    }

    /// A new assistant with `tools`; its id.
    pub(crate) async fn assistant(&self, tools: Value) -> String {
        let assistant = self
            .post(
                "/assistants",
                serde_json::json!({"model": "gpt-4o", "tools": tools}),
            )
            .await;
        assistant["id"].as_str().expect("assistant id").to_owned()
    }

    /// A new thread with one user message; its id.
    pub(crate) async fn thread_with(&self, text: &str) -> String {
        let thread = self
            .post(
                "/threads",
                serde_json::json!({"messages": [{"role": "user", "content": text}]}),
            )
            .await;
        thread["id"].as_str().expect("thread id").to_owned()
    }

    /// Polls a run (bounded) until its status is one of `until`.
    pub(crate) async fn wait_for_run(
        &self,
        thread_id: &str,
        run_id: &str,
        until: &[&str],
    ) -> Value {
        let path = format!("/threads/{thread_id}/runs/{run_id}");
        self.wait_for(&path, |run| {
            until.contains(&run["status"].as_str().unwrap_or(""))
        })
        .await
    }

    /// Polls `path` (bounded) until `done` holds for its body.
    pub(crate) async fn wait_for(&self, path: &str, done: impl Fn(&Value) -> bool) -> Value {
        let mut last = Value::Null;
        for _ in 0..POLLS {
            let answer = self.send(reqwest::Method::GET, path, None).await;
            if answer.status == 200 && done(&answer.body) {
                return answer.body;
            }
            last = answer.body;
            tokio::time::sleep(POLL_PAUSE).await;
        }
        panic!("{path} never reached the expected state; last: {last}");
    }

    /// Opens an SSE stream (a POST with `stream: true` in `body`).
    pub(crate) async fn stream(&self, path: &str, body: Value) -> Events {
        let response = self
            .request(reqwest::Method::POST, path)
            .json(&body)
            .send()
            .await
            .expect("stream request sent");
        let status = response.status().as_u16();
        if status != 200 {
            let text = response.text().await.unwrap_or_default();
            panic!("POST {path} (stream): {status} {text}");
        }
        Events {
            response: Some(response),
            buffer: String::new(),
        }
    }
}

/// One SSE event.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    /// `event:` name.
    pub name: String,
    /// `data:` as JSON (`[DONE]` is the string `"[DONE]"`).
    pub data: Value,
}

/// An SSE body read event by event.
pub(crate) struct Events {
    response: Option<reqwest::Response>,
    buffer: String,
}

impl Events {
    /// The next event; `None` when the body ended (or broke: an instance died).
    pub(crate) async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                let mut name = String::new();
                let mut data = String::new();
                for line in frame.lines() {
                    if let Some(value) = line.strip_prefix("event: ") {
                        name = value.to_owned();
                    } else if let Some(value) = line.strip_prefix("data: ") {
                        data.push_str(value);
                    }
                }
                let data = serde_json::from_str(&data).unwrap_or(Value::String(data));
                return Some(Event { name, data });
            }
            let response = self.response.as_mut()?;
            match response.chunk().await {
                Ok(Some(bytes)) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                Ok(None) | Err(_) => {
                    self.response = None;
                    return None;
                }
            }
        }
    }

    /// Every remaining event, until the body ends.
    pub(crate) async fn rest(&mut self) -> Vec<Event> {
        let mut events = Vec::new();
        while let Some(event) = self.next().await {
            events.push(event);
        }
        events
    }
}

/// Event names, with runs of deltas collapsed into one `NAME…` entry.
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
