//! An incremental Server-Sent Events reader over a `reqwest` response, so timings see
//! each event the moment its bytes arrive (not when the whole body has been read).

use crate::BenchResult;

/// One event: its `event:` name (empty for data-only frames, as Chat Completions sends)
/// and its `data:` text.
#[derive(Debug, Clone)]
pub(crate) struct SseEvent {
    /// The `event:` field.
    pub name: String,
    /// The `data:` lines, joined by newlines.
    pub data: String,
}

/// Reads events from a streamed HTTP response as they come.
pub(crate) struct SseReader {
    response: reqwest::Response,
    buffer: Vec<u8>,
}

impl SseReader {
    /// A reader of `response`'s body.
    pub(crate) fn new(response: reqwest::Response) -> Self {
        Self {
            response,
            buffer: Vec::new(),
        }
    }

    /// The next event, or `None` when the body has ended.
    pub(crate) async fn next_event(&mut self) -> BenchResult<Option<SseEvent>> {
        loop {
            if let Some(end) = self.buffer.windows(2).position(|pair| pair == b"\n\n") {
                let frame: Vec<u8> = self.buffer.drain(..end + 2).collect();
                if let Some(event) = parse_frame(std::str::from_utf8(&frame[..end])?) {
                    return Ok(Some(event));
                }
                continue;
            }
            match self.response.chunk().await? {
                Some(bytes) => self.buffer.extend_from_slice(&bytes),
                None => return Ok(None),
            }
        }
    }

    /// Reads the Assistants stream to its `done` event; fails on an `error` event, a
    /// body that ends without `done`, or a run that did not end `thread.run.completed`.
    pub(crate) async fn read_to_done(&mut self) -> BenchResult<()> {
        let mut completed = false;
        while let Some(event) = self.next_event().await? {
            match event.name.as_str() {
                "thread.run.completed" => completed = true,
                "error" => return Err(format!("stream error event: {}", event.data).into()),
                "done" if completed => return Ok(()),
                "done" => return Err("stream ended `done` without thread.run.completed".into()),
                _ => {}
            }
        }
        Err("stream body ended without `done`".into())
    }

    /// Reads and discards the rest of the body, so the connection can be reused.
    pub(crate) async fn drain(&mut self) -> BenchResult<()> {
        while self.response.chunk().await?.is_some() {}
        Ok(())
    }
}

/// The event of one frame; `None` for comment-only frames (keep-alives).
fn parse_frame(frame: &str) -> Option<SseEvent> {
    let mut name = None;
    let mut data: Option<String> = None;
    for line in frame.lines() {
        if let Some(value) = line.strip_prefix("event:") {
            name = Some(value.trim_start().to_owned());
        } else if let Some(value) = line.strip_prefix("data:") {
            let value = value.strip_prefix(' ').unwrap_or(value);
            match &mut data {
                Some(text) => {
                    text.push('\n');
                    text.push_str(value);
                }
                None => data = Some(value.to_owned()),
            }
        }
    }
    if name.is_none() && data.is_none() {
        return None;
    }
    Some(SseEvent {
        name: name.unwrap_or_default(),
        data: data.unwrap_or_default(),
    })
}
