//! Expiry of files (`expires_after`) and uploads (one hour). Both are applied lazily,
//! before each file or upload request, at startup and by the periodic housekeeping
//! sweep (`crate::files::housekeeping`), so abandoned uploads release their parts'
//! bytes even when nobody asks about them again.

use crate::files::housekeeping::discard;
use crate::files::BlobStore;
use crate::ids::unix_now;
use crate::models::upload::Upload;
use crate::models::UploadStatus;
use crate::store::{BlobKind, PendingBlob, Store, StoreError, StoreResult, Tenant};

/// Deletes every expired file: its record first (so it vanishes from the API at once,
/// and from vector stores), then its bytes (queued, so a failure is retried).
pub async fn remove_expired_files(store: &dyn Store, data: &dyn BlobStore) -> StoreResult<()> {
    for blob in store.take_expired_files(unix_now()).await? {
        discard(store, data, &blob).await;
    }
    Ok(())
}

/// Marks every pending upload whose hour is over as `expired` and drops its parts.
pub async fn expire_overdue_uploads(store: &dyn Store, data: &dyn BlobStore) -> StoreResult<()> {
    for (tenant, upload) in store.overdue_uploads(unix_now()).await? {
        expire_upload(store, data, &tenant, upload).await?;
    }
    Ok(())
}

/// Whether a pending upload has outlived its hour.
pub fn is_overdue(upload: &Upload, now: i64) -> bool {
    upload.status == UploadStatus::Pending && now >= upload.expires_at
}

/// Turns an overdue pending upload into an `expired` one; returns it as now stored.
pub async fn expire_upload(
    store: &dyn Store,
    data: &dyn BlobStore,
    tenant: &Tenant,
    mut upload: Upload,
) -> StoreResult<Upload> {
    upload.status = UploadStatus::Expired;
    match store.end_pending_upload(tenant, &upload).await {
        // Completed or cancelled meanwhile: what is stored now is the truth.
        Err(StoreError::Conflict(_)) => {
            return Ok(store.get_upload(tenant, &upload.id).await?.upload)
        }
        other => other?,
    }
    discard(store, data, &upload_blob(tenant, &upload.id)).await;
    Ok(upload)
}

/// The queued removal of an ended upload's parts.
pub fn upload_blob(tenant: &Tenant, upload_id: &str) -> PendingBlob {
    PendingBlob {
        tenant: tenant.clone(),
        kind: BlobKind::Upload,
        id: upload_id.to_owned(),
    }
}

/// Startup housekeeping: the blob store must answer (a wrong bucket or credentials stop
/// the start, not the first upload); half-written temporary files of a previous process
/// go, as do files and uploads that expired while the server was down and bytes whose
/// removal a previous process could not finish.
pub async fn clean_up_at_startup(store: &dyn Store, data: &dyn BlobStore) -> StoreResult<()> {
    let unusable = |e| StoreError::Unsupported(format!("file bytes in {}: {e}", data.describe()));
    data.check().await.map_err(unusable)?;
    data.sweep_temporary(std::time::Duration::ZERO)
        .await
        .map_err(unusable)?;
    crate::files::housekeeping::sweep_records(store, data).await
}
