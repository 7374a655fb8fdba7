//! Validating a whole `text/event-stream` body: framing, each event's data against the branch its
//! name selects, and the terminal `done` event. Shared by `check-recordings` and live checks.

use serde::{Deserialize, Serialize};

use super::{SchemaError, Spec};
use crate::sse::{self, SseEvent};

/// One problem in a stream: with the event it concerns, or about the stream as a whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamError {
    /// Position of the event in the stream and its name; `None` for the stream as a whole.
    pub event: Option<(usize, String)>,
    /// What is wrong.
    pub error: SchemaError,
}

impl Spec {
    /// Parses `body` as server-sent events and validates every event. Returns the events that
    /// were parsed (empty if the framing is broken) and every problem found.
    pub fn validate_event_stream(&self, body: &str) -> (Vec<SseEvent>, Vec<StreamError>) {
        let whole = |message: String| StreamError {
            event: None,
            error: SchemaError {
                instance_path: String::new(),
                schema_path: String::new(),
                message,
            },
        };
        let events = match sse::parse(body) {
            Ok(events) => events,
            Err(error) => return (Vec::new(), vec![whole(error.to_string())]),
        };
        let mut errors = Vec::new();
        for (index, event) in events.iter().enumerate() {
            let found = match event.payload() {
                Ok(data) => self.validate_stream_event(&event.event, &data),
                Err(message) => vec![SchemaError {
                    instance_path: String::new(),
                    schema_path: String::new(),
                    message,
                }],
            };
            errors.extend(found.into_iter().map(|error| StreamError {
                event: Some((index, event.event.clone())),
                error,
            }));
        }
        if events.last().is_none_or(|last| last.event != "done") {
            errors.push(whole(
                "the stream does not end with the `done` event".into(),
            ));
        }
        (events, errors)
    }
}
