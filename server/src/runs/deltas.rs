//! Message deltas of a run's answer. Text is forwarded as it arrives, except that a
//! `【…】` source marker is held until complete and then sent as a delta of its own
//! carrying its `file_citation` annotation (with `index` and `quote: ""`), as OpenAI
//! streamed them.

use serde_json::{json, Value};

use super::citations::split_markers;
use super::progress::Progress;
use super::{RunEngine, RunKey};

/// Held text longer than this is not a marker being completed: it is sent as is.
const MAX_MARKER_CHARS: usize = 256;

impl RunEngine {
    /// Takes more answer text, sending what is ready (`flush`: everything held).
    pub(super) fn forward_text(
        &self,
        key: &RunKey,
        progress: &mut Progress,
        text: &str,
        flush: bool,
    ) {
        progress.held_text.push_str(text);
        let held = std::mem::take(&mut progress.held_text);
        let cut = match held.rfind('【') {
            Some(start)
                if !flush
                    && !held[start..].contains('】')
                    && held[start..].chars().count() < MAX_MARKER_CHARS =>
            {
                start
            }
            _ => held.len(),
        };
        progress.held_text = held[cut..].to_owned();
        for piece in split_markers(&held[..cut]) {
            self.send_piece(key, progress, &piece);
        }
    }

    fn send_piece(&self, key: &RunKey, progress: &mut Progress, piece: &str) {
        let Some((message, _)) = &progress.message else {
            return;
        };
        let first = progress.sent_chars == 0;
        let start = progress.sent_chars;
        progress.sent_chars += piece.chars().count();
        let mut part = json!({"value": piece});
        let index = progress.citations_sent;
        let cited = progress.sources.file_of(piece).map(|file_id| {
            json!([{"index": index, "type": "file_citation", "text": piece,
                "start_index": start, "end_index": progress.sent_chars,
                "file_citation": {"file_id": file_id, "quote": ""}}])
        });
        progress.citations_sent += usize::from(cited.is_some());
        if first || cited.is_some() {
            part["annotations"] = cited.unwrap_or(Value::Array(Vec::new()));
        }
        let delta = json!({"id": message.id, "object": "thread.message.delta",
            "delta": {"content": [{"index": 0, "type": "text", "text": part}]}});
        self.emit_while_working(&key.run_id, "thread.message.delta", &delta);
    }
}
