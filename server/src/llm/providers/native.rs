//! The transport of the native provider adapters ([`Dialect::Anthropic`] Messages,
//! [`Dialect::Cohere`] v2 chat, [`Dialect::Gemini`] streamGenerateContent): one streamed POST per turn, retried on 429, 5xx,
//! connection errors and timeouts only before any event reached the caller (like the
//! OpenAI-compatible client), then the server-sent events decoded by the dialect's
//! decoder. Dropping the stream closes the connection.

use std::collections::VecDeque;
use std::sync::Arc;

use futures::StreamExt;
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Response, Url};
use serde_json::Value;
use tokio::time::{timeout, Instant};

use super::{anthropic, cohere, gemini};
use crate::llm::config::{AuthHeader, UpstreamConfig};
use crate::llm::sse::SseDecoder;
use crate::llm::upstream::http::{self, endpoint_at, error_chain, seconds, silence_limit};
use crate::llm::{ChatEvent, ChatModel, ChatRequest, ChatStream, LlmError};

/// Longest SSE event accepted while it is being assembled.
const MAX_EVENT_BYTES: usize = 4 * 1024 * 1024;

/// Which provider's wire format a [`NativeModel`] speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Anthropic Messages (`POST {base}/messages`).
    Anthropic,
    /// Cohere v2 chat (`POST {base}/chat`).
    Cohere,
    /// Gemini (`POST {base}/models/{model}:streamGenerateContent?alt=sse`).
    Gemini,
}

impl Dialect {
    /// The path appended to the base URL (Gemini's continues with the model).
    pub fn path(self) -> &'static [&'static str] {
        match self {
            Dialect::Anthropic => &["messages"],
            Dialect::Cohere => &["chat"],
            Dialect::Gemini => &["models"],
        }
    }

    /// The endpoint of a call to `model` on `base`.
    fn url(self, base: &str, model: &str) -> Result<Url, LlmError> {
        if self != Dialect::Gemini {
            return endpoint_at(base, self.path());
        }
        let method = format!("{model}:streamGenerateContent");
        let mut url = endpoint_at(base, &["models", &method])?;
        url.query_pairs_mut().append_pair("alt", "sse");
        Ok(url)
    }

    /// The provider's name in error messages.
    fn name(self) -> &'static str {
        match self {
            Dialect::Anthropic => "Anthropic",
            Dialect::Cohere => "Cohere",
            Dialect::Gemini => "Gemini",
        }
    }

    fn body(self, request: &ChatRequest) -> Value {
        match self {
            Dialect::Anthropic => anthropic::body::request_body(request),
            Dialect::Cohere => cohere::body::request_body(request),
            Dialect::Gemini => gemini::body::request_body(request),
        }
    }

    fn decoder(self) -> Box<dyn StreamDecoder> {
        match self {
            Dialect::Anthropic => Box::<anthropic::events::Decoder>::default(),
            Dialect::Cohere => Box::<cohere::events::Decoder>::default(),
            Dialect::Gemini => Box::<gemini::events::Decoder>::default(),
        }
    }

    /// Version and key headers.
    fn headers(self, key: Option<&String>) -> Result<Vec<(HeaderName, HeaderValue)>, LlmError> {
        let mut headers = Vec::new();
        let auth = match self {
            Dialect::Anthropic => {
                headers.push((
                    HeaderName::from_static("anthropic-version"),
                    HeaderValue::from_static(anthropic::ANTHROPIC_VERSION),
                ));
                AuthHeader::Named("x-api-key".into())
            }
            Dialect::Cohere => AuthHeader::Bearer,
            Dialect::Gemini => AuthHeader::Named("x-goog-api-key".into()),
        };
        if let Some(key) = key {
            headers.push(auth.header_for(key)?);
        }
        Ok(headers)
    }
}

/// What a dialect's event decoder does with each SSE `data` payload.
pub trait StreamDecoder: Send {
    /// The events one payload yields.
    fn take(&mut self, data: &str) -> Result<Vec<ChatEvent>, LlmError>;
    /// The provider said the message is over.
    fn ended(&self) -> bool;
    /// A finish reason arrived (the answer may end without the final event).
    fn has_stop_reason(&self) -> bool;
    /// The closing `Finish` and `Usage` events.
    fn finish(&mut self) -> Vec<ChatEvent>;
}

/// A [`ChatModel`] speaking a provider's native API. Cheap to clone.
#[derive(Debug, Clone)]
pub struct NativeModel {
    /// The wire format.
    dialect: Dialect,
    /// Pooled connections.
    client: reqwest::Client,
    /// Base URL, operator key, timeouts and retries (`auth_header` is not used: each
    /// dialect sends its key its own way).
    config: Arc<UpstreamConfig>,
}

