//! The client for OpenAI-compatible `/chat/completions` endpoints (OpenAI, Azure OpenAI,
//! Ollama, vLLM, llama.cpp server, LiteLLM, OpenRouter, Groq, ...).
//!
//! Every call is streamed (`stream: true`, `stream_options.include_usage`). A call is
//! retried with backoff on 429, 5xx, connection errors and timeouts, but only until the
//! first event has been handed to the caller: after that a retry would duplicate output,
//! so the failure is reported instead. Upstreams that answer with a whole JSON
//! completion or omit usage are tolerated (usage is then counted locally). Dropping the
//! returned stream drops the HTTP response, which closes the upstream connection.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Response, StatusCode, Url};
use serde_json::Value;
use tokio::time::{timeout, Instant};

use super::config::{AuthHeader, UpstreamConfig};
use super::event::{ChatEvent, CompletionAccumulator, FinishReason, Usage};
use super::request::{ChatRequest, UpstreamCredentials};
use super::retry::parse_retry_after;
use super::sse::{SseDecoder, SseMessage};
use super::wire::{self, ChunkContent};
use super::{tokens, ChatModel, ChatStream, LlmError};

/// A [`ChatModel`] backed by an OpenAI-compatible HTTP endpoint. Cheap to clone.
#[derive(Debug, Clone)]
pub struct UpstreamModel {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    client: reqwest::Client,
    config: UpstreamConfig,
}

/// Where one call goes and how it authenticates.
#[derive(Debug, Clone)]
struct Target {
    url: Url,
    auth: Option<(HeaderName, HeaderValue)>,
}

/// A successful (2xx) answer, before any of it was read.
enum Opened {
    /// An event stream to read chunk by chunk.
    Stream(Response),
    /// A whole `chat.completion` body (the upstream ignored `stream: true`).
    Whole(String),
}

impl UpstreamModel {
    /// A client for `config`; fails when the configured base URL is unusable.
    pub fn new(config: UpstreamConfig) -> Result<Self, LlmError> {
        endpoint(&config.base_url)?;
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .user_agent(concat!("assistants-server/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| {
                LlmError::server_error(format!("cannot build the HTTP client: {error}"))
            })?;
        Ok(Self {
            inner: Arc::new(Inner { client, config }),
        })
    }

    /// The settings this client runs with.
    pub fn config(&self) -> &UpstreamConfig {
        &self.inner.config
    }

    /// Checks a request's credentials without calling anything, so an API route can
    /// refuse a caller-chosen upstream URL before creating the run.
    pub fn check_credentials(&self, credentials: &UpstreamCredentials) -> Result<(), LlmError> {
        self.target(credentials).map(|_| ())
    }

