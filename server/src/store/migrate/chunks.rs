//! Chunks cross by re-deriving what PostgreSQL keeps of them (terms, word counts,
//! statistics) from their text, file by file in chunk order, with their vectors.

use sqlx::sqlite::SqlitePool;
use sqlx::{PgConnection, Row};

use super::sqlite;
use crate::embeddings::vectors::from_blob;
use crate::store::postgres::import_chunks;
use crate::store::vector_stores::ChunkVectors;
use crate::store::{StoreError, StoreResult, Tenant};
use crate::vector_stores::model::VectorStoreFile;

/// Copies the chunks (and vectors) of every attached file; returns how many chunks.
pub(super) async fn copy_chunks(
    source: &SqlitePool,
    target: &mut PgConnection,
) -> StoreResult<u64> {
    let files: Vec<(String, String)> =
        sqlx::query_as("SELECT tenant, data FROM vector_store_files ORDER BY seq")
            .fetch_all(source)
            .await
            .map_err(sqlite)?;
    let mut copied = 0u64;
    for (tenant, data) in files {
        let file: VectorStoreFile = serde_json::from_str(&data)
            .map_err(|e| StoreError::Corrupt(format!("vector store file: {e}")))?;
        let rows = sqlx::query(
            "SELECT c.rowid AS chunk_id, c.text AS text, e.model AS model, e.vector AS vector \
             FROM vector_store_chunks AS c \
             LEFT JOIN vector_store_embeddings AS e ON e.chunk_id = c.rowid \
             WHERE c.tenant = ? AND c.vector_store_id = ? AND c.file_id = ? \
             ORDER BY c.position",
        )
        .bind(&tenant)
        .bind(&file.vector_store_id)
        .bind(&file.id)
        .fetch_all(source)
        .await
        .map_err(sqlite)?;
        if rows.is_empty() {
            continue;
        }
        let mut texts = Vec::with_capacity(rows.len());
        let mut model = None;
        let mut vectors = Vec::new();
        for row in &rows {
            texts.push(row.try_get::<String, _>("text").map_err(sqlite)?);
            let blob: Option<Vec<u8>> = row.try_get("vector").map_err(sqlite)?;
            if let Some(vector) = blob.as_deref().and_then(from_blob) {
                model = row.try_get::<Option<String>, _>("model").map_err(sqlite)?;
                vectors.push(vector);
            }
        }
        // A file's vectors are all or nothing (ingestion writes them together).
        let vectors = match model {
            Some(model) if vectors.len() == texts.len() => Some(ChunkVectors { model, vectors }),
            _ => None,
        };
        import_chunks(
            target,
            &Tenant::from_stored(tenant),
            &file,
            &texts,
            vectors.as_ref(),
        )
        .await?;
        copied += texts.len() as u64;
    }
    Ok(copied)
}
