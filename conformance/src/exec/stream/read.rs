//! Reading a `text/event-stream` answer as it arrives: events are parsed chunk by chunk, reading
//! stops at the `done` event (a server may keep the connection open after it), at the end of
//! the body, or at the step's deadline, so a stream that never ends is a FAIL, never a hang.

use tokio::time::{timeout_at, Instant};

use crate::client::describe_transport_error;
use crate::sse::{SseEvent, SseParser};

/// Everything read from a stream.
#[derive(Debug, Clone, Default)]
pub struct ReadStream {
    /// The body as received (invalid UTF-8 replaced), for framing checks and the results.
    pub raw: String,
    /// Events in order.
    pub events: Vec<SseEvent>,
    /// Why reading stopped early, if it did: deadline, transport error, cut inside an event.
    pub problem: Option<String>,
}

/// Reads `response`'s body as server-sent events until `done`, its end, or `deadline`.
pub async fn read_events(mut response: reqwest::Response, deadline: Instant) -> ReadStream {
    let mut parser = SseParser::new();
    let mut read = ReadStream::default();
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let chunk = match timeout_at(deadline, response.chunk()).await {
            Err(_) => {
                read.problem = Some(format!(
                    "no `done` before the step's deadline ({} events received)",
                    read.events.len()
                ));
                return read;
            }
            Ok(Err(err)) => {
                read.problem = Some(format!(
                    "transport error while reading the stream: {}",
                    describe_transport_error(&err)
                ));
                return read;
            }
            Ok(Ok(None)) => break,
            Ok(Ok(Some(chunk))) => chunk,
        };
        pending.extend_from_slice(&chunk);
        let text = take_valid_utf8(&mut pending);
        read.raw.push_str(&text);
        let events = parser.feed(&text);
        let done = events.iter().any(|event| event.event == "done");
        read.events.extend(events);
        if done {
            return read;
        }
    }
    if !pending.is_empty() {
        let text = String::from_utf8_lossy(&pending).into_owned();
        read.raw.push_str(&text);
        read.events.extend(parser.feed(&text));
    }
    if let Err(err) = parser.finish() {
        read.problem = Some(err.to_string());
    }
    read
}

/// Removes and returns the longest valid UTF-8 prefix of `bytes`, keeping a character split
/// across chunks for the next one; bytes that can never be valid are replaced.
fn take_valid_utf8(bytes: &mut Vec<u8>) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => {
            let text = text.to_owned();
            bytes.clear();
            text
        }
        Err(err) if err.error_len().is_none() => {
            let valid = err.valid_up_to();
            let text = String::from_utf8_lossy(&bytes[..valid]).into_owned();
            bytes.drain(..valid);
            text
        }
        Err(_) => {
            let text = String::from_utf8_lossy(bytes).into_owned();
            bytes.clear();
            text
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_character_split_across_chunks_waits_for_its_end() {
        let mut pending = "é".as_bytes()[..1].to_vec();
        assert_eq!(take_valid_utf8(&mut pending), "");
        pending.extend_from_slice(&"é".as_bytes()[1..]);
        assert_eq!(take_valid_utf8(&mut pending), "é");
        assert!(pending.is_empty());
    }
}
