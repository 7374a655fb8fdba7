//! SQLite queries for assistants.

use async_trait::async_trait;

use super::{fetch_page, to_document, SqliteStore, Table};
use crate::models::Assistant;
use crate::store::{AssistantStore, Page, PageRequest, StoreResult, Tenant};

#[async_trait]
impl AssistantStore for SqliteStore {
    async fn insert_assistant(&self, tenant: &Tenant, assistant: &Assistant) -> StoreResult<()> {
        sqlx::query("INSERT INTO assistants (id, tenant, created_at, data) VALUES (?, ?, ?, ?)")
            .bind(&assistant.id)
            .bind(tenant.as_str())
            .bind(assistant.created_at)
            .bind(to_document(assistant)?)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn get_assistant(&self, tenant: &Tenant, id: &str) -> StoreResult<Assistant> {
        self.get_document(Table::Assistants, tenant, id).await
    }

    async fn update_assistant(&self, tenant: &Tenant, assistant: &Assistant) -> StoreResult<()> {
        self.update_document(Table::Assistants, tenant, &assistant.id, assistant)
            .await
    }

    async fn delete_assistant(&self, tenant: &Tenant, id: &str) -> StoreResult<()> {
        self.delete_document(Table::Assistants, tenant, id).await
    }

    async fn list_assistants(
        &self,
        tenant: &Tenant,
        page: &PageRequest,
    ) -> StoreResult<Page<Assistant>> {
        fetch_page(&self.pool, Table::Assistants, tenant, &[], page).await
    }
}