impl NativeModel {
    /// A client for `config`; fails when its base URL is unusable.
    pub fn new(dialect: Dialect, config: UpstreamConfig) -> Result<Self, LlmError> {
        endpoint_at(&config.base_url, dialect.path())?;
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .user_agent(concat!("assistants-server/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| {
                LlmError::server_error(format!("cannot build the HTTP client: {error}"))
            })?;
        Ok(Self {
            dialect,
            client,
            config: Arc::new(config),
        })
    }

    /// The endpoint and headers of one call: the request's `api-key` header, else the
    /// operator's key (a caller's bearer key is never used).
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
        let url = self.dialect.url(base, &request.model)?;
        let key = request
            .credentials
            .api_key
            .as_ref()
            .or(self.config.api_key.as_ref())
            .filter(|key| !key.is_empty());
        Ok((url, self.dialect.headers(key)?))
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
            let out_of_time = Instant::now() + delay >= deadline;
            if !error.retryable || retries >= policy.max_retries || out_of_time {
                return Err(error);
            }
            tracing::warn!(
                code = error.code(),
                status = error.status,
                "{} call failed, retrying: {}",
                self.dialect.name(),
                error.message
            );
            retries += 1;
            tokio::time::sleep(delay).await;
        }
    }
}

#[async_trait::async_trait]
impl ChatModel for NativeModel {
    async fn stream(&self, request: ChatRequest) -> Result<ChatStream, LlmError> {
        let (url, headers) = self.target(&request)?;
        let body = self.dialect.body(&request);
        let deadline = Instant::now() + self.config.overall_timeout;
        let response = self.open(&url, &headers, &body, deadline).await?;
        let turn = Turn {
            name: self.dialect.name(),
            response: Some(response),
            sse: SseDecoder::new(),
            decoder: self.dialect.decoder(),
            pending: VecDeque::new(),
            idle: self.config.idle_timeout,
            deadline,
            done: false,
        };
        Ok(futures::stream::unfold(turn, Turn::next).boxed())
    }
}

/// One streamed answer being read.
struct Turn {
    /// The provider, for error messages.
    name: &'static str,
    /// `None` once the body ended.
    response: Option<Response>,
    /// Splits the body into events.
    sse: SseDecoder,
    /// Turns events into [`ChatEvent`]s.
    decoder: Box<dyn StreamDecoder>,
    /// Decoded events not handed out yet.
    pending: VecDeque<ChatEvent>,
    /// Longest silence between chunks.
    idle: std::time::Duration,
    /// End of the whole call.
    deadline: Instant,
    /// The answer is complete or an error was handed out.
    done: bool,
}

impl Turn {
    async fn next(mut self) -> Option<(Result<ChatEvent, LlmError>, Self)> {
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

    /// Reads one network chunk and decodes the events it completes.
    async fn pull(&mut self) -> Result<(), LlmError> {
        let wait = silence_limit(self.idle, self.deadline)?;
        let Some(response) = self.response.as_mut() else {
            return self.end_of_body();
        };
        match timeout(wait, response.chunk()).await {
            Err(_) => Err(LlmError::server_error(format!(
                "{} sent nothing for {}",
                self.name,
                seconds(wait)
            ))),
            Ok(Err(error)) => Err(LlmError::server_error(format!(
                "the {} connection broke mid-answer: {}",
                self.name,
                error_chain(&error)
            ))),
            Ok(Ok(Some(bytes))) => {
                for message in self.sse.push(&bytes) {
                    self.take(&message.data)?;
                }
                if self.sse.buffered_len() > MAX_EVENT_BYTES {
                    return Err(LlmError::server_error(format!(
                        "{} sent an event longer than {MAX_EVENT_BYTES} bytes",
                        self.name
                    )));
                }
                Ok(())
            }
            Ok(Ok(None)) => {
                if let Some(message) = self.sse.finish() {
                    self.take(&message.data)?;
                }
                self.response = None;
                self.end_of_body()
            }
        }
    }

    fn take(&mut self, data: &str) -> Result<(), LlmError> {
        if self.done || data.trim().is_empty() {
            return Ok(());
        }
        self.pending.extend(self.decoder.take(data)?);
        if self.decoder.ended() {
            // Whatever follows the final event is ignored; the connection closes.
            self.done = true;
            self.response = None;
        }
        Ok(())
    }

    /// The body ended: complete when the finish reason came, else a failure.
    fn end_of_body(&mut self) -> Result<(), LlmError> {
        if self.done {
            return Ok(());
        }
        if self.decoder.has_stop_reason() {
            let closing = self.decoder.finish();
            self.pending.extend(closing);
            self.done = true;
            return Ok(());
        }
        Err(LlmError::server_error(format!(
            "{} closed the stream before the answer finished",
            self.name
        )))
    }
}
