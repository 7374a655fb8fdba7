//! Gemini's streamed `GenerateContentResponse`s (one per SSE `data`,
//! <https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent>) as
//! [`ChatEvent`]s: text parts (thought parts skipped), each `functionCall` part one whole
//! tool call (Gemini sends calls complete, and without ids unless the model gives one,
//! so the server names them `call_…`), `finishReason` and `usageMetadata`. The stream
//! has no closing event: it ends when the body does, after a finish reason.

use serde_json::Value;

use super::super::native::StreamDecoder;
use crate::llm::event::{ChatEvent, FinishReason, ToolCallDelta, Usage};
use crate::llm::wire::excerpt;
use crate::llm::LlmError;

/// What the stream has said so far.
#[derive(Debug, Default)]
pub struct Decoder {
    /// Tool calls seen, for their indexes and the finish reason.
    calls: usize,
    /// From the last `finishReason`.
    stop: Option<FinishReason>,
    /// The latest `usageMetadata` (each chunk repeats the running totals).
    usage: Option<Usage>,
    /// The closing events were produced.
    ended: bool,
}

impl StreamDecoder for Decoder {
    fn take(&mut self, data: &str) -> Result<Vec<ChatEvent>, LlmError> {
        let chunk: Value = serde_json::from_str(data).map_err(|_| {
            LlmError::server_error(format!(
                "Gemini sent an event that is not JSON: {}",
                excerpt(data)
            ))
        })?;
        if let Some(error) = chunk.get("error") {
            let message = error["message"].as_str().unwrap_or("the stream failed");
            return Err(match error["status"].as_str() {
                Some("RESOURCE_EXHAUSTED") => LlmError::rate_limited(message.to_owned()),
                Some("INVALID_ARGUMENT") => LlmError::invalid_prompt(message.to_owned()),
                _ => LlmError::server_error(format!("Gemini failed: {message}")),
            });
        }
        if let Some(usage) = chunk.get("usageMetadata") {
            self.usage = Some(usage_of(usage));
        }
        let mut events = Vec::new();
        let candidate = &chunk["candidates"][0];
        for part in candidate["content"]["parts"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if part["thought"] == true {
                continue;
            }
            if let Some(text) = part["text"].as_str().filter(|t| !t.is_empty()) {
                events.push(ChatEvent::TextDelta(text.to_owned()));
            }
            if let Some(call) = part.get("functionCall") {
                let id = call["id"]
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("call_{:024x}", rand::random::<u128>() >> 32));
                events.push(ChatEvent::ToolCallDelta(ToolCallDelta {
                    index: self.calls,
                    id: Some(id),
                    name: call["name"].as_str().map(str::to_owned),
                    arguments: call
                        .get("args")
                        .map_or_else(|| "{}".to_owned(), Value::to_string),
                }));
                self.calls += 1;
            }
        }
        if let Some(reason) = candidate["finishReason"].as_str() {
            self.stop = Some(finish_reason(reason, self.calls > 0));
        } else if chunk["promptFeedback"]["blockReason"].is_string() {
            self.stop = Some(FinishReason::ContentFilter);
        }
        Ok(events)
    }

    fn ended(&self) -> bool {
        self.ended
    }

    fn has_stop_reason(&self) -> bool {
        self.stop.is_some()
    }

    fn finish(&mut self) -> Vec<ChatEvent> {
        self.ended = true;
        let usage = self.usage.unwrap_or_else(|| Usage::estimated(0, 0));
        vec![
            ChatEvent::Finish(self.stop.unwrap_or(FinishReason::Stop)),
            ChatEvent::Usage(usage),
        ]
    }
}

/// Gemini's `usageMetadata`: thoughts count as completion (reasoning) tokens, as
/// OpenAI counts reasoning.
fn usage_of(usage: &Value) -> Usage {
    let count = |name: &str| u32::try_from(usage[name].as_u64().unwrap_or(0)).unwrap_or(u32::MAX);
    let prompt = count("promptTokenCount");
    let reasoning = count("thoughtsTokenCount");
    let completion = count("candidatesTokenCount").saturating_add(reasoning);
    Usage {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: prompt.saturating_add(completion),
        cached_tokens: count("cachedContentTokenCount"),
        reasoning_tokens: reasoning,
        estimated: false,
    }
}

/// Gemini's `finishReason`; `STOP` after function calls means the turn called tools.
pub fn finish_reason(reason: &str, called_tools: bool) -> FinishReason {
    match reason {
        "STOP" if called_tools => FinishReason::ToolCalls,
        "MAX_TOKENS" => FinishReason::Length,
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "IMAGE_SAFETY" => {
            FinishReason::ContentFilter
        }
        _ => FinishReason::Stop,
    }
}