    fn target(&self, credentials: &UpstreamCredentials) -> Result<Target, LlmError> {
        let config = &self.inner.config;
        let base = match &credentials.base_url {
            Some(base) if config.allow_caller_base_urls => base.as_str(),
            Some(_) => {
                return Err(LlmError::server_error(
                    "this server does not let requests choose their upstream URL \
                     (the operator can allow it with --allow-caller-upstream-urls)",
                ))
            }
            None => config.base_url.as_str(),
        };
        let url = endpoint(base)?;
        let key = credentials
            .api_key
            .as_ref()
            .or(config.api_key.as_ref())
            .or(credentials.caller_bearer.as_ref())
            .filter(|key| !key.is_empty());
        let auth = match key {
            None => None,
            Some(key) => {
                let (name, value) = match &config.auth_header {
                    AuthHeader::Bearer => (AUTHORIZATION, format!("Bearer {key}")),
                    AuthHeader::Named(name) => (
                        HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                            LlmError::server_error(format!("invalid upstream auth header {name:?}"))
                        })?,
                        key.clone(),
                    ),
                };
                let mut value = HeaderValue::from_str(&value).map_err(|_| {
                    LlmError::server_error(
                        "the upstream API key contains characters a header cannot carry",
                    )
                })?;
                value.set_sensitive(true);
                Some((name, value))
            }
        };
        Ok(Target { url, auth })
    }

    /// One HTTP attempt, up to the response headers (or the whole body for JSON answers).
    async fn attempt(
        &self,
        target: &Target,
        body: &Value,
        deadline: Instant,
    ) -> Result<Opened, LlmError> {
        let config = &self.inner.config;
        let mut builder = self.inner.client.post(target.url.clone()).json(body);
        if let Some((name, value)) = &target.auth {
            builder = builder.header(name.clone(), value.clone());
        }
        let wait = silence_limit(config.idle_timeout, deadline)?;
        let response = match timeout(wait, builder.send()).await {
            Err(_) => {
                return Err(LlmError::server_error(format!(
                    "the upstream did not answer within {}",
                    seconds(wait)
                ))
                .retryable())
            }
            Ok(Err(error)) => {
                return Err(LlmError::server_error(format!(
                    "cannot reach the upstream at {}: {}",
                    target.url,
                    error_chain(&error)
                ))
                .retryable())
            }
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        if !status.is_success() {
            let retry_after = parse_retry_after(response.headers());
            let wait = silence_limit(config.idle_timeout, deadline).unwrap_or_default();
            let text = match timeout(wait, response.text()).await {
                Ok(Ok(text)) => text,
                _ => String::new(),
            };
            return Err(status_error(status, &text, retry_after));
        }
        let is_json = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.to_ascii_lowercase().contains("application/json"));
        if !is_json {
            return Ok(Opened::Stream(response));
        }
        let wait = silence_limit(config.idle_timeout, deadline)?;
        match timeout(wait, response.text()).await {
            Ok(Ok(text)) => Ok(Opened::Whole(text)),
            Ok(Err(error)) => Err(LlmError::server_error(format!(
                "the upstream connection failed while sending its answer: {}",
                error_chain(&error)
            ))
            .retryable()),
            Err(_) => Err(LlmError::server_error(format!(
                "the upstream's answer did not arrive within {}",
                seconds(wait)
            ))
            .retryable()),
        }
    }

    /// Attempts until one succeeds, a failure is final, or retries run out.
    async fn open(
        &self,
        target: &Target,
        body: &Value,
        deadline: Instant,
        retries_used: &mut u32,
    ) -> Result<Opened, LlmError> {
        loop {
            match self.attempt(target, body, deadline).await {
                Ok(opened) => return Ok(opened),
                Err(error) => self.back_off(error, retries_used, deadline).await?,
            }
        }
    }

    /// Waits before the next attempt, or returns the error when it is final.
    async fn back_off(
        &self,
        error: LlmError,
        retries_used: &mut u32,
        deadline: Instant,
    ) -> Result<(), LlmError> {
        let policy = &self.inner.config.retry;
        let give_up = |mut error: LlmError, retries: u32| {
            if retries > 0 {
                error.message =
                    format!("{} (gave up after {} attempts)", error.message, retries + 1);
            }
            error
        };
        if !error.retryable || *retries_used >= policy.max_retries {
            return Err(give_up(error, *retries_used));
        }
        let delay = policy.delay(*retries_used, error.retry_after);
        if Instant::now() + delay >= deadline {
            return Err(give_up(error, *retries_used));
        }
        tracing::warn!(
            code = error.code(),
            status = error.status,
            delay_ms = delay.as_millis() as u64,
            "upstream call failed, retrying: {}",
            error.message
        );
        *retries_used += 1;
        tokio::time::sleep(delay).await;
        Ok(())
    }
}

#[async_trait::async_trait]
impl ChatModel for UpstreamModel {
    async fn stream(&self, request: ChatRequest) -> Result<ChatStream, LlmError> {
        let target = self.target(&request.credentials)?;
        let body = wire::request_body(&request, &self.inner.config);
        let deadline = Instant::now() + self.inner.config.overall_timeout;
        let mut retries_used = 0;
        let opened = self
            .open(&target, &body, deadline, &mut retries_used)
            .await?;
        let mut turn = Turn {
            model: self.clone(),
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
        Ok(futures::stream::unfold(turn, Turn::next).boxed())
    }
}

/// The state of one streamed call, owned by the returned stream.
struct Turn {
    model: UpstreamModel,
    target: Target,
    body: Value,
    /// Kept to count prompt tokens locally when the upstream reports no usage.
    request: ChatRequest,
    deadline: Instant,
    retries_used: u32,
    /// The open response; `None` once the answer is complete.
    response: Option<Response>,
    decoder: SseDecoder,
    /// Events decoded but not yet handed out.
    pending: VecDeque<ChatEvent>,
    /// A failure found after events that must still be handed out first.
    deferred_error: Option<LlmError>,
    /// Whether any event reached the caller: from then on there are no retries.
    forwarded: bool,
    finish: Option<FinishReason>,
    usage: Option<Usage>,
    /// What the upstream produced, to count completion tokens locally if needed.
    produced: CompletionAccumulator,
    ended: bool,
}

impl Turn {
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

