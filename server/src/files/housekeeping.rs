//! Keeping the data directory in step with the records: queued byte removals are
//! retried until they succeed, expired files and overdue uploads are swept, and bytes
//! no record knows (orphans: a crash between writing bytes and recording them, a
//! failed clean-up) are removed. A background task does this every
//! `housekeeping_interval`; start-up does the record-driven part before serving.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::task::JoinHandle;

use crate::files::expiry::{expire_overdue_uploads, remove_expired_files};
use crate::files::DataDir;
use crate::models::upload::status;
use crate::store::{PendingBlob, Store, StoreError, StoreResult, Tenant};

/// Queued removals handled per store call.
const PENDING_BATCH: u32 = 256;
/// How old unrecorded bytes must be before they count as orphans: bytes are written
/// before their record, and a slow request may sit in between (or still be writing
/// to `tmp/`), so only bytes untouched this long are taken.
pub const ORPHAN_GRACE: Duration = Duration::from_secs(3_600);
/// How often the background task walks the data directory for orphans (the walk
/// looks every blob up, so it runs far less often than the record-driven sweeps).
pub const ORPHAN_SWEEP_EVERY: Duration = Duration::from_secs(3_600);
/// Default period of the background sweeps.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);

/// Removes queued bytes and forgets them; when removal fails (a read-only disk) the
/// entry stays queued for the next sweep and the failure is logged, never returned.
pub async fn discard(store: &dyn Store, data: &DataDir, blob: &PendingBlob) {
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
pub async fn remove_pending_blobs(store: &dyn Store, data: &DataDir) -> StoreResult<usize> {
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
    data: &DataDir,
    grace: Duration,
) -> StoreResult<OrphanSweep> {
    let mut swept = OrphanSweep::default();
    for (tenant, path) in tenant_entries(&data.files_root()).await? {
        let Some(id) = file_name(&path) else { continue };
        if !is_older(&path, grace).await {
            continue;
        }
        match store.get_file(&tenant, &id).await {
            Err(StoreError::NotFound) => {
                if remove(&path).await {
                    swept.files += 1;
                }
            }
            other => {
                other?;
            }
        }
    }
    for (tenant, dir) in tenant_entries(&data.uploads_root()).await? {
        let Some(upload_id) = file_name(&dir) else {
            continue;
        };
        let held: Vec<String> = match store.get_upload(&tenant, &upload_id).await {
            Ok(record) if record.upload.status == status::PENDING => store
                .parts_of_upload(&tenant, &upload_id)
                .await?
                .into_iter()
                .map(|(part, _)| part.id)
                .collect(),
            Ok(_) | Err(StoreError::NotFound) => Vec::new(),
            Err(other) => return Err(other),
        };
        for part in entries(&dir).await? {
            let known = file_name(&part).is_some_and(|id| held.contains(&id));
            if !known && is_older(&part, grace).await && remove(&part).await {
                swept.parts += 1;
            }
        }
        // Only succeeds once empty; a pending upload's folder is recreated when needed.
        let _ = tokio::fs::remove_dir(&dir).await;
    }
    for path in entries(&data.tmp_root()).await? {
        if is_older(&path, grace).await && remove(&path).await {
            swept.temporary += 1;
        }
    }
    Ok(swept)
}

/// One round of the record-driven sweeps: expiry of files and uploads, then the queue.
pub async fn sweep_records(store: &dyn Store, data: &DataDir) -> StoreResult<()> {
    remove_expired_files(store, data).await?;
    expire_overdue_uploads(store, data).await?;
    remove_pending_blobs(store, data).await?;
    Ok(())
}

/// Starts the background sweeps every `interval` (none when it is zero); the orphan
/// walk runs at the first round and then every [`ORPHAN_SWEEP_EVERY`].
pub fn spawn(
    store: Arc<dyn Store>,
    data: Arc<DataDir>,
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
            if let Err(error) = sweep_records(store.as_ref(), &data).await {
                tracing::warn!(%error, "housekeeping sweep failed");
            }
            if last_walk.is_none_or(|at| at.elapsed() >= ORPHAN_SWEEP_EVERY) {
                last_walk = Some(tokio::time::Instant::now());
                match sweep_orphans(store.as_ref(), &data, ORPHAN_GRACE).await {
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

/// The entries two levels below `root` (`root/<tenant>/<entry>`), with their tenant.
async fn tenant_entries(root: &Path) -> StoreResult<Vec<(Tenant, PathBuf)>> {
    let mut found = Vec::new();
    for tenant_dir in entries(root).await? {
        let Some(tenant) = file_name(&tenant_dir) else {
            continue;
        };
        let tenant = Tenant::from_stored(tenant);
        for entry in entries(&tenant_dir).await? {
            found.push((tenant.clone(), entry));
        }
    }
    Ok(found)
}

/// The entries of a folder; none when it does not exist (or is not a folder).
async fn entries(dir: &Path) -> StoreResult<Vec<PathBuf>> {
    let mut reader = match tokio::fs::read_dir(dir).await {
        Ok(reader) => reader,
        Err(error)
            if matches!(
                error.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(Vec::new())
        }
        Err(error) => return Err(io_failure(dir, error)),
    };
    let mut found = Vec::new();
    while let Some(entry) = reader
        .next_entry()
        .await
        .map_err(|error| io_failure(dir, error))?
    {
        found.push(entry.path());
    }
    Ok(found)
}

fn io_failure(path: &Path, error: std::io::Error) -> StoreError {
    StoreError::Backend(format!("reading {}: {error}", path.display()))
}

fn file_name(path: &Path) -> Option<String> {
    path.file_name()?.to_str().map(str::to_owned)
}

/// Whether `path` was last modified at least `grace` ago.
async fn is_older(path: &Path, grace: Duration) -> bool {
    let Ok(meta) = tokio::fs::symlink_metadata(path).await else {
        return false;
    };
    meta.modified()
        .ok()
        .and_then(|at| SystemTime::now().duration_since(at).ok())
        .is_some_and(|age| age >= grace)
}

/// Removes a file (or a folder someone put in its place); whether it went.
async fn remove(path: &Path) -> bool {
    let removed = match tokio::fs::symlink_metadata(path).await {
        Ok(meta) if meta.is_dir() => tokio::fs::remove_dir_all(path).await,
        Ok(_) => tokio::fs::remove_file(path).await,
        Err(_) => return false,
    };
    match removed {
        Ok(()) => true,
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "could not remove orphaned bytes");
            false
        }
    }
}
