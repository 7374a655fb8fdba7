//! A run's background task: takes a queued run into `in_progress`, runs one model
//! turn ([`super::turn`]) and ends the run, or leaves it waiting in `requires_action`.
//! Also the shared endings: cancelled, failed and expired.

use std::sync::Arc;

use serde_json::json;
use tokio::sync::watch;
use tracing::Instrument;

use super::{RunEngine, RunKey};
use crate::ids::unix_now;
use crate::models::RunStep;
use crate::store::StoreResult;

/// Resolves once a cancel was signalled (never, if the signal can no longer come).
pub async fn cancelled(receiver: &mut watch::Receiver<bool>) {
    while !*receiver.borrow() {
        if receiver.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

impl RunEngine {
    /// Works on a run until it ends or waits for tool outputs.
    pub(super) async fn drive(self: Arc<Self>, key: RunKey) {
        let waiting = self.metrics.waiting();
        let Ok(_permit) = self.limit.acquire().await else {
            return;
        };
        drop(waiting);
        let _active = self.metrics.active();
        let cancel = self.register_cancel(&key.run_id);
        let outcome = self.drive_once(&key, cancel).await;
        self.unregister_cancel(&key.run_id);
        if let Err(error) = outcome {
            tracing::error!(run = %key.run_id, %error, "run failed on a store error");
            let message = "The server had an error while processing the run.";
            if self
                .fail(&key, &mut [], "server_error", message)
                .await
                .is_err()
            {
                self.hub.emit(
                    &key.run_id,
                    super::events::RunEvent::new("error", &super::events::server_error(message)),
                );
            }
        }
    }

    async fn drive_once(
        self: &Arc<Self>,
        key: &RunKey,
        cancel: watch::Receiver<bool>,
    ) -> StoreResult<()> {
        let now = unix_now();
        let started = self
            .transition(key, "queued", |run| {
                run.status = "in_progress".into();
                run.started_at = Some(now);
            })
            .await?;
        let run = match started {
            Ok(run) => run,
            // Cancelled while queued; any other status is another task's run (only the
            // task that moved it out of `queued` works on it).
            Err(run) if run.status == "cancelling" => {
                return self.finish_cancelled(key, &mut []).await
            }
            Err(_) => return Ok(()),
        };
        // Counted durably before the model is called: a turn that takes the process
        // down is seen by the next restart's recovery (see `MAX_RUN_ATTEMPTS`).
        self.store.start_attempt(&key.tenant, &key.run_id).await?;
        self.emit(&key.run_id, "thread.run.in_progress", &run.for_stream());
        self.turn(key, run, cancel).await
    }

    /// Ends a run as `cancelled`, cancelling its unfinished steps.
    ///
    /// Only a `cancelling` run ends: the cancel handler (for a run no task works on) and
    /// the run's own task may both get here, and the run must end, and say so, once.
    pub async fn finish_cancelled(&self, key: &RunKey, open: &mut [RunStep]) -> StoreResult<()> {
        let now = unix_now();
        for step in open.iter_mut() {
            step.status = "cancelled".into();
            step.cancelled_at = Some(now);
            self.store.update_step(&key.tenant, step).await?;
            self.emit(&key.run_id, "thread.run.step.cancelled", step);
        }
        let mut ended = false;
        let run = self
            .mutate_run(key, |run| {
                if run.status != "cancelling" {
                    return false;
                }
                run.status = "cancelled".into();
                run.cancelled_at = Some(now);
                run.expires_at = None;
                run.required_action = None;
                ended = true;
                true
            })
            .await?;
        if ended {
            self.forget_access(&key.run_id);
            self.emit(&key.run_id, "thread.run.cancelled", &run.for_stream());
        }
        Ok(())
    }

    /// Ends a run as `failed` with `last_error {code, message}`, failing its open steps.
    pub async fn fail(
        &self,
        key: &RunKey,
        open: &mut [RunStep],
        code: &str,
        message: &str,
    ) -> StoreResult<()> {
        let now = unix_now();
        let error = json!({"code": code, "message": message});
        for step in open.iter_mut() {
            step.status = "failed".into();
            step.failed_at = Some(now);
            step.last_error = Some(error.clone());
            self.store.update_step(&key.tenant, step).await?;
            self.emit(&key.run_id, "thread.run.step.failed", step);
        }
        let mut cancelled = false;
        let run = self
            .mutate_run(key, |run| {
                if run.status == "cancelling" {
                    cancelled = true;
                    return false;
                }
                run.status = "failed".into();
                run.failed_at = Some(now);
                run.expires_at = None;
                run.last_error = Some(error);
                true
            })
            .await?;
        if cancelled {
            return self.finish_cancelled(key, &mut []).await;
        }
        self.forget_access(&key.run_id);
        self.emit(&key.run_id, "thread.run.failed", &run.for_stream());
        Ok(())
    }

    /// Ends a `requires_action` run that got no outputs in time as `expired`.
    pub async fn expire_if_waiting(&self, key: &RunKey) -> StoreResult<()> {
        let now = unix_now();
        let run = self
            .mutate_run(key, |run| {
                let due = run.expires_at.is_some_and(|at| at <= now);
                if run.status != "requires_action" || !due {
                    return false;
                }
                run.status = "expired".into();
                run.expires_at = None;
                run.required_action = None;
                true
            })
            .await?;
        if run.status != "expired" {
            return Ok(());
        }
        for mut step in self.store.steps_of_run(&key.tenant, &key.run_id).await? {
            if step.status == "in_progress" {
                step.status = "expired".into();
                self.store.update_step(&key.tenant, &step).await?;
            }
        }
        self.forget_access(&key.run_id);
        self.emit(&key.run_id, "thread.run.expired", &run.for_stream());
        Ok(())
    }

    /// Expires the run at its `expires_at` unless outputs arrive first.
    pub fn schedule_expiry(self: &Arc<Self>, key: RunKey, expires_at: i64) {
        let engine = Arc::clone(self);
        let wait = u64::try_from(expires_at - unix_now()).unwrap_or(0);
        let expire = async move {
            // One second past the mark, so `expires_at <= now` holds when it fires.
            tokio::time::sleep(std::time::Duration::from_secs(wait + 1)).await;
            if let Err(error) = engine.expire_if_waiting(&key).await {
                tracing::error!(run = %key.run_id, %error, "expiring the run failed");
            }
        };
        tokio::spawn(expire.in_current_span());
    }
}
