//! Run leases: how several server instances on one database share the runs. A run is
//! worked on by the one process that holds its lease (the instance that accepted the
//! request starting or continuing it, or the one that took it over); the holder renews
//! the lease while it works, and releases it when the run rests (`requires_action`) or
//! ends. Another instance claims a run whose lease ran out, which is how the runs of a
//! dead instance go on. Every run write is a compare-and-set on a version the row keeps,
//! so no instance overwrites what another wrote in between.

use async_trait::async_trait;

use super::{StoreResult, Tenant, UnfinishedRun};
use crate::models::{Message, Run, RunStatus};

/// Who holds a run's lease: an instance, in one life of its process.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LeaseHolder {
    /// The instance's id (`--instance-id`): unique among the running instances and kept
    /// across restarts, so a restarted instance knows which runs its previous life held.
    pub instance: String,
    /// A fresh random id of this process: tells this life of the instance from the
    /// previous one, whose leases are void the moment the instance starts again.
    pub process: String,
}

impl LeaseHolder {
    /// A holder for `instance` with a fresh process id.
    pub fn new(instance: impl Into<String>) -> Self {
        let process: u64 = rand::random();
        Self {
            instance: instance.into(),
            process: format!("{process:016x}"),
        }
    }

    /// The holder of a row's lease, from its two columns (none unless both are set).
    pub(crate) fn from_columns(instance: Option<String>, process: Option<String>) -> Option<Self> {
        Some(Self {
            instance: instance?,
            process: process?,
        })
    }
}

/// What a run write does to the run's lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseChange<'a> {
    /// Leaves it as it is: a request writing a run some instance may be working on.
    Keep,
    /// The writer takes the lease for `lease_ms` milliseconds: the request that
    /// continues a waiting run drives it, so its stream is local.
    Take {
        /// The new holder.
        holder: &'a LeaseHolder,
        /// How long the lease lasts unless renewed.
        lease_ms: i64,
    },
    /// Nobody works on the run any more: it ended, or it waits for tool outputs and
    /// some instance must look at it again at `look_again_at_ms` (unix milliseconds:
    /// its `expires_at`) to expire it. `None`: any instance may claim it at once.
    Release {
        /// When the released run becomes claimable.
        look_again_at_ms: Option<i64>,
    },
}

/// The condition of a run write: the version read, and whether the writer must still
/// hold the lease (a worker) or may be anyone (a request).
#[derive(Debug, Clone, Copy)]
pub struct RunVersion<'a> {
    /// The row's version when it was read; every write increments it.
    pub version: i64,
    /// `Some`: the write only goes through while this holder holds the lease.
    pub holder: Option<&'a LeaseHolder>,
}

/// A run as stored, with what the compare-and-set writes need.
#[derive(Debug, Clone)]
pub struct VersionedRun {
    /// The run.
    pub run: Run,
    /// Its row's version.
    pub version: i64,
    /// Who holds its lease (even one that ran out), if anyone.
    pub holder: Option<LeaseHolder>,
}

/// What the instance working on a run learns about it each poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunWatch {
    /// The run.
    pub run_id: String,
    /// Its stored status: `cancelling` means a request on any instance cancelled it.
    pub status: RunStatus,
    /// Who holds its lease now.
    pub holder: Option<LeaseHolder>,
}

/// The columns a poll reads of a run: id, status, lease_owner, lease_process.
pub(crate) type RunWatchRow = (String, String, Option<String>, Option<String>);

impl RunWatch {
    /// The watch of one polled row; a status no [`RunStatus`] knows is corrupt data.
    pub(crate) fn from_row((run_id, status, owner, process): RunWatchRow) -> StoreResult<Self> {
        Ok(Self {
            run_id,
            status: status.parse()?,
            holder: LeaseHolder::from_columns(owner, process),
        })
    }
}

/// Which runs a claim takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimScope {
    /// Runs nobody works on: the lease ran out, was released (a rest past its look-again
    /// time, a run handed back), was never taken, or was held by an earlier life of
    /// this instance.
    Claimable,
    /// Every unfinished run another process holds, live or not: restart recovery of a
    /// process that knows it is the only one on its database.
    Everything,
}

/// Leases and compare-and-set writes of runs.
#[async_trait]
pub trait RunLeaseStore: Send + Sync {
    /// [`super::RunStore::insert_run`], with the lease taken by `holder` for `lease_ms`
    /// in the same write, so no other instance can claim the new run first.
    async fn insert_leased_run(
        &self,
        tenant: &Tenant,
        run: &Run,
        messages: &[Message],
        holder: &LeaseHolder,
        lease_ms: i64,
    ) -> StoreResult<()>;
    /// A run with its version and lease holder; `NotFound` if absent.
    async fn get_versioned_run(
        &self,
        tenant: &Tenant,
        thread_id: &str,
        id: &str,
    ) -> StoreResult<VersionedRun>;
    /// Replaces the run (document and status) and applies `lease`, only while the row
    /// is still at `expected` (and held by its holder, if given); true when it wrote.
    async fn write_run(
        &self,
        tenant: &Tenant,
        run: &Run,
        expected: RunVersion<'_>,
        lease: LeaseChange<'_>,
    ) -> StoreResult<bool>;
    /// Extends the leases `holder` holds on `run_ids` (of runs still being worked on)
    /// to `lease_ms` from now; returns how many it extended.
    async fn renew_leases(
        &self,
        holder: &LeaseHolder,
        run_ids: &[String],
        lease_ms: i64,
    ) -> StoreResult<u64>;
    /// Status and lease holder of each of `run_ids` that still exists, in one query.
    async fn watch_runs(&self, run_ids: &[String]) -> StoreResult<Vec<RunWatch>>;
    /// Takes the lease of up to `limit` unfinished runs in `scope`, oldest first, for
    /// `lease_ms`, atomically: of instances claiming at once, each run goes to one.
    async fn claim_runs(
        &self,
        holder: &LeaseHolder,
        lease_ms: i64,
        limit: usize,
        scope: ClaimScope,
    ) -> StoreResult<Vec<UnfinishedRun>>;
    /// Releases every lease `holder` holds, so other instances claim those runs at
    /// once (graceful shutdown); returns how many.
    async fn release_leases(&self, holder: &LeaseHolder) -> StoreResult<u64>;
}

#[cfg(test)]
#[path = "lease_tests.rs"]
mod tests;
