//! Persistence behind one trait per resource, so handlers never see SQL and a
//! PostgreSQL backend can sit beside SQLite. Every call is scoped by [`Tenant`].

#[cfg(test)]
mod backend_tests;
mod documents;
mod error;
pub mod files;
pub mod leases;
pub mod migrate;
pub mod page;
pub mod postgres;
mod similarity;
pub mod sqlite;
#[cfg(test)]
mod two_instances;
pub mod vector_stores;

use std::sync::Arc;

use async_trait::async_trait;
use sha2::{Digest, Sha256};

use crate::models::{Assistant, Message, Run, RunStep, RunUsage, Thread};
pub use error::{BackendSource, StoreError};
pub use files::{BlobKind, FileStore, PendingBlob, UploadRecord, UploadStore};
pub use leases::{
    ClaimScope, LeaseChange, LeaseHolder, RunLeaseStore, RunVersion, RunWatch, VersionedRun,
};
pub use page::{Order, Page, PageRequest};
pub use vector_stores::VectorStoreStore;

/// A pooled connection idle at least this long is pinged before it is used again; a
/// busier one is not: pinging on every checkout (sqlx's default) doubled the round
/// trips of a `GET` on PostgreSQL. A connection that breaks while in use fails that
/// statement and is dropped from the pool.
const PING_IDLE_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// `options` with sqlx's ping on every checkout replaced by a ping of connections idle
/// for [`PING_IDLE_AFTER`] or more.
pub(crate) fn ping_when_idle<DB: sqlx::Database>(
    options: sqlx::pool::PoolOptions<DB>,
) -> sqlx::pool::PoolOptions<DB> {
    options
        .test_before_acquire(false)
        .before_acquire(|connection, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_IDLE_AFTER {
                    sqlx::Connection::ping(connection).await?;
                }
                Ok(true)
            })
        })
}

/// Result alias for store calls.
pub type StoreResult<T> = Result<T, StoreError>;

/// Owner of stored objects: a SHA-256 of the API key, so keys never reach the database.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tenant(String);

