//! This process among the server instances sharing one database. Each instance has an
//! id; the runs it works on are leased to it (see [`crate::store::leases`]). Its
//! keeper task, every [`InstanceConfig::poll`]: reads the status and lease of the runs
//! it works on in one query (a cancel written by any instance stops the model here; a
//! run another instance took over stops here without writing more), renews their
//! leases every third of a lease, and every [`InstanceConfig::sweep`] claims runs
//! nobody works on (leases run out, handed back, or due to expire) and takes them
//! over. On shutdown the instance stops claiming, lets open streams finish their runs,
//! then hands the runs it still works on back: it stops working on them and releases
//! their leases, so another instance takes them over at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::signals::Signal;
use super::RunEngine;
use crate::models::RunStatus;
use crate::store::{ClaimScope, LeaseHolder, StoreResult};

/// How long a lease lasts unless renewed, unless configured otherwise.
pub const DEFAULT_RUN_LEASE: Duration = Duration::from_secs(10);
/// How often an instance reads the status of the runs it works on (cancel latency).
pub const DEFAULT_POLL: Duration = Duration::from_millis(250);
/// How often an instance looks for runs nobody works on.
pub const DEFAULT_SWEEP: Duration = Duration::from_secs(1);
/// How long a shutting-down instance waits for its run tasks to stop writing before it
/// releases their leases anyway.
const HAND_BACK_WAIT: Duration = Duration::from_secs(10);

/// Who this process is among the instances, and its timings.
#[derive(Debug, Clone)]
pub struct InstanceConfig {
    /// The lease holder this process writes: the instance id and this process's life.
    pub holder: LeaseHolder,
    /// How long a lease lasts unless renewed (`--run-lease-secs`): how long the runs of
    /// a dead instance wait before another takes them over.
    pub lease: Duration,
    /// How often the runs worked on here are polled for cancels and lost leases.
    pub poll: Duration,
    /// How often runs nobody works on are claimed.
    pub sweep: Duration,
}

impl InstanceConfig {
    /// Instance `id` (unique among running instances) with leases of `lease`.
    pub fn new(id: impl Into<String>, lease: Duration) -> Self {
        Self {
            holder: LeaseHolder::new(id),
            lease,
            poll: DEFAULT_POLL,
            sweep: DEFAULT_SWEEP,
        }
    }

    /// The lease in milliseconds, as stored.
    pub fn lease_ms(&self) -> i64 {
        i64::try_from(self.lease.as_millis()).unwrap_or(i64::MAX)
    }
}

impl Default for InstanceConfig {
    /// A random instance id: nothing to take over from an earlier life.
    fn default() -> Self {
        let id: u64 = rand::random();
        Self::new(format!("instance-{id:016x}"), DEFAULT_RUN_LEASE)
    }
}

/// The default instance id: this host's name and the port the server listens on, which
/// no other running instance can have, and which a restarted instance keeps (so it takes
/// its previous life's runs over at once instead of waiting for their leases).
pub fn default_instance_id(port: u16) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    format!("{host}:{port}")
}

/// When the keeper last did what.
struct Keeper {
    /// When the last successful renewal was sent (leases last from then at least).
    renewed: Instant,
    next_renewal: Instant,
    next_sweep: Instant,
    /// Set while a sweep runs (in its own task, so a slow one never delays the polls).
    sweeping: Arc<AtomicBool>,
}

impl RunEngine {
    /// Joins the instances on the database: takes over the runs nobody works on (after
    /// a restart, those of this instance's previous life among them), then starts the
    /// keeper task, which ends when the engine is dropped or hands its runs back.
    pub async fn join_instances(self: &Arc<Self>) -> StoreResult<JoinHandle<()>> {
        self.take_over(ClaimScope::Claimable, usize::MAX).await?;
        Ok(self.spawn_keeper())
    }

