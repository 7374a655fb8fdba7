//! What a model turn produces, piece by piece ([`ChatEvent`]) and assembled
//! ([`ChatCompletion`]).

use futures::StreamExt;

use super::error::LlmError;
use super::request::ToolCall;
use super::ChatStream;

/// One piece of a model turn, forwarded as soon as the model produced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatEvent {
    /// More answer text (refusals arrive as text too).
    TextDelta(String),
    /// A piece of one tool call.
    ToolCallDelta(ToolCallDelta),
    /// Why the turn ended; always followed by exactly one [`ChatEvent::Usage`].
    Finish(FinishReason),
    /// Tokens used by the turn; always the last event.
    Usage(Usage),
}

/// A piece of one tool call. The first delta of an index carries `id` and `name`;
/// later ones usually carry only argument text (some upstreams repeat `id`/`name`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCallDelta {
    /// Position of the call among this turn's calls, from 0.
    pub index: usize,
    /// The call's `call_…` id, on the first delta of the call.
    pub id: Option<String>,
    /// The function's name, on the first delta of the call.
    pub name: Option<String>,
    /// The next fragment of the JSON arguments (may be empty).
    pub arguments: String,
}

/// Why a model turn ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishReason {
    /// The answer is complete.
    Stop,
    /// The model called tools and waits for their outputs.
    ToolCalls,
    /// `max_completion_tokens` (or the model's context) was reached: the run becomes `incomplete`.
    Length,
    /// The upstream withheld the answer.
    ContentFilter,
}

impl FinishReason {
    /// Reads a Chat Completions `finish_reason`; unknown values count as `stop`.
    pub fn from_wire(value: &str) -> Self {
        match value {
            "tool_calls" | "function_call" => FinishReason::ToolCalls,
            "length" => FinishReason::Length,
            "content_filter" => FinishReason::ContentFilter,
            _ => FinishReason::Stop,
        }
    }

    /// The reason as spelled on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::ToolCalls => "tool_calls",
            FinishReason::Length => "length",
            FinishReason::ContentFilter => "content_filter",
        }
    }
}

/// Tokens used by one model turn, with the detail counts runs and steps report
/// (`prompt_token_details.cached_tokens`, `completion_tokens_details.reasoning_tokens`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Tokens of the prompt (messages and tool definitions).
    pub prompt_tokens: u32,
    /// Tokens of the answer.
    pub completion_tokens: u32,
    /// The sum, as the upstream reported it.
    pub total_tokens: u32,
    /// Prompt tokens served from the upstream's cache.
    pub cached_tokens: u32,
    /// Completion tokens spent on hidden reasoning.
    pub reasoning_tokens: u32,
    /// True when counted locally with tiktoken because the upstream reported nothing.
    pub estimated: bool,
}

impl Usage {
    /// Usage counted locally: totals filled, details zero.
    pub fn estimated(prompt_tokens: u32, completion_tokens: u32) -> Self {
        Self {
            prompt_tokens,
            completion_tokens,
            total_tokens: prompt_tokens + completion_tokens,
            cached_tokens: 0,
            reasoning_tokens: 0,
            estimated: true,
        }
    }
}

/// A finished model turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatCompletion {
    /// All text deltas joined.
    pub text: String,
    /// The calls, in index order.
    pub tool_calls: Vec<ToolCall>,
    /// Why it ended.
    pub finish_reason: FinishReason,
    /// Tokens used.
    pub usage: Usage,
}

/// Assembles events into a [`ChatCompletion`] while the caller forwards them, so a run
/// engine can stream deltas and still store the final message and tool calls.
#[derive(Debug, Default, Clone)]
pub struct CompletionAccumulator {
    /// Text deltas joined.
    text: String,
    /// Calls assembled by index.
    tool_calls: Vec<ToolCall>,
    /// Set by the `Finish` event.
    finish_reason: Option<FinishReason>,
    /// Set by the `Usage` event.
    usage: Option<Usage>,
}

impl CompletionAccumulator {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one event into account.
    pub fn push(&mut self, event: &ChatEvent) {
        match event {
            ChatEvent::TextDelta(text) => self.text.push_str(text),
            ChatEvent::ToolCallDelta(delta) => {
                while self.tool_calls.len() <= delta.index {
                    self.tool_calls.push(ToolCall {
                        id: String::new(),
                        name: String::new(),
                        arguments: String::new(),
                    });
                }
                let call = &mut self.tool_calls[delta.index];
                if let Some(id) = &delta.id {
                    if call.id.is_empty() {
                        call.id.clone_from(id);
                    }
                }
                if let Some(name) = &delta.name {
                    if call.name.is_empty() {
                        call.name.clone_from(name);
                    }
                }
                call.arguments.push_str(&delta.arguments);
            }
            ChatEvent::Finish(reason) => self.finish_reason = Some(*reason),
            ChatEvent::Usage(usage) => self.usage = Some(*usage),
        }
    }

    /// The text so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The tool calls so far, in index order.
    pub fn tool_calls(&self) -> &[ToolCall] {
        &self.tool_calls
    }

    /// The finished turn, or a `server_error` when the stream ended without its
    /// finish reason or usage (a truncated stream).
    pub fn finish(self) -> Result<ChatCompletion, LlmError> {
        let finish_reason = self.finish_reason.ok_or_else(|| {
            LlmError::server_error("the model's answer ended without a finish reason")
        })?;
        let usage = self
            .usage
            .ok_or_else(|| LlmError::server_error("the model's answer ended without usage"))?;
        Ok(ChatCompletion {
            text: self.text,
            tool_calls: self.tool_calls,
            finish_reason,
            usage,
        })
    }
}

/// Consumes a stream and assembles the finished turn; the first error item is returned.
pub async fn collect(mut stream: ChatStream) -> Result<ChatCompletion, LlmError> {
    let mut accumulator = CompletionAccumulator::new();
    while let Some(event) = stream.next().await {
        accumulator.push(&event?);
    }
    accumulator.finish()
}
