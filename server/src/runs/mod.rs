//! The run executor: runs are rows with a state machine (see [`crate::models::Run`]),
//! worked on by tasks spawned in the server process, independent of the request that
//! started them. Every transition is persisted and broadcast on the run's event
//! channel ([`events::EventHub`]), so polling and streaming clients see the same run.
//! Cancelling drops the model stream; a restart resumes or ends every unfinished run
//! ([`recovery`]); a `requires_action` run with no outputs by `expires_at` expires.

pub mod citations;
mod deltas;
pub mod drive;
pub mod events;
pub mod file_search;
pub mod progress;
pub mod prompt;
pub mod recovery;
pub mod turn;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Map;
use tokio::sync::{watch, Semaphore};
use tracing::Instrument;

use crate::llm::{ChatModel, UpstreamCredentials};
use crate::models::{Run, RunStep};
use crate::ops::metrics::RunMetrics;
use crate::store::{Store, StoreError, StoreResult, Tenant};
use events::{EventHub, RunEvent};

/// How long an active run may take (OpenAI: 10 minutes), unless configured otherwise.
pub const DEFAULT_RUN_EXPIRY: Duration = Duration::from_secs(600);
/// Runs whose model turns may be in flight at once, unless configured otherwise.
pub const DEFAULT_MAX_CONCURRENT_RUNS: usize = 64;
/// Starts of one model turn after which restart recovery stops resuming a run and
/// ends it `failed`: a turn that takes the process down would otherwise take every
/// restarted server down again.
pub const MAX_RUN_ATTEMPTS: u32 = 3;

/// Which run a task works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunKey {
    /// The owner.
    pub tenant: Tenant,
    /// The run's thread.
    pub thread_id: String,
    /// The run.
    pub run_id: String,
}

/// Per-request upstream access of a run, kept in memory only (keys never reach the
/// database); a run resumed after a restart uses the server's configuration.
#[derive(Debug, Clone, Default)]
pub struct RunAccess {
    /// `api-key` header, caller's bearer key and chosen base URL.
    pub credentials: UpstreamCredentials,
    /// `LLM-PARAM-<name>` headers.
    pub extra: Map<String, serde_json::Value>,
    /// `include[]=step_details.tool_calls[*].file_search.results[*].content` was given:
    /// streamed steps show their search results.
    pub include_search_results: bool,
}

/// The executor shared by every handler (behind `Arc` in the app state).
pub struct RunEngine {
    store: Arc<dyn Store>,
    model: Arc<dyn ChatModel>,
    /// The per-run event channels.
    pub hub: EventHub,
    /// Bounds the number of runs being worked on at once.
    limit: Semaphore,
    /// Serialises read-modify-write of run documents between handlers and tasks.
    write_lock: tokio::sync::Mutex<()>,
    /// Cancel signals of runs whose model turn is in flight.
    cancels: Mutex<HashMap<String, watch::Sender<bool>>>,
    /// Upstream access of runs started by this process.
    access: Mutex<HashMap<String, RunAccess>>,
    /// `expires_at - created_at` of new runs.
    expiry: Duration,
    /// The embeddings upstream file_search ranks with, when one is configured.
    embeddings: Option<Arc<crate::embeddings::EmbeddingsClient>>,
    /// Runs ended by status, working and waiting for a slot.
    metrics: RunMetrics,
}

impl RunEngine {
    /// An executor on `store` calling `model`.
    pub fn new(
        store: Arc<dyn Store>,
        model: Arc<dyn ChatModel>,
        expiry: Duration,
        max_concurrent_runs: usize,
    ) -> Self {
        Self {
            store,
            model,
            hub: EventHub::default(),
            limit: Semaphore::new(max_concurrent_runs.max(1)),
            write_lock: tokio::sync::Mutex::new(()),
            cancels: Mutex::new(HashMap::new()),
            access: Mutex::new(HashMap::new()),
            expiry,
            embeddings: None,
            metrics: RunMetrics::default(),
        }
    }

