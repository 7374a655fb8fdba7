//! The run executor: runs are rows with a state machine (see [`crate::models::Run`]),
//! worked on by tasks spawned in the server process, independent of the request that
//! started them. Every transition is persisted and broadcast on the run's event
//! channel ([`events::EventHub`]), so polling and streaming clients see the same run.
//! Cancelling drops the model stream; a `requires_action` run with no outputs by
//! `expires_at` expires.
//!
//! Several instances may share one database ([`instance`]): each run is worked on by
//! the one process holding its lease, which is the instance that accepted the request
//! starting or continuing it (so its event stream is local), until the run rests or
//! ends. The runs of an instance that died are taken over by another once their leases
//! run out ([`recovery`]; a restart is the same takeover), and every run write is a
//! compare-and-set ([`writes`]), so instances never overwrite each other.

pub mod citations;
mod deltas;
pub mod drive;
pub mod events;
pub mod file_search;
pub mod instance;
pub mod progress;
pub mod prompt;
pub mod recovery;
pub mod signals;
pub mod turn;
pub mod writes;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Map;
use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::llm::{ChatModel, UpstreamCredentials};
use crate::models::{Message, Run, RunStep};
use crate::ops::metrics::RunMetrics;
use crate::store::{Store, StoreResult, Tenant};
use events::{EventHub, RunEvent};
pub use instance::InstanceConfig;
use signals::Worklist;

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
/// database) by the instance that accepted the request; a run taken over by another
/// instance (or resumed after a restart) uses the server's configured credentials.
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
    /// The runs this process works on, and their signals (cancel, stop).
    worked: Worklist,
    /// The tasks working on runs, awaited when the instance hands its runs back.
    tasks: TaskTracker,
    /// Who this process is among the instances, and how long its leases last.
    instance: InstanceConfig,
    /// Upstream access of runs started by requests to this process.
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
            worked: Worklist::default(),
            tasks: TaskTracker::new(),
            instance: InstanceConfig::default(),
            access: Mutex::new(HashMap::new()),
            expiry,
            embeddings: None,
            metrics: RunMetrics::default(),
        }
    }

    /// The same executor taking part among the instances as `instance` says.
    pub fn with_instance(mut self, instance: InstanceConfig) -> Self {
        self.instance = instance;
        self
    }

    /// Who this process is among the instances on its database.
    pub fn instance(&self) -> &InstanceConfig {
        &self.instance
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

    /// Broadcasts an event of a model turn under way: not once the run was told to
    /// cancel or stop, so a stream never shows output after `thread.run.cancelling`.
    pub(crate) fn emit_while_working(
        &self,
        run_id: &str,
        name: &str,
        value: &impl serde::Serialize,
    ) {
        self.worked
            .while_working(run_id, || self.emit(run_id, name, value));
    }

    /// All steps of a run, oldest first.
    pub async fn steps_of(&self, key: &RunKey) -> StoreResult<Vec<RunStep>> {
        self.store.steps_of_run(&key.tenant, &key.run_id).await
    }

    /// Records a new run (and the messages it appends first) with this process's
    /// lease on it, taken in the same write: the instance that accepted the request
    /// drives the run, so a stream of it is served where its events happen.
    pub async fn insert_run(
        &self,
        tenant: &Tenant,
        run: &Run,
        messages: &[Message],
    ) -> StoreResult<()> {
        self.store
            .insert_leased_run(
                tenant,
                run,
                messages,
                &self.instance.holder,
                self.instance.lease_ms(),
            )
            .await
    }

    /// Starts working on a queued run whose lease this process holds, in the background,
    /// in the log span of the request that started it (its lines carry that request's id).
    pub fn start(self: &Arc<Self>, key: RunKey, access: Option<RunAccess>) {
        if let Some(access) = access {
            self.lock_access().insert(key.run_id.clone(), access);
        }
        let hold = self.worked.hold(&key);
        let engine = Arc::clone(self);
        self.tasks
            .spawn(async move { engine.drive(hold).await }.in_current_span());
    }

    /// A request cancelled a run (moved it to `cancelling`): when this process works on
    /// it, its stream says so and its task stops the model; otherwise the instance
    /// working on it notices within a poll, and a run nobody works on is ended by the
    /// instance that claims it. `run` is the run as the cancel wrote it.
    pub fn notice_cancel(&self, run: &Run) {
        self.worked.cancel_with(&run.id, || {
            self.emit(&run.id, "thread.run.cancelling", &run.for_stream());
        });
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

    /// Whether the run's access is this process's own record of the request that started
    /// it (false for a run taken over from another instance).
    fn has_access(&self, run_id: &str) -> bool {
        self.lock_access().contains_key(run_id)
    }
}
