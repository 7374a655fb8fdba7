//! Takeover: no run is left active by an instance that stopped mid-run. Another
//! instance (or the same one, restarted) claims the run's lease once it ran out and
//! resumes or ends it: runs that were `queued` or `in_progress` go back to `queued`
//! (after discarding the half-done message and step of an interrupted model turn) and
//! are worked on again, unless their turn was already started [`MAX_RUN_ATTEMPTS`]
//! times: a turn that took the process down that often would take every instance down,
//! so the run ends `failed` with `server_error`; `cancelling` runs end `cancelled`;
//! `requires_action` runs past `expires_at` end `expired`, the others wait again.

use std::sync::Arc;

use super::signals::Hold;
use super::{RunEngine, RunKey, MAX_RUN_ATTEMPTS};
use crate::ids::unix_now;
use crate::models::RunStatus;
use crate::store::{ClaimScope, StoreResult, UnfinishedRun};

/// `last_error.message` of a run recovery gives up on.
pub const GAVE_UP_MESSAGE: &str =
    "The server stopped while working on this run too many times; it was not resumed again.";

impl RunEngine {
    /// Takes over every unfinished run another process holds, live or not, and resumes
    /// or ends it; returns how many it found. Only for a process that knows it is alone
    /// on its database (tests, tools): instances on a shared database take over only
    /// runs nobody works on ([`Self::take_over`]).
    pub async fn recover_unfinished(self: &Arc<Self>) -> StoreResult<usize> {
        self.take_over(ClaimScope::Everything, usize::MAX).await
    }

    /// Claims up to `limit` unfinished runs in `scope` and resumes or ends each;
    /// returns how many it claimed.
    pub async fn take_over(
        self: &Arc<Self>,
        scope: ClaimScope,
        limit: usize,
    ) -> StoreResult<usize> {
        let claimed = self
            .store
            .claim_runs(
                &self.instance.holder,
                self.instance.lease_ms(),
                limit,
                scope,
            )
            .await?;
        let count = claimed.len();
        for UnfinishedRun {
            tenant,
            run,
            attempts,
        } in claimed
        {
            let key = RunKey {
                tenant,
                thread_id: run.thread_id.clone(),
                run_id: run.id.clone(),
            };
            let hold = self.worked.hold(&key);
            let outcome = match run.status {
                RunStatus::Cancelling => match self.open_steps(&key).await {
                    Ok(mut open) => self.finish_cancelled(&key, &mut open).await,
                    Err(error) => Err(error),
                },
                RunStatus::RequiresAction => self.look_at_waiting(&key, run.expires_at).await,
                _ if attempts >= MAX_RUN_ATTEMPTS => self.give_up(&key, attempts).await,
                _ => self.requeue(hold).await,
            };
            if let Err(error) = outcome {
                tracing::error!(run = %run.id, %error, "taking the run over failed");
            }
        }
        if count > 0 {
            tracing::info!(runs = count, instance = %self.instance.holder.instance, "took over unfinished runs");
        }
        Ok(count)
    }

    /// A claimed run waiting for tool outputs: expired when due, else released again to
    /// wait (and expired by this process's timer, or by whichever instance claims it
    /// once due).
    async fn look_at_waiting(
        self: &Arc<Self>,
        key: &RunKey,
        expires_at: Option<i64>,
    ) -> StoreResult<()> {
        if expires_at.is_some_and(|at| at <= unix_now()) {
            return self.expire_if_waiting(key).await.map(|_| ());
        }
        // Rewriting a waiting run releases its lease until its expiry.
        self.mutate_worked(key, |run| run.status == RunStatus::RequiresAction)
            .await?;
        if let Some(at) = expires_at {
            self.schedule_expiry(key.clone(), at);
        }
        Ok(())
    }

    /// Ends a run whose turn was started `attempts` times without coming to rest as
    /// `failed` (`server_error`), failing its open steps; its message keeps what was
    /// written of it.
    async fn give_up(&self, key: &RunKey, attempts: u32) -> StoreResult<()> {
        tracing::error!(run = %key.run_id, attempts, "the run's turn was started too often; it fails");
        let mut open = self.open_steps(key).await?;
        self.fail(key, &mut open, "server_error", GAVE_UP_MESSAGE)
            .await
    }

    /// Discards the interrupted turn's in-progress steps (and their message), queues the
    /// run again and starts it.
    async fn requeue(self: &Arc<Self>, hold: Hold) -> StoreResult<()> {
        let key = hold.key.clone();
        for step in self.open_steps(&key).await? {
            if let Some(message_id) = step.step_details["message_creation"]["message_id"].as_str() {
                match self
                    .store
                    .delete_message(&key.tenant, &key.thread_id, message_id)
                    .await
                {
                    Ok(()) | Err(crate::store::StoreError::NotFound) => {}
                    Err(error) => return Err(error),
                }
            }
            self.store.delete_step(&key.tenant, &step.id).await?;
        }
        // A cancel may have come meanwhile: it is not undone.
        let mut requeued = false;
        self.mutate_worked(&key, |run| {
            requeued = matches!(run.status, RunStatus::Queued | RunStatus::InProgress);
            if requeued {
                run.status = RunStatus::Queued;
            }
            requeued
        })
        .await?;
        if !requeued {
            return self.finish_cancelled(&key, &mut []).await;
        }
        let engine = Arc::clone(self);
        self.tasks.spawn(async move { engine.drive(hold).await });
        Ok(())
    }
}
