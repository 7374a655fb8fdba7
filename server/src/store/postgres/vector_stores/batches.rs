//! Cancelling a file batch on PostgreSQL.

use super::super::{from_document, settle, to_document, PgStore};
use super::chunks::guard_store;
use crate::models::{FileBatchStatus, VectorStoreFileStatus};
use crate::store::{StoreError, StoreResult, Tenant};
use crate::vector_stores::model::{FileBatch, VectorStoreFile};

/// Cancels a batch and its files still `in_progress` (leases cleared), in one
/// transaction under the store's guard.
pub(super) async fn cancel_file_batch(
    store: &PgStore,
    tenant: &Tenant,
    vector_store_id: &str,
    batch_id: &str,
) -> StoreResult<()> {
    let mut tx = store.begin().await?;
    let result: StoreResult<()> = async {
        if guard_store(&mut tx, tenant, vector_store_id)
            .await?
            .is_none()
        {
            return Err(StoreError::NotFound);
        }
        let data: Option<String> = sqlx::query_scalar(
            "SELECT data FROM vector_store_file_batches \
             WHERE tenant = $1 AND vector_store_id = $2 AND id = $3 FOR UPDATE",
        )
        .bind(tenant.as_str())
        .bind(vector_store_id)
        .bind(batch_id)
        .fetch_optional(&mut *tx)
        .await?;
        let mut batch: FileBatch = from_document(&data.ok_or(StoreError::NotFound)?)?;
        batch.status = FileBatchStatus::Cancelled;
        sqlx::query("UPDATE vector_store_file_batches SET data = $1 WHERE tenant = $2 AND id = $3")
            .bind(to_document(&batch)?)
            .bind(tenant.as_str())
            .bind(batch_id)
            .execute(&mut *tx)
            .await?;
        // Locked, so an ingestion finishing meanwhile either came first (its file is no
        // longer in progress here) or waits and then finds it cancelled.
        let pending: Vec<(i64, String)> = sqlx::query_as(
            "SELECT seq, data FROM vector_store_files WHERE tenant = $1 \
             AND vector_store_id = $2 AND batch_id = $3 AND status = 'in_progress' \
             ORDER BY seq FOR UPDATE",
        )
        .bind(tenant.as_str())
        .bind(vector_store_id)
        .bind(batch_id)
        .fetch_all(&mut *tx)
        .await?;
        for (seq, data) in pending {
            // The document changes only in its status, keys in place (no jsonb).
            let mut file: VectorStoreFile = from_document(&data)?;
            file.status = VectorStoreFileStatus::Cancelled;
            sqlx::query(
                "UPDATE vector_store_files SET status = 'cancelled', data = $1, \
                 lease_owner = NULL, lease_process = NULL, lease_expires_at = NULL \
                 WHERE seq = $2",
            )
            .bind(to_document(&file)?)
            .bind(seq)
            .execute(&mut *tx)
            .await?;
        }
        Ok(())
    }
    .await;
    settle(tx, result).await
}
