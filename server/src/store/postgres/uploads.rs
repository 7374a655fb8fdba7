//! PostgreSQL queries for uploads and their parts.
//!
//! An upload's row is the lock for everything about it: adding a part reads it
//! `FOR UPDATE` (so concurrent parts of one upload are summed one after the other
//! against its declared size, and a complete or cancel waits for the part or makes it
//! see a non-pending upload), and completing or cancelling updates it only while it is
//! still pending. The quota is the tenant's storage lock ([`lock_storage`]), always
//! taken after the upload's row.

use async_trait::async_trait;
use sqlx::PgConnection;

use super::files::{check_quota, insert_file_row, lock_storage, queue_blob};
use super::{from_document, settle, to_document, PgStore};
use crate::models::file::FileObject;
use crate::models::upload::{Upload, UploadPart};
use crate::models::UploadStatus;
use crate::store::{BlobKind, StoreError, StoreResult, Tenant, UploadRecord, UploadStore};

#[async_trait]
impl UploadStore for PgStore {
    async fn insert_upload(&self, tenant: &Tenant, record: &UploadRecord) -> StoreResult<()> {
        let upload = &record.upload;
        sqlx::query(
            "INSERT INTO uploads (id, tenant, status, expires_at, file_expires_after, data) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&upload.id)
        .bind(tenant.as_str())
        .bind(upload.status.as_str())
        .bind(upload.expires_at)
        .bind(record.file_expires_after)
        .bind(to_document(upload)?)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn get_upload(&self, tenant: &Tenant, id: &str) -> StoreResult<UploadRecord> {
        let row: Option<(String, Option<i64>)> = sqlx::query_as(
            "SELECT data, file_expires_after FROM uploads WHERE tenant = $1 AND id = $2",
        )
        .bind(tenant.as_str())
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let (data, file_expires_after) = row.ok_or(StoreError::NotFound)?;
        Ok(UploadRecord {
            upload: from_document(&data)?,
            file_expires_after,
        })
    }

    async fn insert_part(
        &self,
        tenant: &Tenant,
        part: &UploadPart,
        bytes: u64,
        quota: Option<u64>,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let result: StoreResult<()> = async {
            // FOR UPDATE: the upload's parts and status stay as read until this commits.
            let row: Option<(String, String)> = sqlx::query_as(
                "SELECT status, data FROM uploads WHERE tenant = $1 AND id = $2 FOR UPDATE",
            )
            .bind(tenant.as_str())
            .bind(&part.upload_id)
            .fetch_optional(&mut *tx)
            .await?;
            let pending = match row {
                Some((state, data)) => {
                    (state.parse::<UploadStatus>()? == UploadStatus::Pending).then_some(data)
                }
                None => None,
            };
            let Some(data) = pending else {
                return Err(StoreError::Conflict(format!(
                    "upload {} is not pending",
                    part.upload_id
                )));
            };
            let upload: Upload = from_document(&data)?;
            let total = parts_bytes(&mut tx, tenant, &part.upload_id)
                .await?
                .saturating_add(bytes);
            if total > upload.bytes {
                return Err(StoreError::PastDeclared {
                    declared: upload.bytes,
                    total,
                });
            }
            lock_storage(&mut tx, tenant).await?;
            check_quota(&mut tx, tenant, bytes, quota).await?;
            sqlx::query(
                "INSERT INTO upload_parts (id, tenant, upload_id, bytes, data) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&part.id)
            .bind(tenant.as_str())
            .bind(&part.upload_id)
            .bind(i64::try_from(bytes).unwrap_or(i64::MAX))
            .bind(to_document(part)?)
            .execute(&mut *tx)
            .await?;
            Ok(())
        }
        .await;
        settle(tx, result).await
    }

    async fn upload_parts_bytes(&self, tenant: &Tenant, upload_id: &str) -> StoreResult<u64> {
        let mut conn = self.pool.acquire().await?;
        parts_bytes(&mut conn, tenant, upload_id).await
    }

    async fn parts_of_upload(
        &self,
        tenant: &Tenant,
        upload_id: &str,
    ) -> StoreResult<Vec<(UploadPart, u64)>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT data, bytes FROM upload_parts WHERE tenant = $1 AND upload_id = $2 \
             ORDER BY seq",
        )
        .bind(tenant.as_str())
        .bind(upload_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|(data, bytes)| Ok((from_document(data)?, u64::try_from(*bytes).unwrap_or(0))))
            .collect()
    }

    async fn complete_upload(
        &self,
        tenant: &Tenant,
        upload: &Upload,
        file: &FileObject,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let result: StoreResult<()> = async {
            end_pending(&mut tx, tenant, upload).await?;
            // The parts' bytes become the file's: the tenant's total moves under the lock.
            lock_storage(&mut tx, tenant).await?;
            insert_file_row(&mut tx, tenant, file).await?;
            drop_parts(&mut tx, tenant, &upload.id).await?;
            Ok(())
        }
        .await;
        settle(tx, result).await
    }

    async fn end_pending_upload(&self, tenant: &Tenant, upload: &Upload) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let result: StoreResult<()> = async {
            end_pending(&mut tx, tenant, upload).await?;
            drop_parts(&mut tx, tenant, &upload.id).await?;
            Ok(())
        }
        .await;
        settle(tx, result).await
    }

    async fn overdue_uploads(&self, now: i64) -> StoreResult<Vec<(Tenant, Upload)>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT tenant, data FROM uploads WHERE status = $1 AND expires_at <= $2 \
             ORDER BY seq",
        )
        .bind(UploadStatus::Pending.as_str())
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|(tenant, data)| Ok((Tenant::from_stored(tenant.clone()), from_document(data)?)))
            .collect()
    }
}

/// Stores `upload`'s new (final) state if it is still pending: the update waits for any
/// transaction holding the row and re-reads its status, so a concurrent complete and
/// cancel cannot both succeed.
async fn end_pending(conn: &mut PgConnection, tenant: &Tenant, upload: &Upload) -> StoreResult<()> {
    let result = sqlx::query(
        "UPDATE uploads SET status = $1, data = $2 \
         WHERE tenant = $3 AND id = $4 AND status = $5",
    )
    .bind(upload.status.as_str())
    .bind(to_document(upload)?)
    .bind(tenant.as_str())
    .bind(&upload.id)
    .bind(UploadStatus::Pending.as_str())
    .execute(&mut *conn)
    .await?;
    if result.rows_affected() == 0 {
        return Err(StoreError::Conflict(format!(
            "upload {} is not pending",
            upload.id
        )));
    }
    Ok(())
}

/// Forgets the part rows of an upload that has ended and queues their bytes for removal
/// (the caller removes them after committing; the housekeeping sweep retries).
async fn drop_parts(conn: &mut PgConnection, tenant: &Tenant, upload_id: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM upload_parts WHERE tenant = $1 AND upload_id = $2")
        .bind(tenant.as_str())
        .bind(upload_id)
        .execute(&mut *conn)
        .await?;
    queue_blob(conn, tenant, BlobKind::Upload, upload_id).await
}

/// Total bytes of an upload's parts.
async fn parts_bytes(
    conn: &mut PgConnection,
    tenant: &Tenant,
    upload_id: &str,
) -> StoreResult<u64> {
    let total: i64 = sqlx::query_scalar(
        "SELECT COALESCE(SUM(bytes), 0)::BIGINT FROM upload_parts \
         WHERE tenant = $1 AND upload_id = $2",
    )
    .bind(tenant.as_str())
    .bind(upload_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(u64::try_from(total).unwrap_or(0))
}