    /// The same executor counting its runs into `metrics`.
    pub fn with_metrics(mut self, metrics: RunMetrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// The same executor whose file_search ranks hybrid with `embeddings`.
    pub fn with_embeddings(
        mut self,
        embeddings: Option<Arc<crate::embeddings::EmbeddingsClient>>,
    ) -> Self {
        self.embeddings = embeddings;
        self
    }

    /// Refuses a model name the configured model cannot route (a 400 on `model`).
    pub fn check_model(&self, model: &str) -> Result<(), crate::ApiError> {
        self.model
            .check_model(model)
            .map_err(|error| crate::ApiError::unroutable_model(error.0))
    }

    /// Seconds between a run's creation and its `expires_at`.
    pub fn expiry_secs(&self) -> i64 {
        i64::try_from(self.expiry.as_secs()).unwrap_or(i64::MAX)
    }

    /// Broadcasts an event of a run.
    pub fn emit(&self, run_id: &str, name: &str, value: &impl serde::Serialize) {
        self.metrics.run_event(name);
        self.hub.emit(run_id, RunEvent::new(name, value));
    }

    /// Loads a run, lets `change` modify it and persists it when `change` says so,
    /// all under the write lock so a handler and a task never overwrite each other.
    /// The write is also conditional on the status read (see [`Self::transition`]), so
    /// another process on the same database cannot be overwritten either: that lost
    /// race is a `Conflict`.
    pub async fn mutate_run(
        &self,
        key: &RunKey,
        change: impl FnOnce(&mut Run) -> bool,
    ) -> StoreResult<Run> {
        let _guard = self.write_lock.lock().await;
        let mut run = self
            .store
            .get_run(&key.tenant, &key.thread_id, &key.run_id)
            .await?;
        let before = run.status.clone();
        if change(&mut run) && !self.store.update_run_if(&key.tenant, &run, &before).await? {
            return Err(StoreError::Conflict(format!(
                "run {} left status {before} meanwhile",
                run.id
            )));
        }
        Ok(run)
    }

    /// Moves a run out of status `from` with `change`, as one compare-and-set: the
    /// caller whose conditional UPDATE (`... WHERE status = from`) changed the row gets
    /// the changed run; every other caller (the run was not, or is no longer, in
    /// `from`) gets `Err(run)` with the run as it now is. Concurrent callers racing for
    /// one transition (tool-output submissions, workers starting a queued run) thus
    /// have exactly one winner.
    pub async fn transition(
        &self,
        key: &RunKey,
        from: &str,
        change: impl FnOnce(&mut Run),
    ) -> StoreResult<Result<Run, Run>> {
        let _guard = self.write_lock.lock().await;
        let mut run = self
            .store
            .get_run(&key.tenant, &key.thread_id, &key.run_id)
            .await?;
        if run.status != from {
            return Ok(Err(run));
        }
        change(&mut run);
        if self.store.update_run_if(&key.tenant, &run, from).await? {
            return Ok(Ok(run));
        }
        let now = self
            .store
            .get_run(&key.tenant, &key.thread_id, &key.run_id)
            .await?;
        Ok(Err(now))
    }

    /// All steps of a run, oldest first.
    pub async fn steps_of(&self, key: &RunKey) -> StoreResult<Vec<RunStep>> {
        self.store.steps_of_run(&key.tenant, &key.run_id).await
    }

    /// Starts working on a queued run in the background, in the log span of the request
    /// that started it (its lines carry that request's id).
    pub fn start(self: &Arc<Self>, key: RunKey, access: Option<RunAccess>) {
        if let Some(access) = access {
            self.lock_access().insert(key.run_id.clone(), access);
        }
        let engine = Arc::clone(self);
        tokio::spawn(async move { engine.drive(key).await }.in_current_span());
    }

    /// Asks the run's in-flight model turn (if any) to stop.
    pub fn signal_cancel(&self, run_id: &str) {
        let cancels = self.cancels.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(sender) = cancels.get(run_id) {
            let _ = sender.send(true);
        }
    }

    fn register_cancel(&self, run_id: &str) -> watch::Receiver<bool> {
        let (sender, receiver) = watch::channel(false);
        let mut cancels = self.cancels.lock().unwrap_or_else(|e| e.into_inner());
        cancels.insert(run_id.to_owned(), sender);
        receiver
    }

    fn unregister_cancel(&self, run_id: &str) {
        let mut cancels = self.cancels.lock().unwrap_or_else(|e| e.into_inner());
        cancels.remove(run_id);
    }

    fn lock_access(&self) -> std::sync::MutexGuard<'_, HashMap<String, RunAccess>> {
        self.access.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn access_of(&self, run_id: &str) -> RunAccess {
        self.lock_access().get(run_id).cloned().unwrap_or_default()
    }

    fn forget_access(&self, run_id: &str) {
        self.lock_access().remove(run_id);
    }
}
