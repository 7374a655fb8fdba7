//! The end of an ingestion on PostgreSQL: the file's status, usage and text, its chunks
//! with their terms and (with an embedding model) their vectors, all in one transaction,
//! which also releases the file's ingestion lease.
//!
//! The attachment row is read `FOR UPDATE` while still `in_progress`: a cancel, detach
//! or re-attachment committed first makes the read skip it (the ingestion then records
//! nothing), and one that comes later waits for this transaction and then sees the
//! ingestion's end, as SQLite's single writer ordered them. So does a claim by another
//! instance: one committed first holds the lease, which the read then finds is not the
//! finishing instance's.

use super::super::{from_document, settle, to_document, PgStore};
use super::chunks::{guard_store, insert_chunks};
use super::embeddings::insert_vectors;
use crate::store::vector_stores::{ChunkVectors, IngestedFile};
use crate::store::{LeaseHolder, StoreResult, Tenant};
use crate::vector_stores::model::VectorStoreFile;

/// Records `done` only if the file is still the `in_progress` attachment this ingestion
/// was for (and, with `holder`, still leased to it); whether it was.
pub(super) async fn finish(
    pg: &PgStore,
    tenant: &Tenant,
    done: &IngestedFile,
    vectors: Option<&ChunkVectors>,
    holder: Option<&LeaseHolder>,
) -> StoreResult<bool> {
    let file = &done.file;
    let mut tx = pg.begin().await?;
    let result: StoreResult<bool> = async {
        let Some(store_key) = guard_store(&mut tx, tenant, &file.vector_store_id).await? else {
            return Ok(false);
        };
        let row: Option<(String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT data, lease_owner, lease_process FROM vector_store_files \
             WHERE tenant = $1 AND vector_store_id = $2 AND id = $3 \
             AND status = 'in_progress' FOR UPDATE",
        )
        .bind(tenant.as_str())
        .bind(&file.vector_store_id)
        .bind(&file.id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((data, owner, process)) = row else {
            return Ok(false);
        };
        // An instance that took the file over holds its lease now, and records its own
        // ingestion instead.
        if let Some(holder) = holder {
            if owner.as_deref() != Some(holder.instance.as_str())
                || process.as_deref() != Some(holder.process.as_str())
            {
                return Ok(false);
            }
        }
        // Only the attachment this ingestion was for: a re-attachment in between has its
        // own `created_at` or chunking and its own ingestion.
        let mut stored: VectorStoreFile = from_document(&data)?;
        if stored.created_at != file.created_at
            || stored.chunking_strategy != file.chunking_strategy
        {
            return Ok(false);
        }
        // Only the ingestion's own fields change (attributes set meanwhile stay).
        stored.status = file.status;
        stored.usage_bytes = file.usage_bytes;
        stored.last_error.clone_from(&file.last_error);
        sqlx::query(
            "UPDATE vector_store_files SET status = $1, usage_bytes = $2, content = $3, \
             data = $4, lease_owner = NULL, lease_process = NULL, lease_expires_at = NULL \
             WHERE tenant = $5 AND vector_store_id = $6 AND id = $7",
        )
        .bind(file.status.as_str())
        .bind(file.usage_bytes)
        .bind(done.text.as_deref().map(str::as_bytes))
        .bind(to_document(&stored)?)
        .bind(tenant.as_str())
        .bind(&file.vector_store_id)
        .bind(&file.id)
        .execute(&mut *tx)
        .await?;
        let chunk_ids = insert_chunks(&mut tx, tenant, store_key, file, &done.chunks).await?;
        if let Some(vectors) = vectors {
            insert_vectors(&mut tx, tenant, file, &chunk_ids, vectors).await?;
        }
        Ok(true)
    }
    .await;
    settle(tx, result).await
}
