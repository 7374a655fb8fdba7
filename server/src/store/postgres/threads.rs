//! PostgreSQL queries for threads; multi-row writes run in one transaction.

use async_trait::async_trait;

use super::messages::insert_message_row;
use super::{expect_one, to_document, PgStore, Table};
use crate::models::{Message, Thread};
use crate::store::{StoreResult, Tenant, ThreadStore};

#[async_trait]
impl ThreadStore for PgStore {
    async fn insert_thread(
        &self,
        tenant: &Tenant,
        thread: &Thread,
        messages: &[Message],
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO threads (id, tenant, created_at, data) VALUES ($1, $2, $3, $4)")
            .bind(&thread.id)
            .bind(tenant.as_str())
            .bind(thread.created_at)
            .bind(to_document(thread)?)
            .execute(&mut *tx)
            .await?;
        for message in messages {
            insert_message_row(&mut tx, tenant, message).await?;
        }
        Ok(tx.commit().await?)
    }

    async fn get_thread(&self, tenant: &Tenant, id: &str) -> StoreResult<Thread> {
        self.get_document(Table::Threads, tenant, id).await
    }

    async fn update_thread(&self, tenant: &Tenant, thread: &Thread) -> StoreResult<()> {
        self.update_document(Table::Threads, tenant, &thread.id, thread)
            .await
    }

    async fn delete_thread(&self, tenant: &Tenant, id: &str) -> StoreResult<()> {
        // Messages, runs and steps go by ON DELETE CASCADE, in the same statement.
        let result = sqlx::query("DELETE FROM threads WHERE tenant = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id)
            .execute(&self.pool)
            .await?;
        expect_one(result)
    }
}
