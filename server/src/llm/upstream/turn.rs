//! One streamed upstream call as a stream of [`ChatEvent`]s: reads network chunks,
//! decodes server-sent events, retries while nothing has been handed out yet, and
//! closes the answer with `Finish` and `Usage` (counted locally when the upstream
//! sent none). Owned by the returned stream, so dropping the stream drops the HTTP
//! response and with it the connection.

use std::collections::VecDeque;

use reqwest::Response;
use serde_json::Value;
use tokio::time::{timeout, Instant};

use super::http::{error_chain, seconds, silence_limit};
use super::{Opened, Target, UpstreamModel};
use crate::llm::event::{ChatEvent, CompletionAccumulator, FinishReason, Usage};
use crate::llm::request::ChatRequest;
use crate::llm::sse::{SseDecoder, SseMessage};
use crate::llm::wire::{self, ChunkContent};
use crate::llm::{tokens, LlmError};

/// Longest server-sent-event line accepted; a longer one means a broken upstream.
const MAX_LINE_BYTES: usize = 8 * 1024 * 1024;

/// The state of one streamed call, owned by the returned stream.
pub(super) struct Turn {
    /// The client, for retries.
    model: UpstreamModel,
    /// Where retries go.
    target: Target,
    /// The body retries send again.
    body: Value,
    /// Kept to count prompt tokens locally when the upstream reports no usage.
    request: ChatRequest,
    /// When the whole call (all attempts) must be over.
    deadline: Instant,
    /// Retries spent so far, shared with the first attempt's.
    retries_used: u32,
    /// The open response; `None` once the answer is complete.
    response: Option<Response>,
    /// Decodes the response's event stream.
    decoder: SseDecoder,
    /// Events decoded but not yet handed out.
    pending: VecDeque<ChatEvent>,
    /// A failure found after events that must still be handed out first.
    deferred_error: Option<LlmError>,
    /// Whether any event reached the caller: from then on there are no retries.
    forwarded: bool,
    /// The finish reason, held back until the answer is over (usage follows it).
    finish: Option<FinishReason>,
    /// The upstream's usage report, if it sent one.
    usage: Option<Usage>,
    /// What the upstream produced, to count completion tokens locally if needed.
    produced: CompletionAccumulator,
    /// No more events will be decoded (the stream ends once `pending` is empty).
    ended: bool,
}

impl Turn {
    /// The state of a call whose first attempt answered with `opened`.
    pub(super) fn new(
        model: UpstreamModel,
        target: Target,
        body: Value,
        request: ChatRequest,
        deadline: Instant,
        retries_used: u32,
        opened: Opened,
    ) -> Result<Self, LlmError> {
        let mut turn = Turn {
            model,
            target,
            body,
            request,
            deadline,
            retries_used,
            response: None,
            decoder: SseDecoder::new(),
            pending: VecDeque::new(),
            deferred_error: None,
            forwarded: false,
            finish: None,
            usage: None,
            produced: CompletionAccumulator::new(),
            ended: false,
        };
        turn.start(opened)?;
        Ok(turn)
    }

    /// Takes over a fresh successful answer (the first or a retry).
    fn start(&mut self, opened: Opened) -> Result<(), LlmError> {
        self.decoder = SseDecoder::new();
        self.produced = CompletionAccumulator::new();
        self.finish = None;
        self.usage = None;
        match opened {
            Opened::Stream(response) => self.response = Some(response),
            Opened::Whole(body) => {
                self.response = None;
                self.absorb(wire::parse_completion(&body)?);
                self.end_of_answer();
            }
        }
        Ok(())
    }

