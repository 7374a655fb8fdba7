//! Expiry of files (`expires_after`) and uploads (one hour). Both are applied lazily,
//! before each file or upload request, and once at startup; no timer is needed since
//! nothing observes an expired object but a request.

use crate::files::DataDir;
use crate::ids::unix_now;
use crate::models::upload::{status, Upload};
use crate::store::{Store, StoreError, StoreResult, Tenant};

/// Deletes every expired file: its record first (so it vanishes from the API at once),
/// then its bytes.
pub async fn remove_expired_files(store: &dyn Store, data: &DataDir) -> StoreResult<()> {
    for (tenant, file_id) in store.take_expired_files(unix_now()).await? {
        if let Err(error) = data.remove_file(&tenant, &file_id).await {
            tracing::warn!(%file_id, %error, "could not remove an expired file's bytes");
        }
    }
    Ok(())
}

/// Marks every pending upload whose hour is over as `expired` and drops its parts.
pub async fn expire_overdue_uploads(store: &dyn Store, data: &DataDir) -> StoreResult<()> {
    for (tenant, upload) in store.overdue_uploads(unix_now()).await? {
        expire_upload(store, data, &tenant, upload).await?;
    }
    Ok(())
}

/// Whether a pending upload has outlived its hour.
pub fn is_overdue(upload: &Upload, now: i64) -> bool {
    upload.status == status::PENDING && now >= upload.expires_at
}

/// Turns an overdue pending upload into an `expired` one; returns it as now stored.
pub async fn expire_upload(
    store: &dyn Store,
    data: &DataDir,
    tenant: &Tenant,
    mut upload: Upload,
) -> StoreResult<Upload> {
    upload.status = status::EXPIRED.to_owned();
    match store.end_pending_upload(tenant, &upload).await {
        // Completed or cancelled meanwhile: what is stored now is the truth.
        Err(StoreError::Conflict(_)) => {
            return Ok(store.get_upload(tenant, &upload.id).await?.upload)
        }
        other => other?,
    }
    if let Err(error) = data.remove_upload(tenant, &upload.id).await {
        tracing::warn!(upload_id = %upload.id, %error, "could not remove an expired upload's parts");
    }
    Ok(upload)
}

/// Startup housekeeping: half-written temporary files of a previous process go, as do
/// files and uploads that expired while the server was down.
pub async fn clean_up_at_startup(store: &dyn Store, data: &DataDir) -> StoreResult<()> {
    data.clear_temporary()
        .await
        .map_err(|e| StoreError::Backend(format!("clearing {}: {e}", data.root().display())))?;
    remove_expired_files(store, data).await?;
    expire_overdue_uploads(store, data).await
}
