//! SQLite queries for run leases ([`crate::store::leases`]). SQLite has one writer at
//! a time, across every process on the file: a claim's `UPDATE … WHERE id IN (SELECT …)`
//! reads and takes the runs in one write, so two instances claiming at once never get
//! the same run. Times are the database's clock, in unix milliseconds.

use async_trait::async_trait;

use super::runs::active_clause;
use super::{from_document, to_document, SqliteStore};
use crate::models::{Message, Run};
use crate::store::leases::RunWatchRow;
use crate::store::{
    ClaimScope, LeaseChange, LeaseHolder, RunLeaseStore, RunVersion, RunWatch, StoreError,
    StoreResult, Tenant, UnfinishedRun, VersionedRun,
};

/// The database's clock in unix milliseconds.
pub(super) const NOW_MS: &str = "CAST(unixepoch('subsec') * 1000 AS INTEGER)";

/// `status IN (…)` for the statuses in which an instance works on a run (and so holds
/// its lease).
fn worked_on_clause() -> String {
    super::runs::status_clause(crate::models::RunStatus::is_worked_on)
}

/// `?, ?, …` for `count` bound values.
fn placeholders(count: usize) -> String {
    vec!["?"; count].join(", ")
}

#[async_trait]
impl RunLeaseStore for SqliteStore {
    async fn insert_leased_run(
        &self,
        tenant: &Tenant,
        run: &Run,
        messages: &[Message],
        holder: &LeaseHolder,
        lease_ms: i64,
    ) -> StoreResult<()> {
        self.insert_run_row(tenant, run, messages, Some((holder, lease_ms)))
            .await
    }

    async fn get_versioned_run(
        &self,
        tenant: &Tenant,
        thread_id: &str,
        id: &str,
    ) -> StoreResult<VersionedRun> {
        let row: Option<(String, i64, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT data, version, lease_owner, lease_process FROM runs \
             WHERE tenant = ? AND thread_id = ? AND id = ?",
        )
        .bind(tenant.as_str())
        .bind(thread_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let (data, version, owner, process) = row.ok_or(StoreError::NotFound)?;
        Ok(VersionedRun {
            run: from_document(&data)?,
            version,
            holder: LeaseHolder::from_columns(owner, process),
        })
    }

    async fn write_run(
        &self,
        tenant: &Tenant,
        run: &Run,
        expected: RunVersion<'_>,
        lease: LeaseChange<'_>,
    ) -> StoreResult<bool> {
        let lease_sql = match lease {
            LeaseChange::Keep => String::new(),
            LeaseChange::Take { .. } => {
                format!(", lease_owner = ?, lease_process = ?, lease_expires_at = {NOW_MS} + ?")
            }
            LeaseChange::Release { .. } => {
                ", lease_owner = NULL, lease_process = NULL, lease_expires_at = ?".to_owned()
            }
        };
        let holder_sql = match expected.holder {
            Some(_) => " AND lease_owner = ? AND lease_process = ?",
            None => "",
        };
        let sql = format!(
            "UPDATE runs SET data = ?, status = ?, version = version + 1{lease_sql} \
             WHERE tenant = ? AND id = ? AND version = ?{holder_sql}"
        );
        let mut query = sqlx::query(&sql)
            .bind(to_document(run)?)
            .bind(run.status.as_str());
        query = match lease {
            LeaseChange::Keep => query,
            LeaseChange::Take { holder, lease_ms } => query
                .bind(holder.instance.as_str())
                .bind(holder.process.as_str())
                .bind(lease_ms),
            LeaseChange::Release { look_again_at_ms } => query.bind(look_again_at_ms),
        };
        query = query
            .bind(tenant.as_str())
            .bind(&run.id)
            .bind(expected.version);
        if let Some(holder) = expected.holder {
            query = query
                .bind(holder.instance.as_str())
                .bind(holder.process.as_str());
        }
        let result = query.execute(&self.pool).await?;
        Ok(result.rows_affected() == 1)
    }

    async fn renew_leases(
        &self,
        holder: &LeaseHolder,
        run_ids: &[String],
        lease_ms: i64,
    ) -> StoreResult<u64> {
        if run_ids.is_empty() {
            return Ok(0);
        }
        let sql = format!(
            "UPDATE runs SET lease_expires_at = {NOW_MS} + ? \
             WHERE lease_owner = ? AND lease_process = ? AND {} AND id IN ({})",
            worked_on_clause(),
            placeholders(run_ids.len())
        );
        let mut query = sqlx::query(&sql)
            .bind(lease_ms)
            .bind(holder.instance.as_str())
            .bind(holder.process.as_str());
        for id in run_ids {
            query = query.bind(id);
        }
        let result = query.execute(&self.pool).await?;
        Ok(result.rows_affected())
    }

    async fn watch_runs(&self, run_ids: &[String]) -> StoreResult<Vec<RunWatch>> {
        if run_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT id, status, lease_owner, lease_process FROM runs WHERE id IN ({})",
            placeholders(run_ids.len())
        );
        let mut query = sqlx::query_as::<_, RunWatchRow>(&sql);
        for id in run_ids {
            query = query.bind(id);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.into_iter().map(RunWatch::from_row).collect()
    }

    async fn claim_runs(
        &self,
        holder: &LeaseHolder,
        lease_ms: i64,
        limit: usize,
        scope: ClaimScope,
    ) -> StoreResult<Vec<UnfinishedRun>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        // A run this very process holds is never claimed again: it is being worked on.
        let mine = "(lease_process IS NULL OR lease_process != ?)";
        let claimable = match scope {
            ClaimScope::Everything => "1 = 1".to_owned(),
            ClaimScope::Claimable => format!(
                "(lease_expires_at IS NULL OR lease_expires_at <= {NOW_MS} OR lease_owner = ?)"
            ),
        };
        let sql = format!(
            "UPDATE runs SET lease_owner = ?, lease_process = ?, lease_expires_at = {NOW_MS} + ? \
             WHERE id IN (SELECT id FROM runs WHERE {} AND {mine} AND {claimable} \
             ORDER BY seq LIMIT ?) \
             RETURNING seq, tenant, data, attempts",
            active_clause()
        );
        let mut query = sqlx::query_as::<_, (i64, String, String, i64)>(&sql)
            .bind(holder.instance.as_str())
            .bind(holder.process.as_str())
            .bind(lease_ms)
            .bind(holder.process.as_str());
        if scope == ClaimScope::Claimable {
            query = query.bind(holder.instance.as_str());
        }
        let mut rows = query
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        // RETURNING gives no order; recovery works oldest first.
        rows.sort_by_key(|(seq, ..)| *seq);
        rows.into_iter()
            .map(|(_, tenant, data, attempts)| {
                Ok(UnfinishedRun {
                    tenant: Tenant::from_stored(tenant),
                    run: from_document(&data)?,
                    attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                })
            })
            .collect()
    }

    async fn release_leases(&self, holder: &LeaseHolder) -> StoreResult<u64> {
        let result = sqlx::query(
            "UPDATE runs SET lease_owner = NULL, lease_process = NULL, lease_expires_at = NULL \
             WHERE lease_owner = ? AND lease_process = ?",
        )
        .bind(holder.instance.as_str())
        .bind(holder.process.as_str())
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected())
    }
}