    async fn next(mut self) -> Option<(Result<ChatEvent, LlmError>, Self)> {
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
        match timeout(wait, response.chunk()).await {
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
                for message in self.decoder.push(&bytes) {
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

/// `base` with `/chat/completions` appended to its path (query kept), unless it
/// already names that endpoint.
fn endpoint(base: &str) -> Result<Url, LlmError> {
    let invalid =
        |why: &str| LlmError::server_error(format!("invalid upstream base URL {base:?}: {why}"));
    let mut url = Url::parse(base.trim()).map_err(|error| invalid(&error.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("only http and https are supported"));
    }
    if url
        .path()
        .trim_end_matches('/')
        .ends_with("/chat/completions")
    {
        return Ok(url);
    }
    url.path_segments_mut()
        .map_err(|_| invalid("it cannot have a path"))?
        .pop_if_empty()
        .extend(["chat", "completions"]);
    Ok(url)
}

/// How long to wait for the next sign of life: the idle limit, or what is left of the
/// overall limit; an error once the overall limit has passed.
fn silence_limit(idle: Duration, deadline: Instant) -> Result<Duration, LlmError> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(LlmError::server_error(
            "the model call took longer than the configured overall time limit",
        ));
    }
    Ok(idle.min(left))
}

/// The error for a non-2xx answer.
fn status_error(status: StatusCode, body: &str, retry_after: Option<Duration>) -> LlmError {
    let message = wire::error_message(body);
    let code = status.as_u16();
    let error = match code {
        429 if body.contains("insufficient_quota") => LlmError::rate_limited(message),
        429 => LlmError::rate_limited(message).retryable(),
        400 | 413 | 422 => LlmError::invalid_prompt(message),
        401 | 403 => LlmError::server_error(format!(
            "the upstream refused the API key (HTTP {code}): {message}"
        )),
        404 => LlmError::server_error(format!(
            "the upstream has no such model or endpoint (HTTP 404): {message}"
        )),
        408 | 409 | 500..=599 => {
            LlmError::server_error(format!("the upstream failed (HTTP {code}): {message}"))
                .retryable()
        }
        _ => LlmError::server_error(format!("the upstream answered HTTP {code}: {message}")),
    };
    error.with_status(code).with_retry_after(retry_after)
}

/// A reqwest error with its causes, which hold the useful part ("connection refused").
fn error_chain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn seconds(duration: Duration) -> String {
    format!("{:.1}s", duration.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_append_chat_completions_and_keep_queries() {
        let cases = [
            ("https://api.openai.com/v1", "https://api.openai.com/v1/chat/completions"),
            ("http://localhost:11434/v1/", "http://localhost:11434/v1/chat/completions"),
            (
                "https://x.openai.azure.com/openai/deployments/gpt?api-version=2024-10-21",
                "https://x.openai.azure.com/openai/deployments/gpt/chat/completions?api-version=2024-10-21",
            ),
            ("http://h/v1/chat/completions", "http://h/v1/chat/completions"),
        ];
        for (base, expected) in cases {
            assert_eq!(endpoint(base).unwrap().as_str(), expected);
        }
        assert!(endpoint("ftp://h/").is_err());
        assert!(endpoint("not a url").is_err());
    }

    #[test]
    fn statuses_map_to_run_error_codes() {
        let none = None;
        let error = status_error(
            StatusCode::BAD_REQUEST,
            r#"{"error":{"message":"bad schema"}}"#,
            none,
        );
        assert_eq!(
            (error.code(), error.message.as_str(), error.retryable),
            ("invalid_prompt", "bad schema", false)
        );
        let error = status_error(
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            Some(Duration::from_secs(1)),
        );
        assert_eq!(
            (error.code(), error.retryable),
            ("rate_limit_exceeded", true)
        );
        assert_eq!(error.retry_after, Some(Duration::from_secs(1)));
        let quota = r#"{"error":{"message":"quota","code":"insufficient_quota"}}"#;
        assert!(!status_error(StatusCode::TOO_MANY_REQUESTS, quota, none).retryable);
        let error = status_error(StatusCode::BAD_GATEWAY, "<html>", none);
        assert_eq!((error.code(), error.retryable), ("server_error", true));
        let error = status_error(StatusCode::UNAUTHORIZED, "{}", none);
        assert_eq!((error.code(), error.retryable), ("server_error", false));
    }
}
