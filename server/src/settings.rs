//! Runtime configuration of the server, independent of how it was parsed.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use crate::llm::config::DEFAULT_BASE_URL;
use crate::llm::{LlmArgs, LlmMode};
use crate::runs::{DEFAULT_MAX_CONCURRENT_RUNS, DEFAULT_RUN_EXPIRY};

/// Default largest accepted request body: room for a thread with 32 long messages.
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// What the server needs to start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `sqlite://PATH` (created if missing) or `sqlite::memory:`; the scheme picks the backend.
    pub database_url: String,
    /// When set, only these API keys are accepted (401 `invalid_api_key` otherwise);
    /// when `None`, any Bearer key is accepted and becomes its own tenant.
    pub api_keys: Option<HashSet<String>>,
    /// Largest request body accepted before answering 413.
    pub max_body_bytes: usize,
    /// Which model answers runs and how to reach it.
    pub llm: LlmArgs,
    /// How long a run may stay active (`expires_at - created_at`); OpenAI's 10 minutes
    /// by default, shorter in tests of `requires_action` expiry.
    pub run_expiry: Duration,
    /// Runs worked on at once; more wait in `queued`.
    pub max_concurrent_runs: usize,
}

impl Settings {
    /// Settings with defaults for everything but the database.
    pub fn new(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            api_keys: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            llm: offline_llm(),
            run_expiry: DEFAULT_RUN_EXPIRY,
            max_concurrent_runs: DEFAULT_MAX_CONCURRENT_RUNS,
        }
    }
}

/// The built-in offline model with no delay: the library default, so tests and
/// embedders never reach the network unless they ask to.
pub fn offline_llm() -> LlmArgs {
    LlmArgs {
        mode: LlmMode::Offline,
        llm_base_url: DEFAULT_BASE_URL.to_owned(),
        llm_api_key: None,
        llm_auth_header: "authorization".to_owned(),
        llm_max_retries: 3,
        llm_timeout_secs: 600,
        llm_idle_timeout_secs: 120,
        offline_delay_ms: 0,
        allow_caller_upstream_urls: false,
    }
}

/// Reads an API-key file: one key per line; blank lines and `#` comments are ignored.
pub fn read_api_keys(path: &Path) -> std::io::Result<HashSet<String>> {
    let text = std::fs::read_to_string(path)?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect())
}
