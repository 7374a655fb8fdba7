//! Incremental decoder for `text/event-stream` bodies as upstreams really send them:
//! `data:` with or without the space, `\n`, `\r\n` or `\r` line ends (even split
//! across network chunks), `:` keep-alive comments, `event:` names and multi-line data.

/// One dispatched server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseMessage {
    /// The `event:` name, when the upstream sent one (OpenAI does not).
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

/// Turns arbitrary byte chunks into [`SseMessage`]s.
#[derive(Debug, Default)]
pub struct SseDecoder {
    /// Bytes of the line being received (not yet terminated).
    line: Vec<u8>,
    /// A `\r` ended the last chunk: a `\n` starting the next one belongs to it.
    after_cr: bool,
    /// Data lines of the event being assembled.
    data: Vec<String>,
    /// `event:` of the event being assembled.
    event: Option<String>,
}

impl SseDecoder {
    /// A decoder at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next bytes and returns the events they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<SseMessage> {
        let mut out = Vec::new();
        for &byte in bytes {
            if self.after_cr {
                self.after_cr = false;
                if byte == b'\n' {
                    continue;
                }
            }
            match byte {
                b'\n' => self.end_line(&mut out),
                b'\r' => {
                    self.after_cr = true;
                    self.end_line(&mut out);
                }
                _ => self.line.push(byte),
            }
        }
        out
    }

    /// Bytes held for the event being assembled, so a caller can refuse endless lines.
    pub fn buffered_len(&self) -> usize {
        self.line.len() + self.data.iter().map(String::len).sum::<usize>()
    }

    /// Ends the stream: a last event not followed by a blank line is still delivered.
    pub fn finish(&mut self) -> Option<SseMessage> {
        let mut out = Vec::new();
        if !self.line.is_empty() {
            self.end_line(&mut out);
        }
        self.dispatch(&mut out);
        out.pop()
    }

    fn end_line(&mut self, out: &mut Vec<SseMessage>) {
        let line = String::from_utf8_lossy(&self.line).into_owned();
        self.line.clear();
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line.as_str(), ""),
        };
        match field {
            "data" => self.data.push(value.to_owned()),
            "event" => self.event = Some(value.to_owned()),
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseMessage>) {
        let event = self.event.take();
        // Per the SSE rules, an event without data lines is not dispatched.
        if !self.data.is_empty() {
            let data = std::mem::take(&mut self.data).join("\n");
            out.push(SseMessage { event, data });
        }
    }
}
