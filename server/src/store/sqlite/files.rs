//! SQLite queries for file records.

use async_trait::async_trait;

use super::{backend, fetch_page, to_document, SqliteStore, Table};
use crate::models::file::FileObject;
use crate::store::{FileStore, Page, PageRequest, StoreResult, Tenant};

#[async_trait]
impl FileStore for SqliteStore {
    async fn insert_file(&self, tenant: &Tenant, file: &FileObject) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO files (id, tenant, purpose, created_at, expires_at, data) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&file.id)
        .bind(tenant.as_str())
        .bind(&file.purpose)
        .bind(file.created_at)
        .bind(file.expires_at)
        .bind(to_document(file)?)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn get_file(&self, tenant: &Tenant, id: &str) -> StoreResult<FileObject> {
        self.get_document(Table::Files, tenant, id).await
    }

    async fn delete_file(&self, tenant: &Tenant, id: &str) -> StoreResult<()> {
        self.delete_document(Table::Files, tenant, id).await
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

    async fn take_expired_files(&self, now: i64) -> StoreResult<Vec<(Tenant, String)>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "DELETE FROM files WHERE expires_at IS NOT NULL AND expires_at <= ? \
             RETURNING tenant, id",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        Ok(rows
            .into_iter()
            .map(|(tenant, id)| (Tenant::from_stored(tenant), id))
            .collect())
    }
}
