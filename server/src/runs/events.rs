//! The per-run event channel and its rendering as Server-Sent Events. Every event a
//! run emits goes through one in-memory broadcast channel, so a streaming client sees
//! exactly what the executor does, as it happens, without polling the database.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use futures::StreamExt;
use serde::Serialize;
use serde_json::json;
use tokio::sync::broadcast;

/// Events buffered per run for a subscriber that reads slower than the model writes.
const CHANNEL_CAPACITY: usize = 4096;

/// One SSE event: its name and compact JSON data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunEvent {
    /// e.g. `thread.run.created`.
    pub name: String,
    /// The compact JSON text of `data:`.
    pub data: String,
}

impl RunEvent {
    /// An event whose data is `value` rendered compactly.
    pub fn new(name: &str, value: &impl Serialize) -> Self {
        Self {
            name: name.to_owned(),
            data: serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned()),
        }
    }

    /// Whether a stream ends after this event: the run stopped or waits for the client.
    pub fn ends_stream(&self) -> bool {
        matches!(
            self.name.as_str(),
            "thread.run.completed"
                | "thread.run.incomplete"
                | "thread.run.failed"
                | "thread.run.cancelled"
                | "thread.run.expired"
                | "thread.run.requires_action"
                | "error"
        )
    }

    /// `event: NAME\ndata: JSON\n\n`.
    pub fn frame(&self) -> String {
        format!("event: {}\ndata: {}\n\n", self.name, self.data)
    }
}

/// The closing frame of every stream.
pub const DONE_FRAME: &str = "event: done\ndata: [DONE]\n\n";

/// The open channels, one per run that someone may be listening to.
#[derive(Debug, Default)]
pub struct EventHub {
    channels: Mutex<HashMap<String, broadcast::Sender<RunEvent>>>,
}

impl EventHub {
    /// Subscribes to a run's events, opening its channel if needed. Subscribe before
    /// the run can emit, so nothing is missed.
    pub fn subscribe(&self, run_id: &str) -> broadcast::Receiver<RunEvent> {
        let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        channels
            .entry(run_id.to_owned())
            .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
            .subscribe()
    }

    /// Sends an event to the run's subscribers (none listening is fine). A
    /// stream-ending event also closes the channel: later events open a new one.
    pub fn emit(&self, run_id: &str, event: RunEvent) {
        let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        let ends = event.ends_stream();
        if let Some(sender) = channels.get(run_id) {
            let _ = sender.send(event);
        }
        if ends {
            channels.remove(run_id);
        }
    }
}

/// The data of a stream `error` event: the spec's `ErrorEvent` carries a whole `Error` object, and
/// SDKs build their exception from it (openai-node 7.x reads `type` into `APIError.type`).
pub fn server_error(message: &str) -> serde_json::Value {
    json!({"code": "server_error", "message": message, "param": null, "type": "server_error"})
}

/// The SSE response forwarding `receiver` until a stream-ending event, then `done`.
/// A client that goes away only drops this body; the run goes on.
pub fn sse_response(receiver: broadcast::Receiver<RunEvent>) -> Response {
    let frames = futures::stream::unfold(Some(receiver), |state| async move {
        let mut receiver = state?;
        let frame = match receiver.recv().await {
            Ok(event) if event.ends_stream() => {
                return Some((format!("{}{DONE_FRAME}", event.frame()), None));
            }
            Ok(event) => return Some((event.frame(), Some(receiver))),
            Err(broadcast::error::RecvError::Lagged(missed)) => RunEvent::new(
                "error",
                &server_error(&format!("the client fell {missed} events behind")),
            ),
            Err(broadcast::error::RecvError::Closed) => RunEvent::new(
                "error",
                &server_error("the run's event stream closed unexpectedly"),
            ),
        };
        Some((format!("{}{DONE_FRAME}", frame.frame()), None))
    });
    let body = Body::from_stream(frames.map(Ok::<_, std::convert::Infallible>));
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client that falls behind gets an `error` event whose data is a whole `Error` object
    /// (code, message, param, type), then `done`.
    #[tokio::test]
    async fn a_lagging_client_gets_a_complete_error_event() {
        let (sender, receiver) = broadcast::channel(1);
        for step in 0..3 {
            sender
                .send(RunEvent::new("thread.run.step.delta", &json!({"n": step})))
                .expect("a receiver exists");
        }
        let body = sse_response(receiver).into_body();
        let bytes = axum::body::to_bytes(body, 1 << 20).await.expect("body");
        let text = String::from_utf8(bytes.to_vec()).expect("utf-8");
        let data = text
            .lines()
            .find_map(|line| line.strip_prefix("data: {"))
            .map(|rest| format!("{{{rest}"))
            .expect("an error event");
        let error: serde_json::Value = serde_json::from_str(&data).expect("json");
        assert_eq!(error["type"], "server_error", "{text}");
        assert_eq!(error["code"], "server_error", "{text}");
        assert!(
            error["param"].is_null() && error.get("param").is_some(),
            "{text}"
        );
        assert!(text.starts_with("event: error\n"), "{text}");
        assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
    }
}
