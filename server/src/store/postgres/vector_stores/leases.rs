//! PostgreSQL queries for ingestion leases (see [`crate::vector_stores::Ingestor`]).
//! Instances write at once here, so a claim locks the rows it takes with `FOR UPDATE
//! SKIP LOCKED`, as run claims do ([`super::super::leases`]): of two instances claiming
//! at once, each takes rows the other did not lock, and a row whose lease another claim
//! just took is re-checked against its new lease and left alone. Renewals skip locked
//! rows too: a row locked elsewhere is being finished, cancelled, detached or claimed,
//! after which its lease no longer matters (or the next renewal, a third of a lease
//! later, extends it). Only attachment rows are locked, in `seq` order, so neither
//! waits in a cycle with the writers of [`super::chunks`]' lock order. Times are the
//! database's clock, in unix milliseconds.

use super::super::leases::NOW_MS;
use super::super::{from_document, PgStore};
use crate::store::vector_stores::{AttachmentKey, IngestionClaim};
use crate::store::{LeaseHolder, StoreResult, Tenant};
use crate::vector_stores::model::VectorStoreFile;

/// `in_progress` files nobody ingests: no lease, a lease that ran out, or one of an
/// earlier life of the claiming instance ($1 instance, $2 process).
fn claimable() -> String {
    format!(
        "status = 'in_progress' AND (lease_expires_at IS NULL OR lease_expires_at <= {NOW_MS} \
         OR (lease_owner = $1 AND lease_process <> $2))"
    )
}

/// Store and file ids of `keys`, as two arrays to unnest side by side.
fn columns(keys: &[AttachmentKey]) -> (Vec<&str>, Vec<&str>) {
    keys.iter()
        .map(|key| (key.vector_store_id.as_str(), key.file_id.as_str()))
        .unzip()
}

/// Takes the leases of the files in `claim` nobody ingests; the files taken, oldest first.
pub(super) async fn claim(
    pg: &PgStore,
    holder: &LeaseHolder,
    lease_ms: i64,
    claim: IngestionClaim<'_>,
) -> StoreResult<Vec<(Tenant, VectorStoreFile)>> {
    // $1 instance, $2 process, $3 lease, $4 limit, then the scope's values.
    let (scope, limit) = match claim {
        IngestionClaim::Attached { files, .. } => (
            " AND tenant = $5 AND (vector_store_id, id) IN \
             (SELECT * FROM UNNEST($6::TEXT[], $7::TEXT[]))",
            files.len(),
        ),
        IngestionClaim::Oldest { limit } => ("", limit),
    };
    if limit == 0 {
        return Ok(Vec::new());
    }
    let sql = format!(
        "UPDATE vector_store_files SET lease_owner = $1, lease_process = $2, \
         lease_expires_at = {NOW_MS} + $3 \
         WHERE seq IN (SELECT seq FROM vector_store_files WHERE {}{scope} \
         ORDER BY seq LIMIT $4 FOR UPDATE SKIP LOCKED) \
         RETURNING seq, tenant, data",
        claimable()
    );
    let query = sqlx::query_as::<_, (i64, String, String)>(&sql)
        .bind(holder.instance.as_str())
        .bind(holder.process.as_str())
        .bind(lease_ms)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX));
    let mut rows = match claim {
        IngestionClaim::Attached { tenant, files } => {
            let keys: Vec<AttachmentKey> = files.iter().map(AttachmentKey::of).collect();
            let (stores, ids) = columns(&keys);
            query
                .bind(tenant.as_str())
                .bind(stores)
                .bind(ids)
                .fetch_all(&pg.pool)
                .await?
        }
        IngestionClaim::Oldest { .. } => query.fetch_all(&pg.pool).await?,
    };
    // RETURNING gives no order; ingestion goes oldest first.
    rows.sort_by_key(|(seq, ..)| *seq);
    rows.into_iter()
        .map(|(_, tenant, data)| Ok((Tenant::from_stored(tenant), from_document(&data)?)))
        .collect()
}

/// Extends `holder`'s leases on `files` still `in_progress` (and not locked by another
/// writer); how many.
pub(super) async fn renew(
    pg: &PgStore,
    holder: &LeaseHolder,
    files: &[AttachmentKey],
    lease_ms: i64,
) -> StoreResult<u64> {
    if files.is_empty() {
        return Ok(0);
    }
    let (stores, ids) = columns(files);
    let result = sqlx::query(&format!(
        "UPDATE vector_store_files SET lease_expires_at = {NOW_MS} + $1 \
         WHERE seq IN (SELECT seq FROM vector_store_files \
         WHERE lease_owner = $2 AND lease_process = $3 AND status = 'in_progress' \
         AND (vector_store_id, id) IN (SELECT * FROM UNNEST($4::TEXT[], $5::TEXT[])) \
         ORDER BY seq FOR UPDATE SKIP LOCKED)"
    ))
    .bind(lease_ms)
    .bind(holder.instance.as_str())
    .bind(holder.process.as_str())
    .bind(stores)
    .bind(ids)
    .execute(&pg.pool)
    .await?;
    Ok(result.rows_affected())
}

/// Releases every ingestion lease `holder` holds; how many.
pub(super) async fn release(pg: &PgStore, holder: &LeaseHolder) -> StoreResult<u64> {
    let result = sqlx::query(
        "UPDATE vector_store_files SET lease_owner = NULL, lease_process = NULL, \
         lease_expires_at = NULL WHERE seq IN (SELECT seq FROM vector_store_files \
         WHERE lease_owner = $1 AND lease_process = $2 ORDER BY seq FOR UPDATE)",
    )
    .bind(holder.instance.as_str())
    .bind(holder.process.as_str())
    .execute(&pg.pool)
    .await?;
    Ok(result.rows_affected())
}
