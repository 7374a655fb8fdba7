//! SQLite queries for threads; multi-row writes run in one transaction.

use async_trait::async_trait;

use super::messages::insert_message_row;
use super::{expect_one, to_document, SqliteStore, Table};
use crate::models::{Message, Thread};
use crate::store::{StoreResult, Tenant, ThreadStore};

#[async_trait]
impl ThreadStore for SqliteStore {
    async fn insert_thread(
        &self,
        tenant: &Tenant,
        thread: &Thread,
        messages: &[Message],
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO threads (id, tenant, created_at, data) VALUES (?, ?, ?, ?)")
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
        let mut tx = self.begin_write().await?;
        // Explicit, not only ON DELETE CASCADE, so other backends behave the same.
        sqlx::query("DELETE FROM messages WHERE tenant = ? AND thread_id = ?")
            .bind(tenant.as_str())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let result = sqlx::query("DELETE FROM threads WHERE tenant = ? AND id = ?")
            .bind(tenant.as_str())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        expect_one(result)?;
        Ok(tx.commit().await?)
    }
}
