//! HTTP details of the upstream client: the endpoint URL, how long to wait, how
//! non-2xx statuses map to run error codes, and readable error texts.

use std::time::Duration;

use reqwest::{RequestBuilder, Response, StatusCode, Url};
use tokio::time::{timeout, Instant};

use crate::llm::wire;
use crate::llm::LlmError;

/// `base` with `/chat/completions` appended to its path (query kept), unless it
/// already names that endpoint.
pub(super) fn endpoint(base: &str) -> Result<Url, LlmError> {
    endpoint_at(base, &["chat", "completions"])
}

/// `base` with the path `segments` appended (query kept), unless its path already
/// ends with them; only http and https. The embeddings client uses it too.
pub(crate) fn endpoint_at(base: &str, segments: &[&str]) -> Result<Url, LlmError> {
    let invalid =
        |why: &str| LlmError::server_error(format!("invalid upstream base URL {base:?}: {why}"));
    let mut url = Url::parse(base.trim()).map_err(|error| invalid(&error.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("only http and https are supported"));
    }
    let suffix = format!("/{}", segments.join("/"));
    if url.path().trim_end_matches('/').ends_with(&suffix) {
        return Ok(url);
    }
    url.path_segments_mut()
        .map_err(|_| invalid("it cannot have a path"))?
        .pop_if_empty()
        .extend(segments);
    Ok(url)
}

/// Largest error body read from an upstream (its message only goes into `last_error`).
const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// Sends `request` to `url` and waits for the answer's headers at most `idle` (never past
/// `deadline`). Timeouts and connection failures are retryable `server_error`s; a non-2xx
/// answer becomes the error its status implies. The chat and the embeddings clients share it.
pub(crate) async fn send(
    request: RequestBuilder,
    url: &Url,
    idle: Duration,
    deadline: Instant,
) -> Result<Response, LlmError> {
    let wait = silence_limit(idle, deadline)?;
    let response = match timeout(wait, request.send()).await {
        Err(_) => {
            return Err(LlmError::server_error(format!(
                "the upstream did not answer within {}",
                seconds(wait)
            ))
            .retryable())
        }
        Ok(Err(error)) => {
            return Err(LlmError::server_error(format!(
                "cannot reach the upstream at {url}: {}",
                error_chain(&error)
            ))
            .retryable())
        }
        Ok(Ok(response)) => response,
    };
    let status = response.status();
    if !status.is_success() {
        let retry_after = crate::llm::retry::parse_retry_after(response.headers());
        let text = read_capped(response, MAX_ERROR_BODY_BYTES, idle, deadline)
            .await
            .unwrap_or_default();
        let retry_after = retry_after.or_else(|| retry_delay_in_body(&text));
        return Err(status_error(status, &text, retry_after));
    }
    Ok(response)
}

/// The wait a Google API error body asks for: `error.details[]` holding a
/// `google.rpc.RetryInfo` with `retryDelay` such as `"36s"` (Gemini's 429s carry it
/// instead of a `Retry-After` header).
fn retry_delay_in_body(body: &str) -> Option<Duration> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    let details = value.pointer("/error/details")?.as_array()?;
    let delay = details
        .iter()
        .find_map(|detail| detail["retryDelay"].as_str())?;
    let seconds: f64 = delay.trim().strip_suffix('s')?.parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
}

/// How long to wait for the next sign of life: the idle limit, or what is left of the
/// overall limit; an error once the overall limit has passed.
pub(crate) fn silence_limit(idle: Duration, deadline: Instant) -> Result<Duration, LlmError> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(LlmError::server_error(
            "the model call took longer than the configured overall time limit",
        ));
    }
    Ok(idle.min(left))
}

/// Reads a whole body of at most `cap` bytes, with the idle and overall limits.
pub(crate) async fn read_capped(
    mut response: Response,
    cap: usize,
    idle: Duration,
    deadline: Instant,
) -> Result<String, LlmError> {
    let mut bytes = Vec::new();
    loop {
        let wait = silence_limit(idle, deadline)?;
        match timeout(wait, response.chunk()).await {
            Err(_) => {
                return Err(LlmError::server_error(format!(
                    "the upstream's answer did not arrive within {}",
                    seconds(wait)
                ))
                .retryable())
            }
            Ok(Err(error)) => {
                return Err(LlmError::server_error(format!(
                    "the upstream connection failed while sending its answer: {}",
                    error_chain(&error)
                ))
                .retryable())
            }
            Ok(Ok(None)) => return Ok(String::from_utf8_lossy(&bytes).into_owned()),
            Ok(Ok(Some(chunk))) => {
                if bytes.len() + chunk.len() > cap {
                    return Err(LlmError::server_error(format!(
                        "the upstream's answer is larger than {cap} bytes"
                    )));
                }
                bytes.extend_from_slice(&chunk);
            }
        }
    }
}

/// The error for a non-2xx answer.
pub(crate) fn status_error(
    status: StatusCode,
    body: &str,
    retry_after: Option<Duration>,
) -> LlmError {
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
pub(crate) fn error_chain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

pub(crate) fn seconds(duration: Duration) -> String {
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
