//! Runtime configuration of the server, independent of how it was parsed.

use std::collections::HashSet;
use std::path::Path;

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
}

impl Settings {
    /// Settings with defaults for everything but the database.
    pub fn new(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            api_keys: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
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
