//! ConverseStream's events
//! (<https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html>)
//! as [`ChatEvent`]s: `contentBlockDelta` text, `contentBlockStart` tool uses (numbered
//! by tool, so parallel calls get 0, 1, ...) whose `delta.toolUse.input` pieces are the
//! arguments, `messageStop`'s `stopReason`, and `metadata`'s usage, which closes the
//! turn. Exception messages (`throttlingException`, `modelStreamErrorException`, ...)
//! end the stream with an error.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use reqwest::Response;
use serde_json::Value;
use tokio::time::{timeout, Instant};

use super::eventstream::{Frame, FrameDecoder};
use crate::llm::event::{ChatEvent, FinishReason, ToolCallDelta, Usage};
use crate::llm::upstream::http::{error_chain, seconds, silence_limit};
use crate::llm::LlmError;

/// What the stream has said so far.
#[derive(Debug, Default)]
pub struct Decoder {
    /// Content block index → tool call index.
    tools: HashMap<u64, usize>,
    /// From `messageStop`.
    stop: Option<FinishReason>,
    /// `metadata` arrived: the turn is complete.
    ended: bool,
}

impl Decoder {
    /// The events one message yields.
    pub fn take(&mut self, frame: &Frame) -> Result<Vec<ChatEvent>, LlmError> {
        let payload: Value = serde_json::from_slice(&frame.payload).unwrap_or(Value::Null);
        if frame.header(":message-type") == Some("exception") {
            let kind = frame.header(":exception-type").unwrap_or("exception");
            let message = payload["message"].as_str().unwrap_or("the stream failed");
            return Err(match kind {
                "throttlingException" => LlmError::rate_limited(message.to_owned()),
                "validationException" => LlmError::invalid_prompt(message.to_owned()),
                _ => LlmError::server_error(format!("Bedrock failed ({kind}): {message}")),
            });
        }
        let block = payload["contentBlockIndex"].as_u64().unwrap_or(0);
        match frame.header(":event-type").unwrap_or_default() {
            "contentBlockStart" => {
                let Some(tool) = payload["start"].get("toolUse") else {
                    return Ok(Vec::new());
                };
                let index = self.tools.len();
                self.tools.insert(block, index);
                Ok(vec![ChatEvent::ToolCallDelta(ToolCallDelta {
                    index,
                    id: tool["toolUseId"].as_str().map(str::to_owned),
                    name: tool["name"].as_str().map(str::to_owned),
                    arguments: String::new(),
                })])
            }
            "contentBlockDelta" => {
                let delta = &payload["delta"];
                if let Some(text) = delta["text"].as_str().filter(|t| !t.is_empty()) {
                    return Ok(vec![ChatEvent::TextDelta(text.to_owned())]);
                }
                let Some(input) = delta["toolUse"]["input"].as_str() else {
                    return Ok(Vec::new());
                };
                let index = *self.tools.get(&block).ok_or_else(|| {
                    LlmError::server_error(
                        "Bedrock sent tool input for a block that is not a tool use",
                    )
                })?;
                Ok(vec![ChatEvent::ToolCallDelta(ToolCallDelta {
                    index,
                    id: None,
                    name: None,
                    arguments: input.to_owned(),
                })])
            }
            "messageStop" => {
                self.stop = Some(finish_reason(
                    payload["stopReason"].as_str().unwrap_or("end_turn"),
                ));
                Ok(Vec::new())
            }
            "metadata" => {
                self.ended = true;
                let usage = &payload["usage"];
                let count = |name: &str| {
                    u32::try_from(usage[name].as_u64().unwrap_or(0)).unwrap_or(u32::MAX)
                };
                let (prompt, completion) = (count("inputTokens"), count("outputTokens"));
                Ok(vec![
                    ChatEvent::Finish(self.stop.unwrap_or(FinishReason::Stop)),
                    ChatEvent::Usage(Usage {
                        prompt_tokens: prompt,
                        completion_tokens: completion,
                        total_tokens: prompt.saturating_add(completion),
                        cached_tokens: count("cacheReadInputTokens"),
                        reasoning_tokens: 0,
                        estimated: usage.is_null(),
                    }),
                ])
            }
            _ => Ok(Vec::new()),
        }
    }
}

/// Bedrock's `stopReason` as a finish reason.
pub fn finish_reason(reason: &str) -> FinishReason {
    match reason {
        "tool_use" => FinishReason::ToolCalls,
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "content_filtered" | "guardrail_intervened" => FinishReason::ContentFilter,
        _ => FinishReason::Stop,
    }
}

/// One streamed answer being read.
pub struct Turn {
    /// `None` once the body ended.
    pub response: Option<Response>,
    /// Splits the body into messages.
    pub frames: FrameDecoder,
    /// Turns messages into events.
    pub decoder: Decoder,
    /// Decoded events not handed out yet.
    pub pending: VecDeque<ChatEvent>,
    /// Longest silence between chunks.
    pub idle: Duration,
    /// End of the whole call.
    pub deadline: Instant,
    /// The answer is complete or an error was handed out.
    pub done: bool,
}

impl Turn {
    /// The next event, for `futures::stream::unfold`.
    pub async fn next(mut self) -> Option<(Result<ChatEvent, LlmError>, Self)> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some((Ok(event), self));
            }
            if self.done {
                return None;
            }
            if let Err(error) = self.pull().await {
                self.done = true;
                self.response = None;
                return Some((Err(error), self));
            }
        }
    }

    async fn pull(&mut self) -> Result<(), LlmError> {
        let wait = silence_limit(self.idle, self.deadline)?;
        let Some(response) = self.response.as_mut() else {
            return Err(LlmError::server_error(
                "Bedrock closed the stream before the answer finished",
            ));
        };
        match timeout(wait, response.chunk()).await {
            Err(_) => Err(LlmError::server_error(format!(
                "Bedrock sent nothing for {}",
                seconds(wait)
            ))),
            Ok(Err(error)) => Err(LlmError::server_error(format!(
                "the Bedrock connection broke mid-answer: {}",
                error_chain(&error)
            ))),
            Ok(Ok(Some(bytes))) => {
                for frame in self.frames.push(&bytes)? {
                    self.pending.extend(self.decoder.take(&frame)?);
                    if self.decoder.ended {
                        self.done = true;
                        self.response = None;
                        break;
                    }
                }
                Ok(())
            }
            Ok(Ok(None)) => {
                self.response = None;
                // metadata may be missing; the stop reason completes the answer then.
                match self.decoder.stop {
                    Some(stop) if !self.frames.is_mid_message() => {
                        self.done = true;
                        self.pending.push_back(ChatEvent::Finish(stop));
                        self.pending
                            .push_back(ChatEvent::Usage(Usage::estimated(0, 0)));
                        Ok(())
                    }
                    _ => Err(LlmError::server_error(
                        "Bedrock closed the stream before the answer finished",
                    )),
                }
            }
        }
    }
}
