//! Keeping the blob store (data directory or bucket) in step with the records: queued byte removals are
//! retried until they succeed, expired files and overdue uploads are swept, and bytes
//! no record knows (orphans: a crash between writing bytes and recording them, a
//! failed clean-up) are removed. A background task does this every
//! `housekeeping_interval`; start-up does the record-driven part before serving.

use std::collections::hash_map::{Entry, HashMap};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::task::JoinHandle;

use crate::files::blobs::{BlobArea, BlobError, BlobKey, BlobStore, StoredBlob};
use crate::files::expiry::{expire_overdue_uploads, remove_expired_files};
use crate::models::UploadStatus;
use crate::store::{PendingBlob, Store, StoreError, StoreResult, Tenant};

/// Queued removals handled per store call.
const PENDING_BATCH: u32 = 256;
/// How old unrecorded bytes must be before they count as orphans: bytes are written
/// before their record, and a slow request may sit in between (or still be writing
/// to `tmp/`), so only bytes untouched this long are taken.
pub const ORPHAN_GRACE: Duration = Duration::from_secs(3_600);
/// How often the background task walks the blob store for orphans (the walk
/// looks every blob up, so it runs far less often than the record-driven sweeps).
pub const ORPHAN_SWEEP_EVERY: Duration = Duration::from_secs(3_600);
/// Default period of the background sweeps.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);

/// Removes queued bytes and forgets them; when removal fails (a read-only disk) the
/// entry stays queued for the next sweep and the failure is logged, never returned.
pub async fn discard(store: &dyn Store, data: &dyn BlobStore, blob: &PendingBlob) {
    match data.remove_blob(blob).await {
        Ok(()) => {
            if let Err(error) = store.forget_pending_blob(blob).await {
                tracing::warn!(id = %blob.id, %error, "bytes removed but still queued");
            }
        }
        Err(error) => {
            tracing::warn!(id = %blob.id, kind = blob.kind.as_str(), %error,
                "could not remove bytes; the housekeeping sweep will retry");
        }
    }
}

/// Retries every queued removal; returns how many are still queued after failing.
pub async fn remove_pending_blobs(store: &dyn Store, data: &dyn BlobStore) -> StoreResult<usize> {
    let mut failed = 0;
    loop {
        let batch = store.pending_blobs(PENDING_BATCH).await?;
        let mut removed_any = false;
        for blob in &batch {
            match data.remove_blob(blob).await {
                Ok(()) => {
                    store.forget_pending_blob(blob).await?;
                    removed_any = true;
                }
                Err(error) => {
                    failed += 1;
                    tracing::warn!(id = %blob.id, kind = blob.kind.as_str(), %error,
                        "still cannot remove bytes; retrying at the next sweep");
                }
            }
        }
        // A batch with failures would come back the same: stop until the next sweep.
        if batch.len() < PENDING_BATCH as usize || failed > 0 || !removed_any {
            return Ok(failed);
        }
    }
}

/// What one orphan walk removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct OrphanSweep {
    /// File bytes with no file record.
    pub files: usize,
    /// Upload parts with no pending upload (or no part record).
    pub parts: usize,
    /// Abandoned temporary files.
    pub temporary: usize,
}

/// Removes bytes older than `grace` that no record knows: files without a file record,
/// parts without a pending upload holding them, and stale temporary files.
pub async fn sweep_orphans(
    store: &dyn Store,
    data: &dyn BlobStore,
    grace: Duration,
) -> StoreResult<OrphanSweep> {
    let mut swept = OrphanSweep::default();
    for blob in data.list(BlobArea::Files).await.map_err(unusable(data))? {
        let BlobKey::File { tenant, id } = &blob.key else {
            continue;
        };
        if !is_older(&blob, grace) {
            continue;
        }
        match store.get_file(tenant, id).await {
            Err(StoreError::NotFound) => {
                if remove(data, &blob.key).await {
                    swept.files += 1;
                }
            }
            other => {
                other?;
            }
        }
    }
    // The parts each upload still holds, looked up once per upload.
    let mut held: HashMap<(Tenant, String), Vec<String>> = HashMap::new();
    for blob in data.list(BlobArea::Parts).await.map_err(unusable(data))? {
        let BlobKey::Part {
            tenant,
            upload_id,
            part_id,
        } = &blob.key
        else {
            continue;
        };
        if !is_older(&blob, grace) {
            continue;
        }
        let upload = (tenant.clone(), upload_id.clone());
        let parts = match held.entry(upload) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => entry.insert(held_parts(store, tenant, upload_id).await?),
        };
        if !parts.contains(part_id) && remove(data, &blob.key).await {
            swept.parts += 1;
        }
    }
    swept.temporary = data.sweep_temporary(grace).await.map_err(unusable(data))?;
    Ok(swept)
}

/// The parts a pending upload holds; none once it has ended or is gone.
async fn held_parts(
    store: &dyn Store,
    tenant: &Tenant,
    upload_id: &str,
) -> StoreResult<Vec<String>> {
    match store.get_upload(tenant, upload_id).await {
        Ok(record) if record.upload.status == UploadStatus::Pending => Ok(store
            .parts_of_upload(tenant, upload_id)
            .await?
            .into_iter()
            .map(|(part, _)| part.id)
            .collect()),
        Ok(_) | Err(StoreError::NotFound) => Ok(Vec::new()),
        Err(other) => Err(other),
    }
}

/// One round of the record-driven sweeps: expiry of files and uploads, then the queue.
pub async fn sweep_records(store: &dyn Store, data: &dyn BlobStore) -> StoreResult<()> {
    remove_expired_files(store, data).await?;
    expire_overdue_uploads(store, data).await?;
    remove_pending_blobs(store, data).await?;
    Ok(())
}

/// Starts the background sweeps every `interval` (none when it is zero); the orphan
/// walk runs at the first round and then every [`ORPHAN_SWEEP_EVERY`].
pub fn spawn(
    store: Arc<dyn Store>,
    data: Arc<dyn BlobStore>,
    interval: Duration,
) -> Option<JoinHandle<()>> {
    if interval.is_zero() {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_walk: Option<tokio::time::Instant> = None;
        loop {
            ticker.tick().await;
            if let Err(error) = sweep_records(store.as_ref(), data.as_ref()).await {
                tracing::warn!(%error, "housekeeping sweep failed");
            }
            if last_walk.is_none_or(|at| at.elapsed() >= ORPHAN_SWEEP_EVERY) {
                last_walk = Some(tokio::time::Instant::now());
                match sweep_orphans(store.as_ref(), data.as_ref(), ORPHAN_GRACE).await {
                    Ok(swept) if swept != OrphanSweep::default() => {
                        tracing::info!(?swept, "removed bytes no record knew");
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "orphan sweep failed"),
                }
            }
        }
    }))
}

/// The error of a blob store that could not be listed or swept.
fn unusable(data: &dyn BlobStore) -> impl Fn(BlobError) -> StoreError + '_ {
    move |error| StoreError::backend_while(format_args!("sweeping {}", data.describe()), error)
}

/// Whether `blob` was last written at least `grace` ago.
fn is_older(blob: &StoredBlob, grace: Duration) -> bool {
    SystemTime::now()
        .duration_since(blob.modified)
        .is_ok_and(|age| age >= grace)
}

/// Removes an orphan; whether it went.
async fn remove(data: &dyn BlobStore, key: &BlobKey) -> bool {
    match data.remove_orphan(key).await {
        Ok(()) => true,
        Err(error) => {
            tracing::warn!(?key, %error, "could not remove orphaned bytes");
            false
        }
    }
}
