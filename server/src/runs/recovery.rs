//! Restart recovery: no run is left active by a server that stopped mid-run. Runs that
//! were `queued` or `in_progress` go back to `queued` (after discarding the half-done
//! message and step of an interrupted model turn) and are worked on again;
//! `cancelling` runs end `cancelled`; `requires_action` runs past `expires_at` end
//! `expired`, the others get their expiry timer back.

use std::sync::Arc;

use super::{RunEngine, RunKey};
use crate::ids::unix_now;
use crate::store::StoreResult;

impl RunEngine {
    /// Resumes or ends every unfinished run in the store; returns how many it found.
    pub async fn recover_unfinished(self: &Arc<Self>) -> StoreResult<usize> {
        let unfinished = self.store.unfinished_runs().await?;
        let count = unfinished.len();
        for (tenant, run) in unfinished {
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
