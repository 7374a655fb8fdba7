//! Alternating turns for the native chat formats (Anthropic, Bedrock Converse, Gemini): each
//! wants consecutive blocks of one role merged into a single turn, where Chat Completions keeps
//! one message per tool result or text.

use serde_json::{json, Value};

/// Turns being assembled, each a role and its content blocks.
#[derive(Debug, Default)]
pub(crate) struct Turns(Vec<(&'static str, Vec<Value>)>);

impl Turns {
    /// Adds `blocks` under `role`, joining the previous turn when it has the same role; an
    /// empty list adds nothing.
    pub(crate) fn push(&mut self, role: &'static str, blocks: Vec<Value>) {
        if blocks.is_empty() {
            return;
        }
        match self.0.last_mut() {
            Some((last, existing)) if *last == role => existing.extend(blocks),
            _ => self.0.push((role, blocks)),
        }
    }

    /// The turns as `{"role", content_key: blocks}` objects.
    pub(crate) fn into_messages(self, content_key: &str) -> Vec<Value> {
        self.0
            .into_iter()
            .map(|(role, blocks)| json!({"role": role, content_key: blocks}))
            .collect()
    }
}
