//! PostgreSQL queries for file records, the tenant's storage use and the queue of bytes
//! waiting to be removed (`blob_deletions`).
//!
//! The storage quota spans rows (every file and pending part of a tenant), so each
//! transaction that adds stored bytes takes the tenant's `storage` advisory lock
//! ([`lock_storage`]) before summing them: two concurrent writes cannot both pass a check
//! that only one of them fits, as SQLite's single writer guaranteed.

use async_trait::async_trait;
use sqlx::PgConnection;

use super::vector_stores::detach_file_everywhere;
use super::{expect_one, fetch_page, lock, settle, to_document, PgStore, Table};
use crate::models::file::FileObject;
use crate::store::{
    BlobKind, FileStore, Page, PageRequest, PendingBlob, StoreError, StoreResult, Tenant,
};

/// Serialises the transactions that add to the tenant's stored bytes (until it ends).
pub(super) async fn lock_storage(conn: &mut PgConnection, tenant: &Tenant) -> StoreResult<()> {
    lock(conn, "storage", tenant.as_str()).await
}

/// Writes a file row (with its size in the `bytes` column the quota sums).
pub(super) async fn insert_file_row(
    conn: &mut PgConnection,
    tenant: &Tenant,
    file: &FileObject,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO files (id, tenant, purpose, created_at, expires_at, bytes, data) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&file.id)
    .bind(tenant.as_str())
    .bind(&file.purpose)
    .bind(file.created_at)
    .bind(file.expires_at)
    .bind(i64::try_from(file.bytes).unwrap_or(i64::MAX))
    .bind(to_document(file)?)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Bytes the tenant stores: files plus parts of pending uploads (parts of ended
/// uploads are forgotten when they end).
pub(super) async fn storage_used(conn: &mut PgConnection, tenant: &Tenant) -> StoreResult<u64> {
    let used: i64 = sqlx::query_scalar(
        "SELECT ((SELECT COALESCE(SUM(bytes), 0) FROM files WHERE tenant = $1) \
              + (SELECT COALESCE(SUM(bytes), 0) FROM upload_parts WHERE tenant = $1))::BIGINT",
    )
    .bind(tenant.as_str())
    .fetch_one(&mut *conn)
    .await?;
    Ok(u64::try_from(used).unwrap_or(0))
}

/// `OverQuota` if adding `bytes` takes the tenant past `quota`; the caller holds the
/// tenant's storage lock ([`lock_storage`]) until it commits what it adds.
pub(super) async fn check_quota(
    conn: &mut PgConnection,
    tenant: &Tenant,
    bytes: u64,
    quota: Option<u64>,
) -> StoreResult<()> {
    let Some(quota) = quota else {
        return Ok(());
    };
    let needed = storage_used(conn, tenant).await?.saturating_add(bytes);
    if needed > quota {
        return Err(StoreError::OverQuota { needed, quota });
    }
    Ok(())
}

/// Queues bytes for removal; the caller's transaction removes their record.
pub(super) async fn queue_blob(
    conn: &mut PgConnection,
    tenant: &Tenant,
    kind: BlobKind,
    id: &str,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO blob_deletions (tenant, kind, object_id) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
    )
    .bind(tenant.as_str())
    .bind(kind.as_str())
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Deletes a file row, detaches it from vector stores and queues its bytes.
async fn delete_file_in(conn: &mut PgConnection, tenant: &Tenant, id: &str) -> StoreResult<()> {
    let result = sqlx::query("DELETE FROM files WHERE tenant = $1 AND id = $2")
        .bind(tenant.as_str())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    expect_one(result)?;
    detach_file_everywhere(conn, tenant, id).await?;
    queue_blob(conn, tenant, BlobKind::File, id).await
}

#[async_trait]
impl FileStore for PgStore {
    async fn insert_file_within(
        &self,
        tenant: &Tenant,
        file: &FileObject,
        quota: Option<u64>,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let result: StoreResult<()> = async {
            // Taken even without a quota: a write that skips the check must still not slip
            // between another's check and its commit.
            lock_storage(&mut tx, tenant).await?;
            check_quota(&mut tx, tenant, file.bytes, quota).await?;
            insert_file_row(&mut tx, tenant, file).await?;
            Ok(())
        }
        .await;
        settle(tx, result).await
    }

    async fn get_file(&self, tenant: &Tenant, id: &str) -> StoreResult<FileObject> {
        self.get_document(Table::Files, tenant, id).await
    }

    async fn delete_file(&self, tenant: &Tenant, id: &str) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let result: StoreResult<()> = async {
            delete_file_in(&mut tx, tenant, id).await?;
            Ok(())
        }
        .await;
        settle(tx, result).await
    }

    async fn storage_used(&self, tenant: &Tenant) -> StoreResult<u64> {
        let mut conn = self.pool.acquire().await?;
        storage_used(&mut conn, tenant).await
    }

    async fn list_files(
        &self,
        tenant: &Tenant,
        purpose: Option<&str>,
        page: &PageRequest,
    ) -> StoreResult<Page<FileObject>> {
        match purpose {
            Some(purpose) => {
                fetch_page(
                    &self.pool,
                    Table::Files,
                    tenant,
                    &[("purpose", purpose)],
                    page,
                )
                .await
            }
            None => fetch_page(&self.pool, Table::Files, tenant, &[], page).await,
        }
    }

    async fn take_expired_files(&self, now: i64) -> StoreResult<Vec<PendingBlob>> {
        // Every file request asks; only open a transaction when something expired.
        let any: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM files WHERE expires_at IS NOT NULL AND expires_at <= $1 LIMIT 1",
        )
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        if any.is_none() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin().await?;
        let result: StoreResult<Vec<PendingBlob>> = async {
            // Locked, and skipped when another instance has them: each expired file is taken
            // (and reported) by exactly one caller.
            let rows: Vec<(String, String)> = sqlx::query_as(
                "SELECT tenant, id FROM files WHERE expires_at IS NOT NULL AND expires_at <= $1 \
                 ORDER BY seq FOR UPDATE SKIP LOCKED",
            )
            .bind(now)
            .fetch_all(&mut *tx)
            .await?;
            let mut taken = Vec::with_capacity(rows.len());
            for (tenant, id) in rows {
                let tenant = Tenant::from_stored(tenant);
                delete_file_in(&mut tx, &tenant, &id).await?;
                taken.push(PendingBlob {
                    tenant,
                    kind: BlobKind::File,
                    id,
                });
            }
            Ok(taken)
        }
        .await;
        settle(tx, result).await
    }

    async fn pending_blobs(&self, limit: u32) -> StoreResult<Vec<PendingBlob>> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT tenant, kind, object_id FROM blob_deletions ORDER BY seq LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(tenant, kind, id)| {
                let kind = BlobKind::parse(&kind)
                    .ok_or_else(|| StoreError::Corrupt(format!("blob deletion kind '{kind}'")))?;
                Ok(PendingBlob {
                    tenant: Tenant::from_stored(tenant),
                    kind,
                    id,
                })
            })
            .collect()
    }

    async fn forget_pending_blob(&self, blob: &PendingBlob) -> StoreResult<()> {
        sqlx::query(
            "DELETE FROM blob_deletions WHERE tenant = $1 AND kind = $2 AND object_id = $3",
        )
        .bind(blob.tenant.as_str())
        .bind(blob.kind.as_str())
        .bind(&blob.id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
