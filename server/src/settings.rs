//! Runtime configuration of the server, independent of how it was parsed.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::embeddings::EmbeddingsConfig;
use crate::files::BlobStore;
use crate::llm::config::DEFAULT_BASE_URL;
use crate::llm::{LlmArgs, LlmMode};
use crate::ops::MetricsToken;
use crate::runs::{DEFAULT_MAX_CONCURRENT_RUNS, DEFAULT_RUN_EXPIRY};
use crate::serve::ConnectionLimits;

/// Default largest accepted request body: room for a thread with 32 long messages.
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// OpenAI's largest file accepted by `POST /v1/files`: 512 MB.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;
/// Vector store files ingested at once by default (the machine has few cores).
pub const DEFAULT_INGEST_WORKERS: usize = 2;

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
    /// Folder holding uploaded file bytes (`files/`, `uploads/`, `tmp/` below it),
    /// unless `blob_store` names object storage.
    pub data_dir: PathBuf,
    /// Object storage holding file bytes instead of `data_dir` (`--blob-store
    /// s3://...`), so that several instances share them; `None` (the default): the
    /// data directory.
    pub blob_store: Option<Arc<dyn BlobStore>>,
    /// Largest file `POST /v1/files` accepts; a setting so tests can lower it.
    pub max_file_bytes: u64,
    /// Vector store files ingested at once; 0 pauses ingestion (files wait
    /// `in_progress` for a server with workers: restart tests use it).
    pub ingest_workers: usize,
    /// The embeddings upstream behind hybrid search; `None` (the default): keyword
    /// search only, no network.
    pub embeddings: Option<EmbeddingsConfig>,
    /// Period of the background sweeps (expired files and uploads, queued byte
    /// removals, orphaned bytes); zero turns them off.
    pub housekeeping_interval: Duration,
    /// Most bytes one API key may store (files plus pending upload parts); `None`
    /// (the default) for no quota.
    pub storage_quota: Option<u64>,
    /// How long clients may take to send requests and how many may connect at once.
    pub connections: ConnectionLimits,
    /// This instance's id among the instances sharing the database; `None`: the host
    /// name and listening port when serving ([`crate::run`]), a random id otherwise.
    pub instance_id: Option<String>,
    /// How long a run's lease lasts unless renewed: how long the runs of an instance
    /// that died wait before another instance takes them over.
    pub run_lease: Duration,
    /// Opens `/metrics` on the main address to requests bearing it; `None` (the
    /// default): metrics only on the operator listener.
    pub metrics_token: Option<MetricsToken>,
}

impl Settings {
    /// Settings with defaults for everything but the database; the data directory is
    /// the database file's folder (see [`default_data_dir`]).
    pub fn new(database_url: impl Into<String>) -> Self {
        let database_url = database_url.into();
        Self {
            data_dir: default_data_dir(&database_url),
            blob_store: None,
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            database_url,
            api_keys: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            llm: offline_llm(),
            run_expiry: DEFAULT_RUN_EXPIRY,
            max_concurrent_runs: DEFAULT_MAX_CONCURRENT_RUNS,
            ingest_workers: DEFAULT_INGEST_WORKERS,
            embeddings: None,
            housekeeping_interval: crate::files::housekeeping::DEFAULT_INTERVAL,
            storage_quota: None,
            connections: ConnectionLimits::default(),
            instance_id: None,
            run_lease: crate::runs::instance::DEFAULT_RUN_LEASE,
            metrics_token: None,
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
        llm_providers: None,
    }
}

/// Where file bytes go when no data directory is given: beside a SQLite database file
/// (`sqlite://./data/assistants.db` gives `./data`), so one folder holds all state and a
/// test's temporary database brings its own data directory. An in-memory database gets
/// a fresh folder under the system's temporary directory, as its data dies with it.
pub fn default_data_dir(database_url: &str) -> PathBuf {
    let in_memory = database_url.contains(":memory:") || database_url.contains("mode=memory");
    let path = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or_default());
    match path {
        Some(path) if !path.is_empty() && !in_memory => match Path::new(path).parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        },
        Some(_) => {
            let unique: u64 = rand::random();
            std::env::temp_dir().join(format!("assistants-data-{unique:016x}"))
        }
        None => PathBuf::from("./data"),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_dir_sits_beside_the_database_file() {
        assert_eq!(
            default_data_dir("sqlite://./data/assistants.db"),
            PathBuf::from("./data")
        );
        assert_eq!(
            default_data_dir("sqlite:///var/lib/a/db.sqlite?mode=rwc"),
            PathBuf::from("/var/lib/a")
        );
        assert_eq!(default_data_dir("sqlite://db.sqlite"), PathBuf::from("."));
        assert_eq!(default_data_dir("postgres://x/y"), PathBuf::from("./data"));
    }

    #[test]
    fn in_memory_databases_get_a_private_temporary_folder() {
        let first = default_data_dir("sqlite::memory:");
        assert!(first.starts_with(std::env::temp_dir()));
        assert_ne!(first, default_data_dir("sqlite::memory:"));
    }
}
