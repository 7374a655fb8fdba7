//! Run writes as compare-and-set on the row's version, so neither another task of this
//! process nor another instance on the same database is ever overwritten: a write that
//! lost the race reads the run again and reapplies its change to what is now stored.
//! The task working on a run writes only while its process holds the run's lease; a
//! request writes whoever works on the run. Each write also moves the lease with the
//! run's status: released when the run rests or ends, taken by the request that
//! continues a waiting run.

use super::signals::Signal;
use super::{RunEngine, RunKey};
use crate::models::{Run, RunStatus};
use crate::store::{LeaseChange, RunVersion, StoreError, StoreResult, VersionedRun};

/// Reads and writes of one change before it gives up (each lost race is another
/// writer's success, so this bounds only a pathological storm of writes).
const WRITE_ATTEMPTS: usize = 32;

/// Who writes a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    /// A request, on any instance: its write goes through whoever works on the run.
    Request,
    /// The task working on the run (or the claim taking it over): it writes only while
    /// this process holds the run's lease.
    Holder,
}

impl RunEngine {
    /// Loads a run, lets `change` modify it and persists it when `change` says so, as a
    /// request (see [`Writer::Request`]). `change` may be called again, on the run as
    /// another writer left it, when that writer came first.
    pub async fn mutate_run(
        &self,
        key: &RunKey,
        change: impl FnMut(&mut Run) -> bool,
    ) -> StoreResult<Run> {
        self.write(key, Writer::Request, false, change).await
    }

    /// [`Self::mutate_run`] by this process's task when it works on the run, so the
    /// write fails once another instance has the run.
    pub(super) async fn mutate_worked(
        &self,
        key: &RunKey,
        change: impl FnMut(&mut Run) -> bool,
    ) -> StoreResult<Run> {
        self.write(key, self.writer_of(&key.run_id), false, change)
            .await
    }

    /// Moves a run out of status `from` with `change`, as one compare-and-set: the
    /// caller whose write moved the run gets it; every other caller (the run was not, or
    /// is no longer, in `from`) gets `Err(run)` with the run as it now is. Concurrent
    /// callers racing for one transition (tool-output submissions on any instance,
    /// workers starting a queued run) thus have exactly one winner. `take`: the writer's
    /// process takes the run's lease in the same write (it will work on the run).
    pub async fn transition(
        &self,
        key: &RunKey,
        from: RunStatus,
        writer: Writer,
        take: bool,
        mut change: impl FnMut(&mut Run),
    ) -> StoreResult<Result<Run, Run>> {
        let mut moved = false;
        let run = self
            .write(key, writer, take, |run| {
                moved = run.status == from;
                if moved {
                    change(run);
                }
                moved
            })
            .await?;
        Ok(if moved { Ok(run) } else { Err(run) })
    }

    /// Whether this process's task is the writer of the run.
    pub(super) fn writer_of(&self, run_id: &str) -> Writer {
        if self.worked.holds(run_id) {
            Writer::Holder
        } else {
            Writer::Request
        }
    }

    /// Confirms this process still holds the lease of a run it works on, before the
    /// task writes a step or message (rows the run's compare-and-set does not cover).
    pub(super) async fn confirm_lease(&self, key: &RunKey) -> StoreResult<()> {
        self.write(key, Writer::Holder, false, |_| false)
            .await
            .map(|_| ())
    }

    async fn write(
        &self,
        key: &RunKey,
        writer: Writer,
        take: bool,
        mut change: impl FnMut(&mut Run) -> bool,
    ) -> StoreResult<Run> {
        let own = &self.instance.holder;
        for _ in 0..WRITE_ATTEMPTS {
            let VersionedRun {
                mut run,
                version,
                holder,
            } = self
                .store
                .get_versioned_run(&key.tenant, &key.thread_id, &key.run_id)
                .await?;
            if writer == Writer::Holder && holder.as_ref() != Some(own) {
                return Err(self.lease_lost(key));
            }
            if !change(&mut run) {
                return Ok(run);
            }
            let lease = match run.status {
                status if status.is_worked_on() && take => LeaseChange::Take {
                    holder: own,
                    lease_ms: self.instance.lease_ms(),
                },
                status if status.is_worked_on() && holder.is_some() => LeaseChange::Keep,
                // Nobody works on it (a cancel of a waiting run): claimable at once.
                status if status.is_worked_on() => LeaseChange::Release {
                    look_again_at_ms: None,
                },
                // Some instance must expire it if no outputs come.
                RunStatus::RequiresAction => LeaseChange::Release {
                    look_again_at_ms: run.expires_at.map(|at| at * 1000 + 1000),
                },
                _ => LeaseChange::Release {
                    look_again_at_ms: None,
                },
            };
            let expected = RunVersion {
                version,
                holder: (writer == Writer::Holder).then_some(own),
            };
            if self
                .store
                .write_run(&key.tenant, &run, expected, lease)
                .await?
            {
                return Ok(run);
            }
        }
        Err(StoreError::Conflict(format!(
            "run {} kept changing while being written",
            key.run_id
        )))
    }

    /// Another instance holds the run now: its task here stops without writing more.
    fn lease_lost(&self, key: &RunKey) -> StoreError {
        self.worked.signal(&key.run_id, Signal::Stop);
        StoreError::Conflict(format!(
            "run {} is worked on by another instance now",
            key.run_id
        ))
    }
}
