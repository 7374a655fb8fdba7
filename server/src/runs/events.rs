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
                &json!({"message": format!("the client fell {missed} events behind"), "code": "server_error"}),
            ),
            Err(broadcast::error::RecvError::Closed) => RunEvent::new(
                "error",
                &json!({"message": "the run's event stream closed unexpectedly", "code": "server_error"}),
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