    /// Starts the keeper task alone (see the module documentation).
    pub fn spawn_keeper(self: &Arc<Self>) -> JoinHandle<()> {
        let engine = Arc::downgrade(self);
        let poll = self.instance.poll;
        tokio::spawn(async move {
            let now = Instant::now();
            let mut keeper = Keeper {
                renewed: now,
                next_renewal: now,
                next_sweep: now,
                sweeping: Arc::new(AtomicBool::new(false)),
            };
            let mut ticker = tokio::time::interval(poll);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                let Some(engine) = engine.upgrade() else {
                    return;
                };
                if engine.worked.stopping() {
                    return;
                }
                engine.keep(&mut keeper).await;
            }
        })
    }

    /// Takes no more runs over (the sweeps stop; leases are still renewed and cancels
    /// still noticed): the instance is draining before it shuts down.
    pub fn stop_claiming(&self) {
        self.worked.stop_claiming();
    }

    /// Stops working on every run and releases their leases, so other instances take
    /// them over at once; returns how many leases it released. Streams of those runs
    /// on this instance end with an `error` event saying the run goes on.
    pub async fn hand_back(&self) -> StoreResult<u64> {
        let working = self.worked.stop_all();
        self.tasks.close();
        if tokio::time::timeout(HAND_BACK_WAIT, self.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("run tasks still busy after {HAND_BACK_WAIT:?}; releasing anyway");
        }
        let released = self.store.release_leases(&self.instance.holder).await?;
        tracing::info!(working, released, "handed runs back to the other instances");
        Ok(released)
    }

    async fn keep(self: &Arc<Self>, keeper: &mut Keeper) {
        // A database that does not answer must not hold the keeper past a lease.
        let bound = self.instance.lease / 3;
        match tokio::time::timeout(bound, self.poll_worked()).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%error, "polling the runs worked on failed"),
            Err(_) => tracing::warn!("polling the runs worked on timed out"),
        }
        let now = Instant::now();
        if now >= keeper.next_renewal {
            keeper.next_renewal = now + self.instance.lease / 3;
            self.renew(keeper, bound).await;
        }
        if now >= keeper.next_sweep && !keeper.sweeping.swap(true, Ordering::SeqCst) {
            keeper.next_sweep = now + self.instance.sweep;
            let engine = Arc::clone(self);
            let sweeping = Arc::clone(&keeper.sweeping);
            tokio::spawn(async move {
                engine.sweep().await;
                sweeping.store(false, Ordering::SeqCst);
            });
        }
    }

    /// Cancels the runs a request cancelled and stops those another instance holds now.
    async fn poll_worked(&self) -> StoreResult<()> {
        let worked = self.worked.snapshot();
        if worked.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = worked.iter().map(|(key, _)| key.run_id.clone()).collect();
        let watched = self.store.watch_runs(&ids).await?;
        for (key, generation) in worked {
            let Some(watch) = watched.iter().find(|w| w.run_id == key.run_id) else {
                // Deleted with its thread: nothing is left to work on.
                self.worked.stop_at(&key.run_id, generation);
                continue;
            };
            if watch.holder.as_ref() != Some(&self.instance.holder) {
                // Another instance took the run over (and may have finished it
                // already), or this one's task let it rest or end and is ending.
                self.worked.stop_at(&key.run_id, generation);
            } else if watch.status == RunStatus::Cancelling && self.worked.working(&key.run_id) {
                let run = self
                    .store
                    .get_run(&key.tenant, &key.thread_id, &key.run_id)
                    .await?;
                self.notice_cancel(&run);
            }
        }
        Ok(())
    }

    /// Renews the leases of the runs worked on here; when renewals failed for two
    /// thirds of a lease, stops working on them, as another instance may soon take them.
    async fn renew(&self, keeper: &mut Keeper, bound: Duration) {
        let ids: Vec<String> = self
            .worked
            .keys()
            .into_iter()
            .map(|key| key.run_id)
            .collect();
        let sent = Instant::now();
        if ids.is_empty() {
            keeper.renewed = sent;
            return;
        }
        let renewal =
            self.store
                .renew_leases(&self.instance.holder, &ids, self.instance.lease_ms());
        match tokio::time::timeout(bound, renewal).await {
            Ok(Ok(_)) => {
                keeper.renewed = sent;
                return;
            }
            Ok(Err(error)) => tracing::warn!(%error, "renewing run leases failed"),
            Err(_) => tracing::warn!("renewing run leases timed out"),
        }
        if sent.duration_since(keeper.renewed) > self.instance.lease * 2 / 3 {
            tracing::error!(
                runs = ids.len(),
                "run leases could not be renewed; stopped working on those runs"
            );
            for id in ids {
                self.worked.signal(&id, Signal::Stop);
            }
        }
    }

    /// Takes over runs nobody works on, as many as there are free run slots.
    async fn sweep(self: &Arc<Self>) {
        let free = self.limit.available_permits();
        if free == 0 || !self.worked.claiming() {
            return;
        }
        if let Err(error) = self.take_over(ClaimScope::Claimable, free).await {
            tracing::warn!(%error, "claiming runs failed");
        }
    }
}
