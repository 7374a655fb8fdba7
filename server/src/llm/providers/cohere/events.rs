//! Cohere's v2 chat stream events (<https://docs.cohere.com/docs/streaming>,
//! <https://docs.cohere.com/docs/tool-use-streaming>) as [`ChatEvent`]s:
//! `content-delta` text, `tool-call-start`/`tool-call-delta` calls by their `index`,
//! `message-end`'s `finish_reason` and `usage.tokens`. `tool-plan-delta` (the model's
//! plan before calling tools), citations and unknown events are skipped.

use serde_json::Value;

use super::super::native::StreamDecoder;
use crate::llm::event::{ChatEvent, FinishReason, ToolCallDelta, Usage};
use crate::llm::wire::excerpt;
use crate::llm::LlmError;

/// What the stream has said so far.
#[derive(Debug, Default)]
pub struct Decoder {
    /// From `message-end`.
    stop: Option<FinishReason>,
    /// From `message-end`: input and output tokens.
    usage: Option<(u32, u32)>,
    /// `message-end` arrived.
    ended: bool,
}

impl StreamDecoder for Decoder {
    fn take(&mut self, data: &str) -> Result<Vec<ChatEvent>, LlmError> {
        let event: Value = serde_json::from_str(data).map_err(|_| {
            LlmError::server_error(format!(
                "Cohere sent an event that is not JSON: {}",
                excerpt(data)
            ))
        })?;
        let message = &event["delta"]["message"];
        let index = || usize::try_from(event["index"].as_u64().unwrap_or(0)).unwrap_or(0);
        match event["type"].as_str().unwrap_or_default() {
            "content-delta" => {
                let text = message["content"]["text"].as_str().unwrap_or_default();
                Ok(if text.is_empty() {
                    Vec::new()
                } else {
                    vec![ChatEvent::TextDelta(text.to_owned())]
                })
            }
            "tool-call-start" => {
                let call = &message["tool_calls"];
                Ok(vec![ChatEvent::ToolCallDelta(ToolCallDelta {
                    index: index(),
                    id: call["id"].as_str().map(str::to_owned),
                    name: call["function"]["name"].as_str().map(str::to_owned),
                    arguments: call["function"]["arguments"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                })])
            }
            "tool-call-delta" => Ok(vec![ChatEvent::ToolCallDelta(ToolCallDelta {
                index: index(),
                id: None,
                name: None,
                arguments: message["tool_calls"]["function"]["arguments"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            })]),
            "message-end" => {
                let delta = &event["delta"];
                let reason = delta["finish_reason"].as_str().unwrap_or("COMPLETE");
                if reason == "ERROR" {
                    let why = delta["error"].as_str().unwrap_or("the generation failed");
                    return Err(LlmError::server_error(format!("Cohere failed: {why}")));
                }
                self.stop = Some(finish_reason(reason));
                let tokens = &delta["usage"]["tokens"];
                let count = |v: &Value| v.as_f64().map(|n| n as u32);
                if let (Some(input), Some(output)) = (
                    count(&tokens["input_tokens"]),
                    count(&tokens["output_tokens"]),
                ) {
                    self.usage = Some((input, output));
                }
                Ok(self.finish())
            }
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
        // Cohere reports usage in message-end; without it the turn still needs a count.
        let (prompt, completion) = self.usage.unwrap_or((0, 0));
        vec![
            ChatEvent::Finish(self.stop.unwrap_or(FinishReason::Stop)),
            ChatEvent::Usage(Usage {
                prompt_tokens: prompt,
                completion_tokens: completion,
                total_tokens: prompt.saturating_add(completion),
                cached_tokens: 0,
                reasoning_tokens: 0,
                estimated: self.usage.is_none(),
            }),
        ]
    }
}

/// Cohere's `finish_reason` as a finish reason.
pub fn finish_reason(reason: &str) -> FinishReason {
    match reason {
        "TOOL_CALL" => FinishReason::ToolCalls,
        "MAX_TOKENS" => FinishReason::Length,
        _ => FinishReason::Stop,
    }
}
