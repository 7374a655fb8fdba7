//! SQLite queries for assistants.

use async_trait::async_trait;

use super::{backend, expect_one, fetch_page, from_document, to_document, SqliteStore, Table};
use crate::models::Assistant;
use crate::store::{AssistantStore, Page, PageRequest, StoreError, StoreResult, Tenant};

#[async_trait]
impl AssistantStore for SqliteStore {
    async fn insert_assistant(&self, tenant: &Tenant, assistant: &Assistant) -> StoreResult<()> {
        sqlx::query("INSERT INTO assistants (id, tenant, created_at, data) VALUES (?, ?, ?, ?)")
            .bind(&assistant.id)
            .bind(tenant.as_str())
            .bind(assistant.created_at)
            .bind(to_document(assistant)?)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn get_assistant(&self, tenant: &Tenant, id: &str) -> StoreResult<Assistant> {
        let data: Option<String> =
            sqlx::query_scalar("SELECT data FROM assistants WHERE tenant = ? AND id = ?")
                .bind(tenant.as_str())
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
        from_document(&data.ok_or(StoreError::NotFound)?)
    }

    async fn update_assistant(&self, tenant: &Tenant, assistant: &Assistant) -> StoreResult<()> {
        let result = sqlx::query("UPDATE assistants SET data = ? WHERE tenant = ? AND id = ?")
            .bind(to_document(assistant)?)
            .bind(tenant.as_str())
            .bind(&assistant.id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        expect_one(result)
    }

    async fn delete_assistant(&self, tenant: &Tenant, id: &str) -> StoreResult<()> {
        let result = sqlx::query("DELETE FROM assistants WHERE tenant = ? AND id = ?")
            .bind(tenant.as_str())
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        expect_one(result)
    }

    async fn list_assistants(
        &self,
        tenant: &Tenant,
        page: &PageRequest,
    ) -> StoreResult<Page<Assistant>> {
        fetch_page(&self.pool, Table::Assistants, tenant, &[], page).await
    }
}
