//! A run's background task: takes a queued run into `in_progress`, runs one model
//! turn ([`super::turn`]) and ends the run, or leaves it waiting in `requires_action`.
//! Also the shared endings and rests: cancelled, failed, expired, incomplete, and
//! waiting for tool outputs.

use std::sync::Arc;

use serde_json::{json, Value};
use tokio::sync::watch;
use tracing::Instrument;

use super::events::{server_error, RunEvent};
use super::signals::{signalled, Hold, Signal};
use super::writes::Writer;
use super::{RunEngine, RunKey};
use crate::ids::unix_now;
use crate::models::{Run, RunStatus, RunStep, RunUsage, StepStatus};
use crate::store::StoreResult;

/// The `error` event ending a stream whose run this instance stopped working on.
pub const STOPPED_MESSAGE: &str = "This server instance stopped working on the run (it is \
    shutting down, or another instance took the run over); the run goes on: retrieve it to \
    follow it.";

/// Whether a run waits for tool outputs past its `expires_at` (unix seconds `now`):
/// it is to expire, and takes no outputs and no cancel any more.
pub fn due(run: &Run, now: i64) -> bool {
    run.status == RunStatus::RequiresAction && run.expires_at.is_some_and(|at| at <= now)
}

impl RunEngine {
    /// Works on a run until it ends or waits for tool outputs.
    pub(super) async fn drive(self: Arc<Self>, hold: Hold) {
        let key = hold.key.clone();
        let mut signals = hold.signals.clone();
        let waiting = self.metrics.waiting();
        let permit = tokio::select! {
            permit = self.limit.acquire() => permit.ok(),
            signal = signalled(&mut signals) => match signal {
                // Cancelled while waiting for a run slot: it ends without one.
                Signal::Cancel | Signal::Work => None,
                Signal::Stop => return self.stopped(&key),
            },
        };
        drop(waiting);
        let active = self.metrics.active();
        let outcome = self.drive_once(&key, hold.signals.clone()).await;
        drop(active);
        drop(permit);
        let Err(error) = outcome else {
            return;
        };
        if *hold.signals.borrow() == Signal::Stop {
            tracing::info!(run = %key.run_id, %error, "stopped working on the run");
            return self.stopped(&key);
        }
        tracing::error!(run = %key.run_id, %error, "run failed on a store error");
        let message = "The server had an error while processing the run.";
        if self
            .fail(&key, &mut [], "server_error", message)
            .await
            .is_err()
        {
            self.hub
                .emit(&key.run_id, RunEvent::new("error", &server_error(message)));
        }
    }

    /// Ends a local stream of a run this process stopped working on without ending it,
    /// and forgets the run's per-request access (the run is another instance's now).
    pub(super) fn stopped(&self, key: &RunKey) {
        self.forget_access(&key.run_id);
        self.hub.emit(
            &key.run_id,
            RunEvent::new("error", &server_error(STOPPED_MESSAGE)),
        );
    }

    async fn drive_once(
        self: &Arc<Self>,
        key: &RunKey,
        signals: watch::Receiver<Signal>,
    ) -> StoreResult<()> {
        let now = unix_now();
        let started = self
            .transition(key, RunStatus::Queued, Writer::Holder, false, |run| {
                run.status = RunStatus::InProgress;
                run.started_at = Some(now);
            })
            .await?;
        let run = match started {
            Ok(run) => run,
            // Cancelled while queued; any other status is another task's run (only the
            // task that moved it out of `queued` works on it).
            Err(run) if run.status == RunStatus::Cancelling => {
                let mut open = self.open_steps(key).await?;
                return self.finish_cancelled(key, &mut open).await;
            }
            Err(_) => return Ok(()),
        };
        // Counted durably before the model is called: a turn that takes the process
        // down is seen by the next restart's recovery (see `MAX_RUN_ATTEMPTS`).
        self.store.start_attempt(&key.tenant, &key.run_id).await?;
        self.emit(&key.run_id, "thread.run.in_progress", &run.for_stream());
        self.turn(key, run, signals).await
    }

    /// The run's steps still `in_progress` (a turn's half-written ones).
    pub(super) async fn open_steps(&self, key: &RunKey) -> StoreResult<Vec<RunStep>> {
        let steps = self.store.steps_of_run(&key.tenant, &key.run_id).await?;
        Ok(steps
            .into_iter()
            .filter(|step| step.status == StepStatus::InProgress)
            .collect())
    }

