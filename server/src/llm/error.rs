//! Why a model call failed, classified the way a run reports it in `last_error.code`.

use std::time::Duration;

/// The run's `last_error.code` a failure maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LlmErrorKind {
    /// The upstream failed, timed out, answered garbage or could not be reached.
    ServerError,
    /// The upstream rate-limited the call (HTTP 429) and retries did not help.
    RateLimitExceeded,
    /// The upstream rejected the prompt itself (HTTP 400), e.g. a bad schema or too long a context.
    InvalidPrompt,
}

impl LlmErrorKind {
    /// The `last_error.code` value.
    pub fn code(self) -> &'static str {
        match self {
            LlmErrorKind::ServerError => "server_error",
            LlmErrorKind::RateLimitExceeded => "rate_limit_exceeded",
            LlmErrorKind::InvalidPrompt => "invalid_prompt",
        }
    }
}

/// A failed model call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", kind.code())]
pub struct LlmError {
    /// What the run's `last_error.code` becomes.
    pub kind: LlmErrorKind,
    /// A human-readable cause (the upstream's own message where there is one).
    pub message: String,
    /// Whether trying again might succeed (429, 5xx, connection errors, timeouts).
    pub retryable: bool,
    /// The upstream's HTTP status, when it answered with one.
    pub status: Option<u16>,
    /// How long the upstream asked us to wait (`Retry-After`).
    pub retry_after: Option<Duration>,
}

impl LlmError {
    fn new(kind: LlmErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            retryable: false,
            status: None,
            retry_after: None,
        }
    }

    /// A `server_error` that retrying will not fix.
    pub fn server_error(message: impl Into<String>) -> Self {
        Self::new(LlmErrorKind::ServerError, message)
    }

    /// A `rate_limit_exceeded` error.
    pub fn rate_limited(message: impl Into<String>) -> Self {
        Self::new(LlmErrorKind::RateLimitExceeded, message)
    }

    /// An `invalid_prompt` error.
    pub fn invalid_prompt(message: impl Into<String>) -> Self {
        Self::new(LlmErrorKind::InvalidPrompt, message)
    }

    /// Marks the error as worth retrying.
    pub fn retryable(mut self) -> Self {
        self.retryable = true;
        self
    }

    /// Records the upstream's HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// Records the upstream's requested wait.
    pub fn with_retry_after(mut self, retry_after: Option<Duration>) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// The run's `last_error.code`.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
}
