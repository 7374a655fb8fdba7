//! The ingestion leases this process holds, and its keeper task: every third of a
//! lease it renews them all in one write, and every [`InstanceConfig::sweep`] (and as
//! soon as a worker frees up) it claims files nobody ingests, as many as it has free
//! workers. A process that dies stops renewing, so the other instances' sweeps take its
//! files over once the leases ran out; one that shuts down hands them back at once.
//!
//! [`InstanceConfig::sweep`]: crate::runs::instance::InstanceConfig::sweep

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::{AbortHandle, JoinHandle};
use tokio::time::Instant;

use super::Ingestor;
use crate::store::vector_stores::AttachmentKey;
use crate::store::StoreResult;
use crate::vector_stores::model::VectorStoreFile;

/// One file whose lease this process holds, and the task ingesting it.
struct HeldFile {
    key: AttachmentKey,
    /// Tells this attachment from a later re-attachment of the same file.
    created_at: i64,
    /// `None` only while the task is being spawned.
    task: Option<AbortHandle>,
}

/// The files this process holds leases on, by task.
#[derive(Default)]
pub(super) struct Held {
    files: Mutex<HashMap<u64, HeldFile>>,
    next: AtomicU64,
    /// Told when a file's task ends: a worker may be free for the sweep to fill.
    freed: Notify,
}

impl Held {
    fn files(&self) -> MutexGuard<'_, HashMap<u64, HeldFile>> {
        // A panic while the map was locked left it whole: every change is one call.
        self.files
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// How many files are held.
    pub(super) fn len(&self) -> usize {
        self.files().len()
    }

    /// Whether this attachment of `file` is already being ingested here.
    pub(super) fn contains(&self, file: &VectorStoreFile) -> bool {
        let key = AttachmentKey::of(file);
        self.files()
            .values()
            .any(|held| held.key == key && held.created_at == file.created_at)
    }

    /// The attachments held, for a renewal.
    fn keys(&self) -> Vec<AttachmentKey> {
        let mut keys: Vec<AttachmentKey> =
            self.files().values().map(|held| held.key.clone()).collect();
        keys.sort_by(|a, b| {
            (&a.vector_store_id, &a.file_id).cmp(&(&b.vector_store_id, &b.file_id))
        });
        keys.dedup();
        keys
    }

    /// Holds the attachment `key` of `created_at` while the task `start` spawns runs; the task keeps the guard it is
    /// given until it ends.
    pub(super) fn hold(
        self: &Arc<Self>,
        key: AttachmentKey,
        created_at: i64,
        start: impl FnOnce(HeldGuard) -> JoinHandle<()>,
    ) {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let entry = HeldFile {
            key,
            created_at,
            task: None,
        };
        // In before the task starts, so its guard always finds the entry to remove.
        self.files().insert(id, entry);
        let guard = HeldGuard {
            id,
            held: Arc::downgrade(self),
        };
        let task = start(guard).abort_handle();
        if let Some(entry) = self.files().get_mut(&id) {
            entry.task = Some(task);
        }
    }

    /// Aborts every held file's task; how many there were.
    fn abort_all(&self) -> usize {
        let tasks: Vec<AbortHandle> = self
            .files()
            .values()
            .filter_map(|f| f.task.clone())
            .collect();
        for task in &tasks {
            task.abort();
        }
        tasks.len()
    }
}

/// Held by a file's task: ending (or being aborted) removes the file from [`Held`].
pub(super) struct HeldGuard {
    id: u64,
    held: Weak<Held>,
}

impl Drop for HeldGuard {
    fn drop(&mut self) {
        if let Some(held) = self.held.upgrade() {
            held.files().remove(&self.id);
            held.freed.notify_one();
        }
    }
}

impl Ingestor {
    /// Joins the instances on the database: claims the files nobody ingests (after a
    /// restart, those of this instance's previous life among them), then starts the
    /// keeper task, which ends when the queue is dropped.
    pub async fn join_instances(self: &Arc<Self>) -> StoreResult<JoinHandle<()>> {
        let resumed = self.resume().await?;
        if resumed > 0 {
            tracing::info!(files = resumed, "resumed ingesting files nobody ingested");
        }
        Ok(self.spawn_keeper())
    }

    /// Starts the keeper task alone (see the module documentation).
    pub fn spawn_keeper(self: &Arc<Self>) -> JoinHandle<()> {
        let ingestor = Arc::downgrade(self);
        let held = Arc::clone(&self.held);
        let (sweep, lease) = (self.instance.sweep, self.instance.lease);
        tokio::spawn(async move {
            let mut next_renewal = Instant::now() + lease / 3;
            loop {
                tokio::select! {
                    () = tokio::time::sleep(sweep) => {}
                    () = held.freed.notified() => {}
                }
                let Some(ingestor) = ingestor.upgrade() else {
                    return;
                };
                if ingestor.stopped.load(Ordering::SeqCst) {
                    return;
                }
                // A database that does not answer must not hold the keeper past a lease.
                let bound = lease / 3;
                if Instant::now() >= next_renewal {
                    next_renewal = Instant::now() + lease / 3;
                    ingestor.renew(bound).await;
                }
                ingestor.sweep(bound).await;
            }
        })
    }

    /// Stops ingesting here without touching the database: every queued or running
    /// ingestion is aborted and nothing new is taken, as when the process dies (their
    /// leases run out, then other instances take the files over); how many it stopped.
    pub fn stop(&self) -> usize {
        self.stopped.store(true, Ordering::SeqCst);
        self.held.abort_all()
    }

    /// Stops ingesting here and releases this process's ingestion leases, so other
    /// instances take those files at once (shutdown); how many it released.
    pub async fn hand_back(&self) -> StoreResult<u64> {
        let stopped = self.stop();
        let released = self.store.release_ingestion(&self.instance.holder).await?;
        tracing::info!(
            stopped,
            released,
            "handed ingestion back to the other instances"
        );
        Ok(released)
    }

    /// Extends the leases of the files held here.
    async fn renew(&self, bound: Duration) {
        let keys = self.held.keys();
        if keys.is_empty() {
            return;
        }
        let renewal =
            self.store
                .renew_ingestion(&self.instance.holder, &keys, self.instance.lease_ms());
        match tokio::time::timeout(bound, renewal).await {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => tracing::warn!(%error, "renewing ingestion leases failed"),
            Err(_) => tracing::warn!("renewing ingestion leases timed out"),
        }
    }

    /// Claims files nobody ingests into the free workers.
    async fn sweep(&self, bound: Duration) {
        match tokio::time::timeout(bound, self.resume()).await {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => tracing::warn!(%error, "claiming files to ingest failed"),
            Err(_) => tracing::warn!("claiming files to ingest timed out"),
        }
    }
}