    /// Ends a run as `cancelled`, cancelling its unfinished steps.
    ///
    /// Only a `cancelling` run ends: the cancel handler (for a run waiting for outputs),
    /// the run's own task and an instance taking the run over may all get here, and the
    /// run must end, and say so, once.
    pub async fn finish_cancelled(&self, key: &RunKey, open: &mut [RunStep]) -> StoreResult<()> {
        let now = unix_now();
        for step in open.iter_mut() {
            step.status = StepStatus::Cancelled;
            step.cancelled_at = Some(now);
            self.store.update_step(&key.tenant, step).await?;
            self.emit(&key.run_id, "thread.run.step.cancelled", step);
        }
        let mut ended = false;
        let run = self
            .mutate_worked(key, |run| {
                ended = run.status == RunStatus::Cancelling;
                if !ended {
                    return false;
                }
                run.status = RunStatus::Cancelled;
                run.cancelled_at = Some(now);
                run.expires_at = None;
                run.required_action = None;
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
            step.status = StepStatus::Failed;
            step.failed_at = Some(now);
            step.last_error = Some(error.clone());
            self.store.update_step(&key.tenant, step).await?;
            self.emit(&key.run_id, "thread.run.step.failed", step);
        }
        let mut cancelled = false;
        let run = self
            .mutate_worked(key, |run| {
                cancelled = run.status == RunStatus::Cancelling;
                if cancelled {
                    return false;
                }
                run.status = RunStatus::Failed;
                run.failed_at = Some(now);
                run.expires_at = None;
                run.last_error = Some(error.clone());
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

    /// Ends a `requires_action` run that got no outputs in time as `expired`; true when
    /// the run is expired now (by this call or an earlier one).
    ///
    /// Its open steps expire first, so a client that sees the run expired sees them
    /// expired too: once a run is due, tool outputs and cancels are refused (they expire
    /// it instead, see [`due`]), so nothing else writes those steps meanwhile.
    pub async fn expire_if_waiting(&self, key: &RunKey) -> StoreResult<bool> {
        let now = unix_now();
        let run = self
            .store
            .get_run(&key.tenant, &key.thread_id, &key.run_id)
            .await?;
        if !due(&run, now) {
            return Ok(run.status == RunStatus::Expired);
        }
        for mut step in self.open_steps(key).await? {
            step.status = StepStatus::Expired;
            self.store.update_step(&key.tenant, &step).await?;
        }
        // The instance that rested the run and one that claimed it may both get here.
        let mut expired = false;
        let run = self
            .mutate_worked(key, |run| {
                expired = due(run, now);
                if !expired {
                    return false;
                }
                run.status = RunStatus::Expired;
                run.expires_at = None;
                run.required_action = None;
                true
            })
            .await?;
        if expired {
            self.forget_access(&key.run_id);
            self.emit(&key.run_id, "thread.run.expired", &run.for_stream());
        }
        Ok(run.status == RunStatus::Expired)
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

    /// Puts the run into `requires_action` for `calls` and arms its expiry.
    pub(super) async fn await_outputs(
        self: &Arc<Self>,
        key: &RunKey,
        calls: Vec<Value>,
    ) -> StoreResult<()> {
        // The turn comes to rest: the next one (after the outputs) counts afresh. Cleared
        // before the run rests, so neither a client that sees the run waiting nor the
        // next turn (started at once by outputs sent to any instance) finds the old count.
        self.store.clear_attempts(&key.tenant, &key.run_id).await?;
        let mut cancelled_meanwhile = false;
        let run = self
            .mutate_worked(key, |run| {
                cancelled_meanwhile = run.status == RunStatus::Cancelling;
                if cancelled_meanwhile {
                    return false;
                }
                run.status = RunStatus::RequiresAction;
                run.required_action = Some(json!({"type": "submit_tool_outputs",
                    "submit_tool_outputs": {"tool_calls": calls.clone()}}));
                true
            })
            .await?;
        if cancelled_meanwhile {
            let mut open = self.open_steps(key).await?;
            return self.finish_cancelled(key, &mut open).await;
        }
        self.emit(&key.run_id, "thread.run.requires_action", &run.for_stream());
        if let Some(expires_at) = run.expires_at {
            self.schedule_expiry(key.clone(), expires_at);
        }
        Ok(())
    }

    /// Ends the run as `incomplete` with `incomplete_details.reason`.
    pub(super) async fn end_incomplete(
        &self,
        key: &RunKey,
        reason: &str,
        usage: Option<RunUsage>,
    ) -> StoreResult<()> {
        let now = unix_now();
        let run = self
            .mutate_worked(key, |run| {
                run.status = RunStatus::Incomplete;
                run.completed_at = Some(now);
                run.expires_at = None;
                run.incomplete_details = Some(json!({"reason": reason}));
                run.usage = usage.or(Some(RunUsage::default()));
                true
            })
            .await?;
        self.forget_access(&key.run_id);
        self.emit(&key.run_id, "thread.run.incomplete", &run.for_stream());
        Ok(())
    }
}
