//! A server-sent-events wire parser: `event: NAME\ndata: JSON\n\n` framing as the Assistants API
//! streams it (and as the SSE standard defines it: several `data:` lines join with `\n`, comment
//! lines start with `:`, `\r\n` and `\r` also end lines). Used for recorded streams and live ones:
//! [`SseParser`] accepts the body in arbitrary chunks.

use serde_json::Value;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq)]
pub struct SseEvent {
    /// The `event:` name; `message` when the event named none, as the standard says.
    pub event: String,
    /// The `data:` text exactly as sent (lines joined with `\n`), for byte-level comparisons.
    pub data: String,
    /// `data` parsed as JSON, or `None` when it is not JSON (e.g. `[DONE]`).
    pub json: Option<Value>,
}

impl SseEvent {
    /// The value a schema validates: the parsed JSON, or for the terminal `done` event its
    /// literal text (the document declares `data: "[DONE]"` as a string).
    pub fn payload(&self) -> Result<Value, String> {
        match &self.json {
            Some(value) if self.event != "done" => Ok(value.clone()),
            _ if self.event == "done" => Ok(Value::String(self.data.clone())),
            _ => Err(format!(
                "data of event {} is not JSON: {}",
                self.event,
                abbreviate(&self.data)
            )),
        }
    }
}

fn abbreviate(text: &str) -> String {
    match text.char_indices().nth(80) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_string(),
    }
}

/// What can be wrong with a stream as a whole.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SseError {
    /// The body ended inside an event: lines were sent but no blank line dispatched them.
    #[error("the stream ended inside an event (no blank line after {0:?})")]
    Truncated(String),
}

/// Incremental parser: feed it chunks as they arrive, then call [`SseParser::finish`].
#[derive(Debug, Default)]
pub struct SseParser {
    /// Text received but not yet ended by a line break.
    partial_line: String,
    /// A `\r` ended the last chunk; a `\n` starting the next one belongs to it.
    after_cr: bool,
    /// `event:` of the event being assembled.
    event: Option<String>,
    /// `data:` lines of the event being assembled.
    data: Option<Vec<String>>,
    /// Raw lines of the event being assembled, for error messages.
    pending_lines: Vec<String>,
}

impl SseParser {
    /// A parser at the start of a stream.
    pub fn new() -> SseParser {
        SseParser::default()
    }

    /// Consumes a chunk and returns the events it completed.
    pub fn feed(&mut self, chunk: &str) -> Vec<SseEvent> {
        let mut events = Vec::new();
        for ch in chunk.chars() {
            if std::mem::take(&mut self.after_cr) && ch == '\n' {
                continue;
            }
            match ch {
                '\n' | '\r' => {
                    self.after_cr = ch == '\r';
                    let line = std::mem::take(&mut self.partial_line);
                    events.extend(self.line(line));
                }
                _ => self.partial_line.push(ch),
            }
        }
        events
    }

    /// Ends the stream; fails if an event was begun but never dispatched.
    pub fn finish(self) -> Result<(), SseError> {
        if !self.partial_line.is_empty() || !self.pending_lines.is_empty() {
            let mut lines = self.pending_lines;
            lines.push(self.partial_line);
            return Err(SseError::Truncated(abbreviate(&lines.join("\n"))));
        }
        Ok(())
    }

    fn line(&mut self, line: String) -> Option<SseEvent> {
        if line.is_empty() {
            return self.dispatch();
        }
        if line.starts_with(':') {
            return None;
        }
        self.pending_lines.push(line.clone());
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (
                field.to_string(),
                value.strip_prefix(' ').unwrap_or(value).to_string(),
            ),
            None => (line, String::new()),
        };
        match field.as_str() {
            "event" => self.event = Some(value),
            "data" => self.data.get_or_insert_with(Vec::new).push(value),
            // `id` and `retry` steer reconnection, which a validator has no use for.
            _ => {}
        }
        None
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        self.pending_lines.clear();
        let event = self.event.take();
        // The standard drops an event without data; a named event without data is still reported
        // so that a validator can complain about it rather than never see it.
        let data = match (self.data.take(), &event) {
            (Some(lines), _) => lines.join("\n"),
            (None, Some(_)) => String::new(),
            (None, None) => return None,
        };
        let json = serde_json::from_str(&data).ok();
        Some(SseEvent {
            event: event.unwrap_or_else(|| "message".to_string()),
            data,
            json,
        })
    }
}

/// Parses a complete stream.
pub fn parse(text: &str) -> Result<Vec<SseEvent>, SseError> {
    let mut parser = SseParser::new();
    let events = parser.feed(text);
    parser.finish()?;
    Ok(events)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const STREAM: &str =
        "event: thread.run.created\ndata: {\"id\":\"run_1\",\"status\":\"queued\"}\n\n\
                          event: done\ndata: [DONE]\n\n";

    #[test]
    fn parses_assistants_framing() {
        let events = parse(STREAM).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].event, "thread.run.created");
        assert_eq!(events[0].data, r#"{"id":"run_1","status":"queued"}"#);
        assert_eq!(
            events[0].json,
            Some(json!({"id": "run_1", "status": "queued"}))
        );
        assert_eq!(events[1].json, None);
        assert_eq!(events[1].payload(), Ok(json!("[DONE]")));
    }

    #[test]
    fn any_chunking_gives_the_same_events() {
        let whole = parse(STREAM).unwrap();
        for size in 1..12 {
            let mut parser = SseParser::new();
            let chars: Vec<char> = STREAM.chars().collect();
            let events: Vec<SseEvent> = chars
                .chunks(size)
                .flat_map(|chunk| parser.feed(&chunk.iter().collect::<String>()))
                .collect();
            parser.finish().unwrap();
            assert_eq!(events, whole, "chunk size {size}");
        }
    }

    #[test]
    fn crlf_comments_multiline_data_and_default_name() {
        let events = parse(": keep-alive\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\n").unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event, "message");
        assert_eq!(events[0].data, "{\"a\":\n1}");
        assert_eq!(events[0].json, Some(json!({"a": 1})));
    }

    #[test]
    fn a_stream_cut_inside_an_event_is_an_error() {
        assert!(matches!(
            parse("event: thread.run.created\ndata: {}\n"),
            Err(SseError::Truncated(_))
        ));
        assert!(matches!(
            parse("event: done\ndata: [DO"),
            Err(SseError::Truncated(_))
        ));
    }

    #[test]
    fn non_json_data_is_reported_by_payload() {
        let events = parse("event: thread.message.delta\ndata: {broken\n\n").unwrap();
        assert!(events[0].payload().unwrap_err().contains("not JSON"));
    }
}
