//! File counts and usage of a vector store or batch, computed from the file rows.

use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use crate::models::VectorStoreFileStatus;
use crate::store::{StoreResult, Tenant};
use crate::vector_stores::model::{FileCounts, VectorStore};

/// Counts and usage of the files of one store, or of one batch.
pub(super) async fn counts(
    conn: &mut SqliteConnection,
    tenant: &Tenant,
    vector_store_id: &str,
    batch_id: Option<&str>,
) -> StoreResult<(FileCounts, i64)> {
    let mut query = QueryBuilder::<Sqlite>::new(
        "SELECT status, COUNT(*), COALESCE(SUM(usage_bytes), 0) FROM vector_store_files \
         WHERE tenant = ",
    );
    query.push_bind(tenant.as_str());
    query
        .push(" AND vector_store_id = ")
        .push_bind(vector_store_id);
    if let Some(batch_id) = batch_id {
        query.push(" AND batch_id = ").push_bind(batch_id);
    }
    query.push(" GROUP BY status");
    let rows: Vec<(String, i64, i64)> = query.build_query_as().fetch_all(&mut *conn).await?;
    let mut counts = FileCounts::default();
    let mut usage = 0;
    for (status, count, bytes) in rows {
        match status.parse::<VectorStoreFileStatus>()? {
            VectorStoreFileStatus::InProgress => counts.in_progress += count,
            VectorStoreFileStatus::Completed => counts.completed += count,
            VectorStoreFileStatus::Failed => counts.failed += count,
            VectorStoreFileStatus::Cancelled => counts.cancelled += count,
        }
        counts.total += count;
        usage += bytes;
    }
    Ok((counts, usage))
}

/// `store` with its computed fields at `now`.
pub(super) async fn with_counts(
    conn: &mut SqliteConnection,
    tenant: &Tenant,
    store: VectorStore,
    now: i64,
) -> StoreResult<VectorStore> {
    let (file_counts, usage) = counts(conn, tenant, &store.id, None).await?;
    Ok(store.with_counts(file_counts, usage, now))
}
