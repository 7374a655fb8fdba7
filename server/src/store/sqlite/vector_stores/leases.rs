//! SQLite queries for ingestion leases (see [`crate::vector_stores::Ingestor`]). As for
//! runs ([`super::super::leases`]), SQLite has one writer across every process on the
//! file: a claim's `UPDATE … WHERE seq IN (SELECT …)` reads and takes the files in one
//! write, so two instances claiming at once never get the same file. Times are the
//! database's clock, in unix milliseconds.

use super::super::leases::NOW_MS;
use super::super::{from_document, SqliteStore};
use crate::store::vector_stores::{AttachmentKey, IngestionClaim};
use crate::store::{LeaseHolder, StoreResult, Tenant};
use crate::vector_stores::model::VectorStoreFile;

/// Attachments named in one statement (two bound values each, far below SQLite's limit).
const BATCH: usize = 200;

/// `(?, ?), (?, ?), …` for `count` attachment keys.
fn pairs(count: usize) -> String {
    vec!["(?, ?)"; count].join(", ")
}

/// `in_progress` files nobody ingests: no lease, a lease that ran out, or one of an
/// earlier life of the claiming instance (binds: instance, process).
fn claimable() -> String {
    format!(
        "status = 'in_progress' AND (lease_expires_at IS NULL OR lease_expires_at <= {NOW_MS} \
         OR (lease_owner = ? AND lease_process != ?))"
    )
}

/// Takes the leases of the files in `claim` nobody ingests; the files taken, oldest first.
pub(super) async fn claim(
    sqlite: &SqliteStore,
    holder: &LeaseHolder,
    lease_ms: i64,
    claim: IngestionClaim<'_>,
) -> StoreResult<Vec<(Tenant, VectorStoreFile)>> {
    let mut rows = Vec::new();
    match claim {
        IngestionClaim::Attached { tenant, files } => {
            for batch in files.chunks(BATCH) {
                let keys: Vec<AttachmentKey> = batch.iter().map(AttachmentKey::of).collect();
                let scope = format!(
                    "tenant = ? AND (vector_store_id, id) IN (VALUES {})",
                    pairs(keys.len())
                );
                rows.extend(
                    claim_where(
                        sqlite,
                        holder,
                        lease_ms,
                        &scope,
                        Some(tenant),
                        &keys,
                        batch.len(),
                    )
                    .await?,
                );
            }
        }
        IngestionClaim::Oldest { limit } => {
            if limit > 0 && any_claimable(sqlite, holder).await? {
                rows = claim_where(sqlite, holder, lease_ms, "1 = 1", None, &[], limit).await?;
            }
        }
    }
    // RETURNING gives no order; ingestion goes oldest first.
    rows.sort_by_key(|(seq, ..)| *seq);
    rows.into_iter()
        .map(|(_, tenant, data)| Ok((Tenant::from_stored(tenant), from_document(&data)?)))
        .collect()
}

/// Whether any file is claimable: every instance sweeps every second, and a read does
/// not wait for (nor hold up) the one writer as an `UPDATE` that finds nothing would.
async fn any_claimable(sqlite: &SqliteStore, holder: &LeaseHolder) -> StoreResult<bool> {
    let sql = format!(
        "SELECT EXISTS (SELECT 1 FROM vector_store_files WHERE {})",
        claimable()
    );
    let found: bool = sqlx::query_scalar(&sql)
        .bind(holder.instance.as_str())
        .bind(holder.process.as_str())
        .fetch_one(&sqlite.pool)
        .await?;
    Ok(found)
}

/// One claim of up to `limit` claimable files also matching `scope` (whose binds are
/// `tenant`, if any, then `keys`).
async fn claim_where(
    sqlite: &SqliteStore,
    holder: &LeaseHolder,
    lease_ms: i64,
    scope: &str,
    tenant: Option<&Tenant>,
    keys: &[AttachmentKey],
    limit: usize,
) -> StoreResult<Vec<(i64, String, String)>> {
    let sql = format!(
        "UPDATE vector_store_files SET lease_owner = ?, lease_process = ?, \
         lease_expires_at = {NOW_MS} + ? \
         WHERE seq IN (SELECT seq FROM vector_store_files WHERE {} AND {scope} \
         ORDER BY seq LIMIT ?) \
         RETURNING seq, tenant, data",
        claimable()
    );
    let mut query = sqlx::query_as::<_, (i64, String, String)>(&sql)
        .bind(holder.instance.as_str())
        .bind(holder.process.as_str())
        .bind(lease_ms)
        .bind(holder.instance.as_str())
        .bind(holder.process.as_str());
    if let Some(tenant) = tenant {
        query = query.bind(tenant.as_str());
    }
    for key in keys {
        query = query.bind(&key.vector_store_id).bind(&key.file_id);
    }
    let rows = query
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&sqlite.pool)
        .await?;
    Ok(rows)
}

/// Extends `holder`'s leases on `files` still `in_progress`; how many.
pub(super) async fn renew(
    sqlite: &SqliteStore,
    holder: &LeaseHolder,
    files: &[AttachmentKey],
    lease_ms: i64,
) -> StoreResult<u64> {
    let mut renewed = 0;
    for batch in files.chunks(BATCH) {
        let sql = format!(
            "UPDATE vector_store_files SET lease_expires_at = {NOW_MS} + ? \
             WHERE lease_owner = ? AND lease_process = ? AND status = 'in_progress' \
             AND (vector_store_id, id) IN (VALUES {})",
            pairs(batch.len())
        );
        let mut query = sqlx::query(&sql)
            .bind(lease_ms)
            .bind(holder.instance.as_str())
            .bind(holder.process.as_str());
        for key in batch {
            query = query.bind(&key.vector_store_id).bind(&key.file_id);
        }
        renewed += query.execute(&sqlite.pool).await?.rows_affected();
    }
    Ok(renewed)
}

/// Releases every ingestion lease `holder` holds; how many.
pub(super) async fn release(sqlite: &SqliteStore, holder: &LeaseHolder) -> StoreResult<u64> {
    let result = sqlx::query(
        "UPDATE vector_store_files SET lease_owner = NULL, lease_process = NULL, \
         lease_expires_at = NULL WHERE lease_owner = ? AND lease_process = ?",
    )
    .bind(holder.instance.as_str())
    .bind(holder.process.as_str())
    .execute(&sqlite.pool)
    .await?;
    Ok(result.rows_affected())
}
