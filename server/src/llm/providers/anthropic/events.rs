//! Anthropic's streamed events (<https://docs.anthropic.com/en/docs/build-with-claude/streaming>)
//! as [`ChatEvent`]s: `text_delta`s become text, each `tool_use` block a tool call
//! (numbered by tool block, so parallel calls get indexes 0, 1, ...) whose
//! `input_json_delta`s are its arguments, `message_delta`'s `stop_reason` the finish
//! reason, and the usage of `message_start` and `message_delta` the turn's usage.
//! `ping`, `thinking` and unknown events are skipped, as Anthropic's versioning policy
//! asks of clients.

use std::collections::HashMap;

use serde_json::Value;

use super::super::native::StreamDecoder;
use crate::llm::event::{ChatEvent, FinishReason, ToolCallDelta, Usage};
use crate::llm::wire::excerpt;
use crate::llm::LlmError;

/// What the stream has said so far.
#[derive(Debug, Default)]
pub struct Decoder {
    /// Content block index → tool call index, for `tool_use` blocks.
    tool_blocks: HashMap<u64, usize>,
    /// `message_start`'s input tokens, cache reads and cache writes.
    input_tokens: u32,
    /// Input tokens read from the prompt cache.
    cached_tokens: u32,
    /// Output tokens, cumulative (the last `message_delta` wins).
    output_tokens: u32,
    /// From `message_delta`.
    stop: Option<FinishReason>,
    /// `message_stop` arrived.
    ended: bool,
}

impl StreamDecoder for Decoder {
    fn take(&mut self, data: &str) -> Result<Vec<ChatEvent>, LlmError> {
        let event: Value = serde_json::from_str(data).map_err(|_| {
            LlmError::server_error(format!(
                "Anthropic sent an event that is not JSON: {}",
                excerpt(data)
            ))
        })?;
        let count = |value: &Value| u32::try_from(value.as_u64().unwrap_or(0)).unwrap_or(u32::MAX);
        match event["type"].as_str().unwrap_or_default() {
            "message_start" => {
                let usage = &event["message"]["usage"];
                self.cached_tokens = count(&usage["cache_read_input_tokens"]);
                self.input_tokens = count(&usage["input_tokens"])
                    .saturating_add(self.cached_tokens)
                    .saturating_add(count(&usage["cache_creation_input_tokens"]));
                self.output_tokens = count(&usage["output_tokens"]);
                Ok(Vec::new())
            }
            "content_block_start" => {
                let block = &event["content_block"];
                if block["type"] != "tool_use" {
                    let text = block["text"].as_str().unwrap_or_default();
                    return Ok(text_event(text));
                }
                let index = self.tool_blocks.len();
                self.tool_blocks
                    .insert(event["index"].as_u64().unwrap_or(0), index);
                Ok(vec![ChatEvent::ToolCallDelta(ToolCallDelta {
                    index,
                    id: block["id"].as_str().map(str::to_owned),
                    name: block["name"].as_str().map(str::to_owned),
                    arguments: String::new(),
                })])
            }
            "content_block_delta" => {
                let delta = &event["delta"];
                match delta["type"].as_str().unwrap_or_default() {
                    "text_delta" => Ok(text_event(delta["text"].as_str().unwrap_or_default())),
                    "input_json_delta" => {
                        let block = event["index"].as_u64().unwrap_or(0);
                        let Some(&index) = self.tool_blocks.get(&block) else {
                            return Err(LlmError::server_error(
                                "Anthropic sent tool input for a block that is not a tool call",
                            ));
                        };
                        Ok(vec![ChatEvent::ToolCallDelta(ToolCallDelta {
                            index,
                            id: None,
                            name: None,
                            arguments: delta["partial_json"]
                                .as_str()
                                .unwrap_or_default()
                                .to_owned(),
                        })])
                    }
                    _ => Ok(Vec::new()),
                }
            }
            "message_delta" => {
                if let Some(reason) = event["delta"]["stop_reason"].as_str() {
                    self.stop = Some(finish_reason(reason));
                }
                if let Some(output) = event["usage"]["output_tokens"].as_u64() {
                    self.output_tokens = u32::try_from(output).unwrap_or(u32::MAX);
                }
                Ok(Vec::new())
            }
            "message_stop" => Ok(self.finish()),
            "error" => Err(stream_error(&event["error"])),
            _ => Ok(Vec::new()),
        }
    }

    fn ended(&self) -> bool {
        self.ended
    }

    fn has_stop_reason(&self) -> bool {
        self.stop.is_some()
    }

    fn finish(&mut self) -> Vec<ChatEvent> {
        self.ended = true;
        vec![
            ChatEvent::Finish(self.stop.unwrap_or(FinishReason::Stop)),
            ChatEvent::Usage(Usage {
                prompt_tokens: self.input_tokens,
                completion_tokens: self.output_tokens,
                total_tokens: self.input_tokens.saturating_add(self.output_tokens),
                cached_tokens: self.cached_tokens,
                reasoning_tokens: 0,
                estimated: false,
            }),
        ]
    }
}

fn text_event(text: &str) -> Vec<ChatEvent> {
    if text.is_empty() {
        Vec::new()
    } else {
        vec![ChatEvent::TextDelta(text.to_owned())]
    }
}

/// Anthropic's `stop_reason` as a finish reason.
pub fn finish_reason(reason: &str) -> FinishReason {
    match reason {
        "tool_use" => FinishReason::ToolCalls,
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "refusal" => FinishReason::ContentFilter,
        _ => FinishReason::Stop,
    }
}

/// An `error` event's error (<https://docs.anthropic.com/en/api/errors>).
fn stream_error(error: &Value) -> LlmError {
    let kind = error["type"].as_str().unwrap_or("api_error");
    let message = error["message"].as_str().unwrap_or("the stream failed");
    match kind {
        "rate_limit_error" => LlmError::rate_limited(message.to_owned()).retryable(),
        "invalid_request_error" | "request_too_large" => {
            LlmError::invalid_prompt(message.to_owned())
        }
        _ => LlmError::server_error(format!("Anthropic failed ({kind}): {message}")).retryable(),
    }
}
