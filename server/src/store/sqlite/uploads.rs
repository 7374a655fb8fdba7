//! SQLite queries for uploads and their parts.

use async_trait::async_trait;
use sqlx::SqliteConnection;

use super::files::{check_quota, insert_file_row, queue_blob};
use super::{from_document, to_document, SqliteStore};
use crate::models::file::FileObject;
use crate::models::upload::{Upload, UploadPart};
use crate::models::UploadStatus;
use crate::store::{BlobKind, StoreError, StoreResult, Tenant, UploadRecord, UploadStore};

#[async_trait]
impl UploadStore for SqliteStore {
    async fn insert_upload(&self, tenant: &Tenant, record: &UploadRecord) -> StoreResult<()> {
        let upload = &record.upload;
        sqlx::query(
            "INSERT INTO uploads (id, tenant, status, expires_at, file_expires_after, data) \
             VALUES (?, ?, ?, ?, ?, ?)",
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
            "SELECT data, file_expires_after FROM uploads WHERE tenant = ? AND id = ?",
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
        // Status, declared size and quota are checked in the write transaction that adds
        // the part, so concurrent parts, a cancel or a complete cannot slip in between.
        let mut tx = self.begin_write().await?;
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT status, data FROM uploads WHERE tenant = ? AND id = ?")
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
        check_quota(&mut tx, tenant, bytes, quota).await?;
        sqlx::query(
            "INSERT INTO upload_parts (id, tenant, upload_id, bytes, data) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&part.id)
        .bind(tenant.as_str())
        .bind(&part.upload_id)
        .bind(i64::try_from(bytes).unwrap_or(i64::MAX))
        .bind(to_document(part)?)
        .execute(&mut *tx)
        .await?;
        Ok(tx.commit().await?)
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
            "SELECT data, bytes FROM upload_parts WHERE tenant = ? AND upload_id = ? ORDER BY seq",
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
        let mut tx = self.begin_write().await?;
        end_pending(&mut tx, tenant, upload).await?;
        insert_file_row(&mut tx, tenant, file).await?;
        drop_parts(&mut tx, tenant, &upload.id).await?;
        Ok(tx.commit().await?)
    }

    async fn end_pending_upload(&self, tenant: &Tenant, upload: &Upload) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        end_pending(&mut tx, tenant, upload).await?;
        drop_parts(&mut tx, tenant, &upload.id).await?;
        Ok(tx.commit().await?)
    }

    async fn overdue_uploads(&self, now: i64) -> StoreResult<Vec<(Tenant, Upload)>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT tenant, data FROM uploads WHERE status = ? AND expires_at <= ? ORDER BY seq",
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

/// Stores `upload`'s new (final) state if it is still pending in the database, so a
/// concurrent complete and cancel cannot both succeed.
async fn end_pending(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    tenant: &Tenant,
    upload: &Upload,
) -> StoreResult<()> {
    let result = sqlx::query(
        "UPDATE uploads SET status = ?, data = ? WHERE tenant = ? AND id = ? AND status = ?",
    )
    .bind(upload.status.as_str())
    .bind(to_document(upload)?)
    .bind(tenant.as_str())
    .bind(&upload.id)
    .bind(UploadStatus::Pending.as_str())
    .execute(&mut **tx)
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
async fn drop_parts(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    tenant: &Tenant,
    upload_id: &str,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM upload_parts WHERE tenant = ? AND upload_id = ?")
        .bind(tenant.as_str())
        .bind(upload_id)
        .execute(&mut **tx)
        .await?;
    queue_blob(tx, tenant, BlobKind::Upload, upload_id).await
}

/// Total bytes of an upload's parts.
async fn parts_bytes(
    conn: &mut SqliteConnection,
    tenant: &Tenant,
    upload_id: &str,
) -> StoreResult<u64> {
    let total: i64 = sqlx::query_scalar(
        "SELECT COALESCE(SUM(bytes), 0) FROM upload_parts WHERE tenant = ? AND upload_id = ?",
    )
    .bind(tenant.as_str())
    .bind(upload_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(u64::try_from(total).unwrap_or(0))
}
