//! Restart recovery: no run is left active by a server that stopped mid-run. Runs that
//! were `queued` or `in_progress` go back to `queued` (after discarding the half-done
//! message and step of an interrupted model turn) and are worked on again, unless
//! their turn was already started [`MAX_RUN_ATTEMPTS`] times: a turn that took the
//! process down that often would take every restart down, so the run ends `failed`
//! with `server_error`; `cancelling` runs end `cancelled`; `requires_action` runs past
//! `expires_at` end `expired`, the others get their expiry timer back.

use std::sync::Arc;

use super::{RunEngine, RunKey, MAX_RUN_ATTEMPTS};
use crate::ids::unix_now;
use crate::store::{StoreResult, UnfinishedRun};

/// `last_error.message` of a run recovery gives up on.
pub const GAVE_UP_MESSAGE: &str =
    "The server stopped while working on this run too many times; it was not resumed again.";

impl RunEngine {
    /// Resumes or ends every unfinished run in the store; returns how many it found.
    pub async fn recover_unfinished(self: &Arc<Self>) -> StoreResult<usize> {
        let unfinished = self.store.unfinished_runs().await?;
        let count = unfinished.len();
        for UnfinishedRun {
            tenant,
            run,
            attempts,
        } in unfinished
        {
            let key = RunKey {
                tenant,
                thread_id: run.thread_id.clone(),
                run_id: run.id.clone(),
            };
            let outcome = match run.status.as_str() {
                "cancelling" => self.finish_cancelled(&key, &mut []).await,
                "requires_action" => {
                    if run.expires_at.is_some_and(|at| at <= unix_now()) {
                        self.expire_if_waiting(&key).await
                    } else {
                        self.schedule_expiry(key.clone(), run.expires_at.unwrap_or_default());
                        Ok(())
                    }
                }
                _ if attempts >= MAX_RUN_ATTEMPTS => self.give_up(&key, attempts).await,
                _ => self.requeue(key).await,
            };
            if let Err(error) = outcome {
                tracing::error!(run = %run.id, %error, "recovering the run failed");
            }
        }
        if count > 0 {
            tracing::info!(runs = count, "recovered unfinished runs");
        }
        Ok(count)
    }

    /// Ends a run whose turn was started `attempts` times without coming to rest as
    /// `failed` (`server_error`), failing its open steps; its message keeps what was
    /// written of it.
    async fn give_up(&self, key: &RunKey, attempts: u32) -> StoreResult<()> {
        tracing::error!(run = %key.run_id, attempts, "the run's turn was started too often; it fails");
        let mut open: Vec<_> = self
            .store
            .steps_of_run(&key.tenant, &key.run_id)
            .await?
            .into_iter()
            .filter(|step| step.status == "in_progress")
            .collect();
        self.fail(key, &mut open, "server_error", GAVE_UP_MESSAGE)
            .await
    }

    /// Discards the interrupted turn's in-progress steps (and their message), queues the
    /// run again and starts it.
    async fn requeue(self: &Arc<Self>, key: RunKey) -> StoreResult<()> {
        for step in self.store.steps_of_run(&key.tenant, &key.run_id).await? {
            if step.status != "in_progress" {
                continue;
            }
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
        self.mutate_run(&key, |run| {
            run.status = "queued".into();
            true
        })
        .await?;
        self.start(key, None);
        Ok(())
    }
}
