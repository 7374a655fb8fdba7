//! The client for OpenAI-compatible `/chat/completions` endpoints (OpenAI, Azure OpenAI,
//! Ollama, vLLM, llama.cpp server, LiteLLM, OpenRouter, Groq, ...).
//!
//! Every call is streamed (`stream: true`, `stream_options.include_usage`). A call is
//! retried with backoff on 429, 5xx, connection errors and timeouts, but only until the
//! first event has been handed to the caller: after that a retry would duplicate output,
//! so the failure is reported instead. Upstreams that answer with a whole JSON
//! completion or omit usage are tolerated (usage is then counted locally), and a server
//! that refuses `stream_options` or `max_completion_tokens` with a 400 is asked again
//! without them. Dropping the returned stream drops the HTTP response, which closes the
//! upstream connection.

pub(crate) mod http;
mod turn;

use std::sync::Arc;

use futures::StreamExt;
use reqwest::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use reqwest::{Response, Url};
use serde_json::Value;
use tokio::time::Instant;

use self::http::{endpoint, read_capped};
use self::turn::Turn;
use super::config::UpstreamConfig;
use super::request::{ChatRequest, UpstreamCredentials};
use super::wire;
use super::{ChatModel, ChatStream, LlmError};

/// Largest whole (non-streamed) completion accepted.
const MAX_WHOLE_BODY_BYTES: usize = 16 * 1024 * 1024;

/// A [`ChatModel`] backed by an OpenAI-compatible HTTP endpoint. Cheap to clone.
#[derive(Debug, Clone)]
pub struct UpstreamModel {
    /// Shared by clones and by the streams they return.
    inner: Arc<Inner>,
}

/// What every call of one client shares.
#[derive(Debug)]
struct Inner {
    /// Pooled HTTP connections.
    client: reqwest::Client,
    /// The operator's settings.
    config: UpstreamConfig,
}

/// Where one call goes and how it authenticates.
#[derive(Debug, Clone)]
struct Target {
    /// The full `/chat/completions` URL.
    url: Url,
    /// The key header, if any key applies.
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
        let auth = key
            .map(|key| config.auth_header.header_for(key))
            .transpose()?;
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
        let response = http::send(builder, &target.url, config.idle_timeout, deadline).await?;
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        if content_type.starts_with("text/html") {
            return Err(LlmError::server_error(format!(
                "the upstream at {} answered with an HTML page, not an event stream \
                 (is the base URL right? it must end where /chat/completions is appended)",
                target.url
            )));
        }
        if !content_type.contains("application/json") {
            return Ok(Opened::Stream(response));
        }
        let text = read_capped(
            response,
            MAX_WHOLE_BODY_BYTES,
            config.idle_timeout,
            deadline,
        )
        .await?;
        Ok(Opened::Whole(text))
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
        let mut body = wire::request_body(&request, &self.inner.config);
        let deadline = Instant::now() + self.inner.config.overall_timeout;
        let mut retries_used = 0;
        let opened = loop {
            match self.open(&target, &body, deadline, &mut retries_used).await {
                Ok(opened) => break opened,
                // Each fallback removes a parameter, so this ends after at most two.
                Err(error) => match wire::without_unsupported_param(&body, &error) {
                    Some(simpler) => {
                        tracing::info!(
                            "upstream refused a parameter, retrying without it: {}",
                            error.message
                        );
                        body = simpler;
                    }
                    None => return Err(error),
                },
            }
        };
        let turn = Turn::new(
            self.clone(),
            target,
            body,
            request,
            deadline,
            retries_used,
            opened,
        )?;
        Ok(futures::stream::unfold(turn, Turn::next).boxed())
    }

    fn provider_name(&self, _model: &str) -> Option<String> {
        Some(crate::llm::providers::table::DEFAULT_PROVIDER.to_owned())
    }
}
