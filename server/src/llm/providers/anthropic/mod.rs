//! The native Anthropic Messages adapter (`POST {base}/messages`, streamed): the
//! request is rendered by [`body`], the event stream decoded by [`events`]. Keys go in
//! `x-api-key` with `anthropic-version: 2023-06-01`. Like the OpenAI-compatible client,
//! a call is retried on 429, 5xx (529 `overloaded_error` included), connection errors
//! and timeouts only before any event reached the caller, and dropping the stream
//! closes the connection.

pub mod body;
pub mod events;

use std::collections::VecDeque;

use futures::StreamExt;
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Response, Url};
use serde_json::Value;
use tokio::time::{timeout, Instant};

use crate::llm::config::UpstreamConfig;
use crate::llm::sse::SseDecoder;
use crate::llm::upstream::http::{self, endpoint_at, error_chain, seconds, silence_limit};
use crate::llm::{ChatEvent, ChatModel, ChatRequest, ChatStream, LlmError};

/// The API version every request names (the Messages API's current one).
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// Longest SSE event accepted while it is being assembled.
const MAX_EVENT_BYTES: usize = 4 * 1024 * 1024;

/// A [`ChatModel`] speaking Anthropic's Messages API. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AnthropicModel {
    /// Pooled connections.
    client: reqwest::Client,
    /// Base URL, operator key, timeouts and retries (`auth_header` is not used: the key
    /// always travels in `x-api-key`).
    config: std::sync::Arc<UpstreamConfig>,
}

impl AnthropicModel {
    /// A client for `config`; fails when its base URL is unusable.
    pub fn new(config: UpstreamConfig) -> Result<Self, LlmError> {
        endpoint_at(&config.base_url, &["messages"])?;
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .user_agent(concat!("assistants-server/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| {
                LlmError::server_error(format!("cannot build the HTTP client: {error}"))
            })?;
        Ok(Self {
            client,
            config: std::sync::Arc::new(config),
        })
    }

    /// The endpoint and key headers of one call.
    fn target(
        &self,
        request: &ChatRequest,
    ) -> Result<(Url, Vec<(HeaderName, HeaderValue)>), LlmError> {
        let base = match &request.credentials.base_url {
            Some(base) if self.config.allow_caller_base_urls => base.as_str(),
            Some(_) => {
                return Err(LlmError::server_error(
                    "this server does not let requests choose their upstream URL \
                     (the operator can allow it with --allow-caller-upstream-urls)",
                ))
            }
            None => self.config.base_url.as_str(),
        };
        let url = endpoint_at(base, &["messages"])?;
        let mut headers = vec![(
            HeaderName::from_static("anthropic-version"),
            HeaderValue::from_static(ANTHROPIC_VERSION),
        )];
        let key = request
            .credentials
            .api_key
            .as_ref()
            .or(self.config.api_key.as_ref())
            .filter(|key| !key.is_empty());
        if let Some(key) = key {
            let auth = crate::llm::config::AuthHeader::Named("x-api-key".into());
            headers.push(auth.header_for(key)?);
        }
        Ok((url, headers))
    }

    /// Sends the request until it is answered with a 2xx, or the failure is final.
    async fn open(
        &self,
        url: &Url,
        headers: &[(HeaderName, HeaderValue)],
        body: &Value,
        deadline: Instant,
    ) -> Result<Response, LlmError> {
        let policy = &self.config.retry;
        let mut retries = 0;
        loop {
            let mut builder = self.client.post(url.clone()).json(body);
            for (name, value) in headers {
                builder = builder.header(name.clone(), value.clone());
            }
            let error = match http::send(builder, url, self.config.idle_timeout, deadline).await {
                Ok(response) => return Ok(response),
                Err(error) => error,
            };
            let delay = policy.delay(retries, error.retry_after);
            if !error.retryable
                || retries >= policy.max_retries
                || Instant::now() + delay >= deadline
            {
                return Err(error);
            }
            tracing::warn!(
                code = error.code(),
                status = error.status,
                "Anthropic call failed, retrying: {}",
                error.message
            );
            retries += 1;
            tokio::time::sleep(delay).await;
        }
    }
}

#[async_trait::async_trait]
impl ChatModel for AnthropicModel {
    async fn stream(&self, request: ChatRequest) -> Result<ChatStream, LlmError> {
        let (url, headers) = self.target(&request)?;
        let body = body::request_body(&request);
        let deadline = Instant::now() + self.config.overall_timeout;
        let response = self.open(&url, &headers, &body, deadline).await?;
        let turn = Turn {
            response: Some(response),
            sse: SseDecoder::new(),
            decoder: events::Decoder::default(),
            pending: VecDeque::new(),
            idle: self.config.idle_timeout,
            deadline,
            failed: false,
        };
        Ok(futures::stream::unfold(turn, Turn::next).boxed())
    }
}

/// One streamed answer being read.
struct Turn {
    /// `None` once the body ended.
    response: Option<Response>,
    /// Splits the body into events.
    sse: SseDecoder,
    /// Turns events into [`ChatEvent`]s.
    decoder: events::Decoder,
    /// Decoded events not handed out yet.
    pending: VecDeque<ChatEvent>,
    /// Longest silence between chunks.
    idle: std::time::Duration,
    /// End of the whole call.
    deadline: Instant,
    /// An error was handed out: the stream is over.
    failed: bool,
}

impl Turn {
    async fn next(mut self) -> Option<(Result<ChatEvent, LlmError>, Self)> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some((Ok(event), self));
            }
            if self.failed || (self.decoder.ended && self.pending.is_empty()) {
                return None;
            }
            if let Err(error) = self.pull().await {
                self.failed = true;
                self.response = None;
                return Some((Err(error), self));
            }
        }
    }

    /// Reads one network chunk and decodes the events it completes.
    async fn pull(&mut self) -> Result<(), LlmError> {
        let wait = silence_limit(self.idle, self.deadline)?;
        let Some(response) = self.response.as_mut() else {
            return self.end_without_stop();
        };
        match timeout(wait, response.chunk()).await {
            Err(_) => Err(LlmError::server_error(format!(
                "Anthropic sent nothing for {}",
                seconds(wait)
            ))),
            Ok(Err(error)) => Err(LlmError::server_error(format!(
                "the Anthropic connection broke mid-answer: {}",
                error_chain(&error)
            ))),
            Ok(Ok(Some(bytes))) => {
                for message in self.sse.push(&bytes) {
                    self.take(&message.data)?;
                }
                if self.sse.buffered_len() > MAX_EVENT_BYTES {
                    return Err(LlmError::server_error(format!(
                        "Anthropic sent an event longer than {MAX_EVENT_BYTES} bytes"
                    )));
                }
                Ok(())
            }
            Ok(Ok(None)) => {
                if let Some(message) = self.sse.finish() {
                    self.take(&message.data)?;
                }
                self.response = None;
                if self.decoder.ended {
                    Ok(())
                } else {
                    self.end_without_stop()
                }
            }
        }
    }

    fn take(&mut self, data: &str) -> Result<(), LlmError> {
        if self.decoder.ended || data.trim().is_empty() {
            return Ok(());
        }
        self.pending.extend(self.decoder.take(data)?);
        Ok(())
    }

    /// The body ended without `message_stop`: complete when the stop reason came.
    fn end_without_stop(&mut self) -> Result<(), LlmError> {
        if self.decoder.has_stop_reason() {
            let closing = self.decoder.finish();
            self.pending.extend(closing);
            return Ok(());
        }
        Err(LlmError::server_error(
            "Anthropic closed the stream before the answer finished",
        ))
    }
}
