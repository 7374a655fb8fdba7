//! PostgreSQL queries for run leases ([`crate::store::leases`]). Instances write at
//! once here, so a claim locks the rows it takes with `FOR UPDATE SKIP LOCKED`: of two
//! instances claiming at once, each takes rows the other did not lock, and a row whose
//! lease another claim just took is re-checked against its new lease and left alone.
//! Run writes are compare-and-set on `version` (a concurrent UPDATE of the same row
//! waits, then finds the version changed). Times are the database's clock, in unix
//! milliseconds, so instances on different hosts agree on when a lease ran out.

use async_trait::async_trait;

use super::runs::active_statuses;
use super::{from_document, to_document, PgStore};
use crate::models::{Message, Run};
use crate::store::leases::RunWatchRow;
use crate::store::{
    ClaimScope, LeaseChange, LeaseHolder, RunLeaseStore, RunVersion, RunWatch, StoreError,
    StoreResult, Tenant, UnfinishedRun, VersionedRun,
};

/// The database's clock in unix milliseconds.
pub(super) const NOW_MS: &str = "(extract(epoch FROM clock_timestamp()) * 1000)::BIGINT";

/// Statuses in which an instance works on a run (and so holds its lease).
fn worked_on() -> Vec<String> {
    super::runs::statuses(crate::models::RunStatus::is_worked_on)
}

#[async_trait]
impl RunLeaseStore for PgStore {
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
             WHERE tenant = $1 AND thread_id = $2 AND id = $3",
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
        // $1 data, $2 status, then the lease's values, then the condition's.
        let (lease_sql, next) = match lease {
            LeaseChange::Keep => (String::new(), 3),
            LeaseChange::Take { .. } => (
                format!(", lease_owner = $3, lease_process = $4, lease_expires_at = {NOW_MS} + $5"),
                6,
            ),
            LeaseChange::Release { .. } => (
                ", lease_owner = NULL, lease_process = NULL, lease_expires_at = $3".to_owned(),
                4,
            ),
        };
        let holder_sql = match expected.holder {
            Some(_) => format!(
                " AND lease_owner = ${} AND lease_process = ${}",
                next + 3,
                next + 4
            ),
            None => String::new(),
        };
        let sql = format!(
            "UPDATE runs SET data = $1, status = $2, version = version + 1{lease_sql} \
             WHERE tenant = ${} AND id = ${} AND version = ${}{holder_sql}",
            next,
            next + 1,
            next + 2
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
        let result = sqlx::query(&format!(
            "UPDATE runs SET lease_expires_at = {NOW_MS} + $1 \
             WHERE lease_owner = $2 AND lease_process = $3 AND status = ANY($4) \
             AND id = ANY($5)"
        ))
        .bind(lease_ms)
        .bind(holder.instance.as_str())
        .bind(holder.process.as_str())
        .bind(worked_on())
        .bind(run_ids)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected())
    }

    async fn watch_runs(&self, run_ids: &[String]) -> StoreResult<Vec<RunWatch>> {
        if run_ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<RunWatchRow> = sqlx::query_as(
            "SELECT id, status, lease_owner, lease_process FROM runs WHERE id = ANY($1)",
        )
        .bind(run_ids)
        .fetch_all(&self.pool)
        .await?;
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
        let claimable = match scope {
            ClaimScope::Everything => "TRUE".to_owned(),
            ClaimScope::Claimable => format!(
                "(lease_expires_at IS NULL OR lease_expires_at <= {NOW_MS} OR lease_owner = $1)"
            ),
        };
        // A run this very process holds is never claimed again: it is being worked on.
        let sql = format!(
            "UPDATE runs SET lease_owner = $1, lease_process = $2, \
             lease_expires_at = {NOW_MS} + $3 \
             WHERE id IN (SELECT id FROM runs WHERE status = ANY($4) \
             AND (lease_process IS NULL OR lease_process <> $2) AND {claimable} \
             ORDER BY seq LIMIT $5 FOR UPDATE SKIP LOCKED) \
             RETURNING seq, tenant, data, attempts"
        );
        let mut rows: Vec<(i64, String, String, i32)> = sqlx::query_as(&sql)
            .bind(holder.instance.as_str())
            .bind(holder.process.as_str())
            .bind(lease_ms)
            .bind(active_statuses())
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        // RETURNING gives no order; takeover works oldest first.
        rows.sort_by_key(|(seq, ..)| *seq);
        rows.into_iter()
            .map(|(_, tenant, data, attempts)| {
                Ok(UnfinishedRun {
                    tenant: Tenant::from_stored(tenant),
                    run: from_document(&data)?,
                    attempts: u32::try_from(attempts).unwrap_or(0),
                })
            })
            .collect()
    }

    async fn release_leases(&self, holder: &LeaseHolder) -> StoreResult<u64> {
        let result = sqlx::query(
            "UPDATE runs SET lease_owner = NULL, lease_process = NULL, lease_expires_at = NULL \
             WHERE lease_owner = $1 AND lease_process = $2",
        )
        .bind(holder.instance.as_str())
        .bind(holder.process.as_str())
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected())
    }
}
