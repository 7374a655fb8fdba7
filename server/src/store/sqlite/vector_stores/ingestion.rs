//! The end of an ingestion in SQLite: the file's status, usage and text, its chunks
//! and (with an embedding model) their vectors, all in one transaction, which also
//! releases the file's ingestion lease.

use super::super::{to_document, SqliteStore};
use super::chunks::insert_chunks;
use super::embeddings::insert_vectors;
use crate::store::vector_stores::{ChunkVectors, IngestedFile};
use crate::store::{LeaseHolder, StoreResult, Tenant};

/// Records `done` only if the file is still the `in_progress` attachment this ingestion
/// was for (and, with `holder`, still leased to it); whether it was.
pub(super) async fn finish(
    sqlite: &SqliteStore,
    tenant: &Tenant,
    done: &IngestedFile,
    vectors: Option<&ChunkVectors>,
    holder: Option<&LeaseHolder>,
) -> StoreResult<bool> {
    let file = &done.file;
    let mut tx = sqlite.begin_write().await?;
    // Only the ingestion's own fields change (attributes set meanwhile stay), and
    // only on the attachment this ingestion was for: a re-attachment in between has
    // its own `created_at` or chunking and its own ingestion. An instance that took the
    // file over holds its lease now, and records its own ingestion instead.
    let held = match holder {
        Some(_) => " AND lease_owner = ? AND lease_process = ?",
        None => "",
    };
    let sql = format!(
        "UPDATE vector_store_files SET status = ?, usage_bytes = ?, content = ?, \
         data = json_set(data, '$.status', ?, '$.usage_bytes', ?, '$.last_error', json(?)), \
         lease_owner = NULL, lease_process = NULL, lease_expires_at = NULL \
         WHERE tenant = ? AND vector_store_id = ? AND id = ? AND status = 'in_progress' \
         AND json_extract(data, '$.created_at') = ? \
         AND json(json_extract(data, '$.chunking_strategy')) = json(?){held}"
    );
    let mut query = sqlx::query(&sql)
        .bind(file.status.as_str())
        .bind(file.usage_bytes)
        .bind(done.text.as_deref())
        .bind(file.status.as_str())
        .bind(file.usage_bytes)
        .bind(to_document(&file.last_error)?)
        .bind(tenant.as_str())
        .bind(&file.vector_store_id)
        .bind(&file.id)
        .bind(file.created_at)
        .bind(to_document(&file.chunking_strategy)?);
    if let Some(holder) = holder {
        query = query
            .bind(holder.instance.as_str())
            .bind(holder.process.as_str());
    }
    let result = query.execute(&mut *tx).await?;
    if result.rows_affected() == 0 {
        return Ok(false);
    }
    let chunk_ids = insert_chunks(&mut tx, tenant, file, &done.chunks).await?;
    if let Some(vectors) = vectors {
        insert_vectors(&mut tx, tenant, file, &chunk_ids, vectors).await?;
    }
    tx.commit().await?;
    Ok(true)
}
