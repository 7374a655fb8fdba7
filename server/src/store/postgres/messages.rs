//! PostgreSQL queries for messages.

use async_trait::async_trait;
use sqlx::PgConnection;

use super::{expect_one, fetch_page, to_document, PgStore, Table};
use crate::models::Message;
use crate::store::{MessageStore, Page, PageRequest, StoreResult, Tenant};

/// Inserts one message row, only if its thread exists for the tenant. A thread deleted
/// concurrently fails the foreign key instead, which `backend` also reads as `NotFound`.
pub(super) async fn insert_message_row(
    conn: &mut PgConnection,
    tenant: &Tenant,
    message: &Message,
) -> StoreResult<()> {
    let result = sqlx::query(
        "INSERT INTO messages (id, tenant, thread_id, run_id, created_at, data) \
         SELECT $1, $2, $3, $4, $5, $6 \
         WHERE EXISTS (SELECT 1 FROM threads WHERE tenant = $2 AND id = $3)",
    )
    .bind(&message.id)
    .bind(tenant.as_str())
    .bind(&message.thread_id)
    .bind(&message.run_id)
    .bind(message.created_at)
    .bind(to_document(message)?)
    .execute(&mut *conn)
    .await?;
    expect_one(result)
}

#[async_trait]
impl MessageStore for PgStore {
    async fn insert_message(&self, tenant: &Tenant, message: &Message) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await?;
        insert_message_row(&mut conn, tenant, message).await
    }

    async fn get_message(
        &self,
        tenant: &Tenant,
        thread_id: &str,
        id: &str,
    ) -> StoreResult<Message> {
        self.get_child_document(Table::Messages, tenant, ("thread_id", thread_id), id)
            .await
    }

    async fn update_message(&self, tenant: &Tenant, message: &Message) -> StoreResult<()> {
        let result = sqlx::query(
            "UPDATE messages SET data = $1 WHERE tenant = $2 AND thread_id = $3 AND id = $4",
        )
        .bind(to_document(message)?)
        .bind(tenant.as_str())
        .bind(&message.thread_id)
        .bind(&message.id)
        .execute(&self.pool)
        .await?;
        expect_one(result)
    }

    async fn delete_message(&self, tenant: &Tenant, thread_id: &str, id: &str) -> StoreResult<()> {
        let result =
            sqlx::query("DELETE FROM messages WHERE tenant = $1 AND thread_id = $2 AND id = $3")
                .bind(tenant.as_str())
                .bind(thread_id)
                .bind(id)
                .execute(&self.pool)
                .await?;
        expect_one(result)
    }

    async fn list_messages(
        &self,
        tenant: &Tenant,
        thread_id: &str,
        run_id: Option<&str>,
        page: &PageRequest,
    ) -> StoreResult<Page<Message>> {
        let mut filters = vec![("thread_id", thread_id)];
        if let Some(run_id) = run_id {
            filters.push(("run_id", run_id));
        }
        fetch_page(&self.pool, Table::Messages, tenant, &filters, page).await
    }
}
