//! SQLite queries for file records, the tenant's storage use and the queue of bytes
//! waiting to be removed (`blob_deletions`, migration 0015).

use async_trait::async_trait;
use sqlx::SqliteConnection;

use super::vector_stores::detach_file_everywhere;
use super::{expect_one, fetch_page, to_document, SqliteStore, Table};
use crate::models::file::FileObject;
use crate::store::{
    BlobKind, FileStore, Page, PageRequest, PendingBlob, StoreError, StoreResult, Tenant,
};

/// Writes a file row (with its size in the `bytes` column the quota sums).
pub(super) async fn insert_file_row(
    conn: &mut SqliteConnection,
    tenant: &Tenant,
    file: &FileObject,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO files (id, tenant, purpose, created_at, expires_at, bytes, data) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
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
pub(super) async fn storage_used(conn: &mut SqliteConnection, tenant: &Tenant) -> StoreResult<u64> {
    let used: i64 = sqlx::query_scalar(
        "SELECT (SELECT COALESCE(SUM(bytes), 0) FROM files WHERE tenant = ?1) \
              + (SELECT COALESCE(SUM(bytes), 0) FROM upload_parts WHERE tenant = ?1)",
    )
    .bind(tenant.as_str())
    .fetch_one(&mut *conn)
    .await?;
    Ok(u64::try_from(used).unwrap_or(0))
}

/// `OverQuota` if adding `bytes` takes the tenant past `quota`; call inside the write
/// transaction that stores them, so concurrent writes cannot both slip under it.
pub(super) async fn check_quota(
    conn: &mut SqliteConnection,
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
    conn: &mut SqliteConnection,
    tenant: &Tenant,
    kind: BlobKind,
    id: &str,
) -> StoreResult<()> {
    sqlx::query("INSERT OR IGNORE INTO blob_deletions (tenant, kind, object_id) VALUES (?, ?, ?)")
        .bind(tenant.as_str())
        .bind(kind.as_str())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Deletes a file row, detaches it from vector stores and queues its bytes.
async fn delete_file_in(conn: &mut SqliteConnection, tenant: &Tenant, id: &str) -> StoreResult<()> {
    let result = sqlx::query("DELETE FROM files WHERE tenant = ? AND id = ?")
        .bind(tenant.as_str())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    expect_one(result)?;
    detach_file_everywhere(conn, tenant, id).await?;
    queue_blob(conn, tenant, BlobKind::File, id).await
}

#[async_trait]
impl FileStore for SqliteStore {
    async fn insert_file_within(
        &self,
        tenant: &Tenant,
        file: &FileObject,
        quota: Option<u64>,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        check_quota(&mut tx, tenant, file.bytes, quota).await?;
        insert_file_row(&mut tx, tenant, file).await?;
        Ok(tx.commit().await?)
    }

    async fn get_file(&self, tenant: &Tenant, id: &str) -> StoreResult<FileObject> {
        self.get_document(Table::Files, tenant, id).await
    }

    async fn delete_file(&self, tenant: &Tenant, id: &str) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        delete_file_in(&mut tx, tenant, id).await?;
        Ok(tx.commit().await?)
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
        // Every file request asks; only take the write lock when something expired.
        let any: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM files WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT 1",
        )
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        if any.is_none() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin_write().await?;
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT tenant, id FROM files WHERE expires_at IS NOT NULL AND expires_at <= ?",
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
        tx.commit().await?;
        Ok(taken)
    }

    async fn pending_blobs(&self, limit: u32) -> StoreResult<Vec<PendingBlob>> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT tenant, kind, object_id FROM blob_deletions ORDER BY seq LIMIT ?",
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
        sqlx::query("DELETE FROM blob_deletions WHERE tenant = ? AND kind = ? AND object_id = ?")
            .bind(blob.tenant.as_str())
            .bind(blob.kind.as_str())
            .bind(&blob.id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

    use super::*;

    /// A database file as the migrations before 0015 left it, holding one 42-byte file
    /// and a 5-byte part, opened by [`SqliteStore::connect`] (which applies 0015+).
    async fn populated_before_0015(tenant: &Tenant) -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("old.db").display());
        let mut older = sqlx::migrate!("./migrations/sqlite");
        older.migrations = older
            .migrations
            .iter()
            .filter(|m| m.version < 15)
            .cloned()
            .collect::<Vec<_>>()
            .into();
        let options = url
            .parse::<SqliteConnectOptions>()
            .unwrap()
            .create_if_missing(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .unwrap();
        older.run(&pool).await.unwrap();
        let file = r#"{"object":"file","id":"file-old","purpose":"assistants","filename":"f","bytes":42,"created_at":1,"expires_at":null,"status":"processed","status_details":null}"#;
        sqlx::query(
            "INSERT INTO files (id, tenant, purpose, created_at, data) \
             VALUES ('file-old', ?, 'assistants', 1, ?)",
        )
        .bind(tenant.as_str())
        .bind(file)
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO uploads (id, tenant, status, expires_at, data) \
             VALUES ('upload_old', ?, 'pending', 1, '{}')",
        )
        .bind(tenant.as_str())
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO upload_parts (id, tenant, upload_id, bytes, data) \
             VALUES ('part_old', ?, 'upload_old', 5, '{}')",
        )
        .bind(tenant.as_str())
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
        let store = SqliteStore::connect(&url).await.unwrap();
        (dir, store)
    }

    #[tokio::test]
    async fn existing_files_count_toward_the_quota_after_migrating() {
        let tenant = Tenant::from_api_key("k");
        let (_dir, store) = populated_before_0015(&tenant).await;
        assert_eq!(store.storage_used(&tenant).await.unwrap(), 47);
        assert_eq!(
            store
                .storage_used(&Tenant::from_api_key("other"))
                .await
                .unwrap(),
            0
        );
        store.delete_file(&tenant, "file-old").await.unwrap();
        assert_eq!(store.storage_used(&tenant).await.unwrap(), 5);
        let queued = store.pending_blobs(10).await.unwrap();
        assert_eq!(
            queued,
            [PendingBlob {
                tenant,
                kind: BlobKind::File,
                id: "file-old".into()
            }]
        );
        store.forget_pending_blob(&queued[0]).await.unwrap();
        assert!(store.pending_blobs(10).await.unwrap().is_empty());
    }
}