    /// The next item of the stream (for `futures::stream::unfold`).
    pub(super) async fn next(mut self) -> Option<(Result<ChatEvent, LlmError>, Self)> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                self.forwarded = true;
                return Some((Ok(event), self));
            }
            if let Some(error) = self.deferred_error.take() {
                return Some((Err(self.fail(error)), self));
            }
            if self.ended {
                return None;
            }
            let Err(error) = self.pull().await else {
                continue;
            };
            if !self.pending.is_empty() {
                self.deferred_error = Some(error);
                continue;
            }
            if self.forwarded {
                return Some((Err(self.fail(error)), self));
            }
            self.response = None;
            let model = self.model.clone();
            let retried = match model
                .back_off(error, &mut self.retries_used, self.deadline)
                .await
            {
                Ok(()) => model
                    .open(
                        &self.target,
                        &self.body,
                        self.deadline,
                        &mut self.retries_used,
                    )
                    .await
                    .and_then(|opened| self.start(opened)),
                Err(error) => Err(error),
            };
            if let Err(error) = retried {
                return Some((Err(self.fail(error)), self));
            }
        }
    }

    /// Ends the stream with `error`, closing the connection.
    fn fail(&mut self, error: LlmError) -> LlmError {
        self.ended = true;
        self.response = None;
        tracing::warn!(
            code = error.code(),
            "upstream call failed: {}",
            error.message
        );
        error
    }

    /// Reads the next network chunk and decodes what it completes.
    async fn pull(&mut self) -> Result<(), LlmError> {
        let idle = self.model.inner.config.idle_timeout;
        let wait = silence_limit(idle, self.deadline)?;
        let Some(response) = self.response.as_mut() else {
            self.end_of_answer();
            return Ok(());
        };
        let read = timeout(wait, response.chunk()).await;
        if matches!(read, Err(_) | Ok(Err(_))) && self.finish.is_some() {
            // The answer itself is complete; only the usage chunk or `[DONE]` got
            // lost, so finish with usage counted locally rather than failing the run.
            self.end_of_answer();
            return Ok(());
        }
        match read {
            Err(_) => Err(LlmError::server_error(format!(
                "the upstream sent nothing for {}",
                seconds(wait)
            ))
            .retryable()),
            Ok(Err(error)) => Err(LlmError::server_error(format!(
                "the upstream connection broke mid-answer: {}",
                error_chain(&error)
            ))
            .retryable()),
            Ok(Ok(Some(bytes))) => {
                let messages = self.decoder.push(&bytes);
                if self.decoder.buffered_len() > MAX_LINE_BYTES {
                    return Err(LlmError::server_error(format!(
                        "the upstream sent an event longer than {MAX_LINE_BYTES} bytes"
                    )));
                }
                for message in messages {
                    self.take(message)?;
                    if self.ended {
                        break;
                    }
                }
                Ok(())
            }
            Ok(Ok(None)) => {
                if let Some(message) = self.decoder.finish() {
                    self.take(message)?;
                }
                if self.ended {
                    return Ok(());
                }
                if self.finish.is_none() {
                    return Err(LlmError::server_error(
                        "the upstream closed the stream before the answer finished",
                    )
                    .retryable());
                }
                // Some servers end after the finish chunk without `[DONE]`.
                self.end_of_answer();
                Ok(())
            }
        }
    }

    /// Handles one server-sent event.
    fn take(&mut self, message: SseMessage) -> Result<(), LlmError> {
        let data = message.data.trim();
        if data.is_empty() {
            return Ok(());
        }
        if data == "[DONE]" {
            self.end_of_answer();
            return Ok(());
        }
        self.absorb(wire::parse_chunk(data)?);
        Ok(())
    }

    fn absorb(&mut self, content: ChunkContent) {
        for event in content.deltas {
            self.produced.push(&event);
            self.pending.push_back(event);
        }
        if content.finish.is_some() {
            self.finish = content.finish;
        }
        if content.usage.is_some() {
            self.usage = content.usage;
        }
    }

    /// Queues the closing `Finish` and `Usage` events and releases the connection.
    fn end_of_answer(&mut self) {
        if self.ended {
            return;
        }
        self.ended = true;
        self.response = None;
        let produced = &self.produced;
        let finish = self.finish.unwrap_or(if produced.tool_calls().is_empty() {
            FinishReason::Stop
        } else {
            FinishReason::ToolCalls
        });
        let usage = self.usage.unwrap_or_else(|| {
            Usage::estimated(
                tokens::count_prompt(&self.request),
                tokens::count_completion(
                    &self.request.model,
                    produced.text(),
                    produced.tool_calls(),
                ),
            )
        });
        self.pending.push_back(ChatEvent::Finish(finish));
        self.pending.push_back(ChatEvent::Usage(usage));
    }
}
