//! SQLite queries for runs; the thread lock is checked inside the inserting transaction.

use async_trait::async_trait;

use super::leases::NOW_MS;
use super::messages::insert_message_row;
use super::{expect_one, fetch_page, from_document, to_document, SqliteStore, Table};
use crate::models::{Message, Run, RunStatus};
use crate::store::{
    LeaseHolder, Page, PageRequest, RunStore, StoreError, StoreResult, Tenant, UnfinishedRun,
};

/// `status IN ('queued', …)` for the run statuses `keep` selects (constants, not user
/// input).
pub(super) fn status_clause(keep: fn(RunStatus) -> bool) -> String {
    let quoted: Vec<String> = RunStatus::ALL
        .iter()
        .filter(|status| keep(**status))
        .map(|status| format!("'{status}'"))
        .collect();
    format!("status IN ({})", quoted.join(", "))
}

/// `status IN (…)` for the active statuses.
pub(super) fn active_clause() -> String {
    status_clause(RunStatus::is_active)
}

impl SqliteStore {
    /// Inserts a run (and the messages it appends first) in one write transaction, which
    /// also checks the thread lock: SQLite has one writer at a time, across processes,
    /// so two instances racing to start a run on one thread cannot both pass the check.
    /// `lease`: the holder and length of the lease the new run starts with.
    pub(super) async fn insert_run_row(
        &self,
        tenant: &Tenant,
        run: &Run,
        messages: &[Message],
        lease: Option<(&LeaseHolder, i64)>,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let active: Option<String> = sqlx::query_scalar(&format!(
            "SELECT id FROM runs WHERE tenant = ? AND thread_id = ? AND {} LIMIT 1",
            active_clause()
        ))
        .bind(tenant.as_str())
        .bind(&run.thread_id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(active) = active {
            return Err(StoreError::ActiveRun(active));
        }
        for message in messages {
            insert_message_row(&mut tx, tenant, message).await?;
        }
        let result = sqlx::query(&format!(
            "INSERT INTO runs (id, tenant, thread_id, status, created_at, data, \
             lease_owner, lease_process, lease_expires_at) \
             SELECT ?, ?, ?, ?, ?, ?, ?, ?, {NOW_MS} + ? \
             WHERE EXISTS (SELECT 1 FROM threads WHERE tenant = ? AND id = ?)"
        ))
        .bind(&run.id)
        .bind(tenant.as_str())
        .bind(&run.thread_id)
        .bind(run.status.as_str())
        .bind(run.created_at)
        .bind(to_document(run)?)
        .bind(lease.map(|(holder, _)| holder.instance.as_str()))
        .bind(lease.map(|(holder, _)| holder.process.as_str()))
        .bind(lease.map(|(_, lease_ms)| lease_ms))
        .bind(tenant.as_str())
        .bind(&run.thread_id)
        .execute(&mut *tx)
        .await?;
        expect_one(result)?;
        Ok(tx.commit().await?)
    }
}

#[async_trait]
impl RunStore for SqliteStore {
    async fn insert_run(
        &self,
        tenant: &Tenant,
        run: &Run,
        messages: &[Message],
    ) -> StoreResult<()> {
        self.insert_run_row(tenant, run, messages, None).await
    }

    async fn get_run(&self, tenant: &Tenant, thread_id: &str, id: &str) -> StoreResult<Run> {
        self.get_child_document(Table::Runs, tenant, ("thread_id", thread_id), id)
            .await
    }

    async fn update_run(&self, tenant: &Tenant, run: &Run) -> StoreResult<()> {
        let result = sqlx::query(
            "UPDATE runs SET data = ?, status = ?, version = version + 1 \
                 WHERE tenant = ? AND id = ?",
        )
        .bind(to_document(run)?)
        .bind(run.status.as_str())
        .bind(tenant.as_str())
        .bind(&run.id)
        .execute(&self.pool)
        .await?;
        expect_one(result)
    }

    async fn update_run_if(
        &self,
        tenant: &Tenant,
        run: &Run,
        expected: RunStatus,
    ) -> StoreResult<bool> {
        let result = sqlx::query(
            "UPDATE runs SET data = ?, status = ?, version = version + 1 \
             WHERE tenant = ? AND id = ? AND status = ?",
        )
        .bind(to_document(run)?)
        .bind(run.status.as_str())
        .bind(tenant.as_str())
        .bind(&run.id)
        .bind(expected.as_str())
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn start_attempt(&self, tenant: &Tenant, run_id: &str) -> StoreResult<u32> {
        let attempts: Option<i64> = sqlx::query_scalar(
            "UPDATE runs SET attempts = attempts + 1 WHERE tenant = ? AND id = ? RETURNING attempts",
        )
        .bind(tenant.as_str())
        .bind(run_id)
        .fetch_optional(&self.pool)
        .await?;
        let attempts = attempts.ok_or(StoreError::NotFound)?;
        Ok(u32::try_from(attempts).unwrap_or(u32::MAX))
    }

    async fn clear_attempts(&self, tenant: &Tenant, run_id: &str) -> StoreResult<()> {
        let result = sqlx::query("UPDATE runs SET attempts = 0 WHERE tenant = ? AND id = ?")
            .bind(tenant.as_str())
            .bind(run_id)
            .execute(&self.pool)
            .await?;
        expect_one(result)
    }

    async fn list_runs(
        &self,
        tenant: &Tenant,
        thread_id: &str,
        page: &PageRequest,
    ) -> StoreResult<Page<Run>> {
        let filters = [("thread_id", thread_id)];
        fetch_page(&self.pool, Table::Runs, tenant, &filters, page).await
    }

    async fn active_run(&self, tenant: &Tenant, thread_id: &str) -> StoreResult<Option<String>> {
        sqlx::query_scalar(&format!(
            "SELECT id FROM runs WHERE tenant = ? AND thread_id = ? AND {} LIMIT 1",
            active_clause()
        ))
        .bind(tenant.as_str())
        .bind(thread_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::from)
    }

    async fn unfinished_runs(&self) -> StoreResult<Vec<UnfinishedRun>> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(&format!(
            "SELECT tenant, data, attempts FROM runs WHERE {} ORDER BY seq",
            active_clause()
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(tenant, data, attempts)| {
                Ok(UnfinishedRun {
                    tenant: Tenant::from_stored(tenant),
                    run: from_document(&data)?,
                    attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                })
            })
            .collect()
    }
}
