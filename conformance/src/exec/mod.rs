//! Executing scenarios: the context every step shares, building requests, plain, polling and
//! streaming exchanges, and running a scenario's steps. Sits above the checks (`check`), the
//! transport (`client`) and the fixtures; only the runner and reports sit above it.

pub mod poll;
pub mod request;
pub mod scenario;
pub mod step;
pub mod stream;

use std::time::Duration;

use tokio::time::Instant;

use crate::catalog::Catalog;
use crate::fixture::{Step, DEFAULT_TIMEOUT_S};

/// What every step of a run shares.
pub struct StepContext<'a> {
    /// The HTTP client.
    pub client: &'a reqwest::Client,
    /// Operations and schema validation.
    pub catalog: &'a dyn Catalog,
    /// The implementation's base URL, e.g. `http://127.0.0.1:8080/v1`.
    pub base_url: &'a str,
    /// Authorization and `--header` headers, before step overrides.
    pub base_headers: &'a [(String, String)],
    /// The value of `${model}`.
    pub model: &'a str,
    /// `--poll-timeout`: caps every polling and streaming step's `timeout_s`.
    pub poll_timeout: Option<Duration>,
    /// `--strict`: deviations FAIL instead of being NON-STRICT.
    pub strict: bool,
    /// `--second-api-key`: the value of `${second_api_key}`.
    pub second_api_key: Option<&'a str>,
}

impl StepContext<'_> {
    /// When a polling or streaming step gives up: its `timeout_s` (default 60 s), capped by
    /// `--poll-timeout`.
    pub fn deadline(&self, step: &Step) -> Instant {
        let wanted = Duration::from_secs_f64(step.timeout_s.unwrap_or(DEFAULT_TIMEOUT_S));
        let allowed = self.poll_timeout.map_or(wanted, |cap| wanted.min(cap));
        Instant::now() + allowed
    }
}