impl Tenant {
    /// The tenant that `api_key` stands for.
    pub fn from_api_key(api_key: &str) -> Self {
        let digest = Sha256::digest(api_key.as_bytes());
        Tenant(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The tenant whose hash was read back from a `tenant` column (restart recovery).
    pub fn from_stored(hash: String) -> Self {
        Tenant(hash)
    }

    /// The hash as stored in the `tenant` column.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Assistants: plain CRUD plus a paginated list.
#[async_trait]
pub trait AssistantStore: Send + Sync {
    /// Stores a new assistant.
    async fn insert_assistant(&self, tenant: &Tenant, assistant: &Assistant) -> StoreResult<()>;
    /// Fetches one assistant; `NotFound` if absent for this tenant.
    async fn get_assistant(&self, tenant: &Tenant, id: &str) -> StoreResult<Assistant>;
    /// Replaces a stored assistant; `NotFound` if absent.
    async fn update_assistant(&self, tenant: &Tenant, assistant: &Assistant) -> StoreResult<()>;
    /// Deletes an assistant; `NotFound` if absent.
    async fn delete_assistant(&self, tenant: &Tenant, id: &str) -> StoreResult<()>;
    /// One page of the tenant's assistants.
    async fn list_assistants(
        &self,
        tenant: &Tenant,
        page: &PageRequest,
    ) -> StoreResult<Page<Assistant>>;
}

/// Threads; creation and deletion also write their messages, atomically.
#[async_trait]
pub trait ThreadStore: Send + Sync {
    /// Stores a new thread together with its initial messages, all or nothing.
    async fn insert_thread(
        &self,
        tenant: &Tenant,
        thread: &Thread,
        messages: &[Message],
    ) -> StoreResult<()>;
    /// Fetches one thread; `NotFound` if absent for this tenant.
    async fn get_thread(&self, tenant: &Tenant, id: &str) -> StoreResult<Thread>;
    /// Replaces a stored thread; `NotFound` if absent.
    async fn update_thread(&self, tenant: &Tenant, thread: &Thread) -> StoreResult<()>;
    /// Deletes a thread and all its messages, all or nothing; `NotFound` if absent.
    async fn delete_thread(&self, tenant: &Tenant, id: &str) -> StoreResult<()>;
}

/// Messages, always addressed through their thread.
#[async_trait]
pub trait MessageStore: Send + Sync {
    /// Appends a message to its thread; `NotFound` if the thread is absent.
    async fn insert_message(&self, tenant: &Tenant, message: &Message) -> StoreResult<()>;
    /// Fetches one message of a thread; `NotFound` if absent.
    async fn get_message(&self, tenant: &Tenant, thread_id: &str, id: &str)
        -> StoreResult<Message>;
    /// Replaces a stored message; `NotFound` if absent.
    async fn update_message(&self, tenant: &Tenant, message: &Message) -> StoreResult<()>;
    /// Deletes one message of a thread; `NotFound` if absent.
    async fn delete_message(&self, tenant: &Tenant, thread_id: &str, id: &str) -> StoreResult<()>;
    /// One page of a thread's messages, optionally only those a run wrote.
    async fn list_messages(
        &self,
        tenant: &Tenant,
        thread_id: &str,
        run_id: Option<&str>,
        page: &PageRequest,
    ) -> StoreResult<Page<Message>>;
}

/// Runs, always addressed through their thread; at most one active run per thread.
#[async_trait]
pub trait RunStore: Send + Sync {
    /// Stores a new run together with messages to append to its thread first, all or
    /// nothing. `ActiveRun(id)` if the thread already has an active run; `NotFound`
    /// if the thread is absent.
    async fn insert_run(&self, tenant: &Tenant, run: &Run, messages: &[Message])
        -> StoreResult<()>;
    /// Fetches one run of a thread; `NotFound` if absent.
    async fn get_run(&self, tenant: &Tenant, thread_id: &str, id: &str) -> StoreResult<Run>;
    /// Replaces a stored run (document and status); `NotFound` if absent.
    async fn update_run(&self, tenant: &Tenant, run: &Run) -> StoreResult<()>;
    /// Replaces a stored run only while its stored status is still `expected`, as one
    /// compare-and-set: true when this call changed the row, false when the run is in
    /// another status (someone else moved it first) or gone.
    async fn update_run_if(
        &self,
        tenant: &Tenant,
        run: &Run,
        expected: crate::models::RunStatus,
    ) -> StoreResult<bool>;
    /// Counts one more start of the run's current model turn, durably and before the
    /// model is called; returns the count (see [`UnfinishedRun::attempts`]).
    async fn start_attempt(&self, tenant: &Tenant, run_id: &str) -> StoreResult<u32>;
    /// Forgets the attempts once the turn has come to rest (the run waits for tool
    /// outputs), so later turns start counting from zero.
    async fn clear_attempts(&self, tenant: &Tenant, run_id: &str) -> StoreResult<()>;
    /// One page of a thread's runs.
    async fn list_runs(
        &self,
        tenant: &Tenant,
        thread_id: &str,
        page: &PageRequest,
    ) -> StoreResult<Page<Run>>;
    /// The id of the thread's active run, if any (the thread lock).
    async fn active_run(&self, tenant: &Tenant, thread_id: &str) -> StoreResult<Option<String>>;
    /// Every run of every tenant that has not ended, oldest first (restart recovery).
    async fn unfinished_runs(&self) -> StoreResult<Vec<UnfinishedRun>>;
}

/// A run found active by restart recovery.
#[derive(Debug, Clone)]
pub struct UnfinishedRun {
    /// Its owner.
    pub tenant: Tenant,
    /// The run as last stored.
    pub run: Run,
    /// How many times a worker started its current model turn: a run whose turn took
    /// the process down has as many attempts as crashes, and recovery gives up on it.
    pub attempts: u32,
}

/// Run steps, always addressed through their run.
#[async_trait]
pub trait StepStore: Send + Sync {
    /// Stores a new step; `NotFound` if its run is absent.
    async fn insert_step(&self, tenant: &Tenant, step: &RunStep) -> StoreResult<()>;
    /// Replaces a stored step; `NotFound` if absent.
    async fn update_step(&self, tenant: &Tenant, step: &RunStep) -> StoreResult<()>;
    /// Deletes a step (a half-done step discarded on restart); `NotFound` if absent.
    async fn delete_step(&self, tenant: &Tenant, id: &str) -> StoreResult<()>;
    /// Fetches one step of a run; `NotFound` if absent.
    async fn get_step(&self, tenant: &Tenant, run_id: &str, id: &str) -> StoreResult<RunStep>;
    /// One page of a run's steps.
    async fn list_steps(
        &self,
        tenant: &Tenant,
        run_id: &str,
        page: &PageRequest,
    ) -> StoreResult<Page<RunStep>>;
    /// All steps of a run, oldest first (prompt assembly and recovery).
    async fn steps_of_run(&self, tenant: &Tenant, run_id: &str) -> StoreResult<Vec<RunStep>>;
    /// Keeps the usage of a step's model turn out of its document until the step
    /// completes (tool-call steps show `usage: null` while their run waits).
    async fn hold_usage(&self, tenant: &Tenant, step_id: &str, usage: &RunUsage)
        -> StoreResult<()>;
    /// The usage held for a step, if any.
    async fn held_usage(&self, tenant: &Tenant, step_id: &str) -> StoreResult<Option<RunUsage>>;
}

/// Everything the API needs from storage.
#[async_trait]
pub trait Store:
    AssistantStore
    + ThreadStore
    + MessageStore
    + RunStore
    + RunLeaseStore
    + StepStore
    + FileStore
    + UploadStore
    + VectorStoreStore
{
    /// Finishes pending work and closes connections, so shutdown is prompt and clean.
    async fn close(&self);
    /// Whether the database answers and every migration this build embeds is applied
    /// (`/readyz`: a load balancer sends no traffic to an instance that fails it).
    async fn check_ready(&self) -> StoreResult<()>;
}

/// The URL with any password replaced by `***`, for messages and logs.
pub fn redact_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|at| at + 3) else {
        return url.to_owned();
    };
    let authority_end = url[scheme_end..]
        .find(['/', '?'])
        .map_or(url.len(), |at| scheme_end + at);
    let authority = &url[scheme_end..authority_end];
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!(
                "{}{user}:***@{host}{}",
                &url[..scheme_end],
                &url[authority_end..]
            ),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// Opens the backend the URL's scheme names and brings its schema up to date.
pub async fn connect(database_url: &str) -> StoreResult<Arc<dyn Store>> {
    let scheme = database_url.split(':').next().unwrap_or_default();
    match scheme {
        "sqlite" => Ok(Arc::new(sqlite::SqliteStore::connect(database_url).await?)),
        "postgres" | "postgresql" => Ok(Arc::new(postgres::PgStore::connect(database_url).await?)),
        _ => Err(StoreError::Unsupported(format!(
            "unsupported database URL '{}': expected sqlite://PATH or postgres://...",
            redact_password(database_url)
        ))),
    }
}
