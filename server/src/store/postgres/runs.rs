//! PostgreSQL queries for runs. The one-active-run-per-thread rule is the partial
//! unique index `runs_one_active_per_thread` (migration 0001): the check before the
//! insert gives the usual answer, and when two instances race past it the index
//! refuses the second insert, which is answered the same way.

use async_trait::async_trait;

use super::leases::NOW_MS;
use super::messages::insert_message_row;
use super::{expect_one, fetch_page, from_document, to_document, PgStore, Table};
use crate::models::{Message, Run, RunStatus};
use crate::store::{
    LeaseHolder, Page, PageRequest, RunStore, StoreError, StoreResult, Tenant, UnfinishedRun,
};

/// The partial unique index that holds one active run per thread.
const ONE_ACTIVE_INDEX: &str = "runs_one_active_per_thread";

/// The wire strings of the run statuses `keep` selects, bound as a `text[]`.
pub(super) fn statuses(keep: fn(RunStatus) -> bool) -> Vec<String> {
    RunStatus::ALL
        .iter()
        .filter(|status| keep(**status))
        .map(|status| status.as_str().to_owned())
        .collect()
}

/// The active statuses, bound as a `text[]`.
pub(super) fn active_statuses() -> Vec<String> {
    statuses(RunStatus::is_active)
}

impl PgStore {
    /// Inserts a run (and the messages it appends first); `lease`: the holder and length
    /// of the lease the new run starts with, taken in the same write.
    pub(super) async fn insert_run_row(
        &self,
        tenant: &Tenant,
        run: &Run,
        messages: &[Message],
        lease: Option<(&LeaseHolder, i64)>,
    ) -> StoreResult<()> {
        if let Some(active) = self.active_run(tenant, &run.thread_id).await? {
            return Err(StoreError::ActiveRun(active));
        }
        let mut tx = self.begin().await?;
        for message in messages {
            insert_message_row(&mut tx, tenant, message).await?;
        }
        let inserted = sqlx::query(&format!(
            "INSERT INTO runs (id, tenant, thread_id, status, created_at, data, \
             lease_owner, lease_process, lease_expires_at) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, {NOW_MS} + $9 \
             WHERE EXISTS (SELECT 1 FROM threads WHERE tenant = $2 AND id = $3)"
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
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(result) => expect_one(result)?,
            Err(sqlx::Error::Database(error)) if error.constraint() == Some(ONE_ACTIVE_INDEX) => {
                drop(tx);
                let active = self.active_run(tenant, &run.thread_id).await?;
                return Err(StoreError::ActiveRun(active.unwrap_or_default()));
            }
            Err(error) => return Err(StoreError::from(error)),
        }
        Ok(tx.commit().await?)
    }
}

#[async_trait]
impl RunStore for PgStore {
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
            "UPDATE runs SET data = $1, status = $2, version = version + 1 \
                 WHERE tenant = $3 AND id = $4",
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
            "UPDATE runs SET data = $1, status = $2, version = version + 1 \
             WHERE tenant = $3 AND id = $4 AND status = $5",
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
        let attempts: Option<i32> = sqlx::query_scalar(
            "UPDATE runs SET attempts = attempts + 1 WHERE tenant = $1 AND id = $2 \
             RETURNING attempts",
        )
        .bind(tenant.as_str())
        .bind(run_id)
        .fetch_optional(&self.pool)
        .await?;
        let attempts = attempts.ok_or(StoreError::NotFound)?;
        Ok(u32::try_from(attempts).unwrap_or(0))
    }

    async fn clear_attempts(&self, tenant: &Tenant, run_id: &str) -> StoreResult<()> {
        let result = sqlx::query("UPDATE runs SET attempts = 0 WHERE tenant = $1 AND id = $2")
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
        sqlx::query_scalar(
            "SELECT id FROM runs WHERE tenant = $1 AND thread_id = $2 AND status = ANY($3) \
             LIMIT 1",
        )
        .bind(tenant.as_str())
        .bind(thread_id)
        .bind(active_statuses())
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::from)
    }

    async fn unfinished_runs(&self) -> StoreResult<Vec<UnfinishedRun>> {
        let rows: Vec<(String, String, i32)> = sqlx::query_as(
            "SELECT tenant, data, attempts FROM runs WHERE status = ANY($1) ORDER BY seq",
        )
        .bind(active_statuses())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(tenant, data, attempts)| {
                Ok(UnfinishedRun {
                    tenant: Tenant::from_stored(tenant),
                    run: from_document(&data)?,
                    attempts: u32::try_from(attempts).unwrap_or(0),
                })
            })
            .collect()
    }
}
