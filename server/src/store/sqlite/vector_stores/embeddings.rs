//! The vector side of vector stores in SQLite: each store's embedding model, the
//! chunks' vectors (little-endian f32 BLOBs keyed by chunk row id) and the brute-force
//! similarity search over them, streamed row by row so memory stays at the best few.

use std::collections::HashMap;

use futures::TryStreamExt;
use sqlx::sqlite::SqlitePool;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use super::chunks::push_scope;
use crate::embeddings::vectors::to_blob;
use crate::store::similarity::{nothing_to_compare, Scored, TopSimilar};
use crate::store::vector_stores::{ChunkScope, ChunkVectors, SimilarityQuery};
use crate::store::{StoreError, StoreResult, Tenant};
use crate::vector_stores::model::{SimilarChunk, VectorStoreFile};

/// Writes the vectors of the chunks `chunk_ids` (same order); a count that does not
/// match is refused, so no file is completed with some chunks left without vectors, and
/// so are vectors whose dimension differs from the store's (recorded by the first
/// vectors written to it).
pub(super) async fn insert_vectors(
    conn: &mut SqliteConnection,
    tenant: &Tenant,
    file: &VectorStoreFile,
    chunk_ids: &[i64],
    vectors: &ChunkVectors,
) -> StoreResult<()> {
    if chunk_ids.len() != vectors.vectors.len() {
        return Err(StoreError::Conflict(format!(
            "{} vectors for {} chunks",
            vectors.vectors.len(),
            chunk_ids.len()
        )));
    }
    record_dimensions(conn, tenant, &file.vector_store_id, &vectors.vectors).await?;
    for (chunk_id, vector) in chunk_ids.iter().zip(&vectors.vectors) {
        sqlx::query(
            "INSERT INTO vector_store_embeddings \
             (chunk_id, tenant, vector_store_id, file_id, model, vector) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(chunk_id)
        .bind(tenant.as_str())
        .bind(&file.vector_store_id)
        .bind(&file.id)
        .bind(&vectors.model)
        .bind(to_blob(vector))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Records the dimension of `vectors` as the store's when it has none yet; a
/// `Conflict` naming both when the store's differs (or `vectors` mix dimensions).
async fn record_dimensions(
    conn: &mut SqliteConnection,
    tenant: &Tenant,
    vector_store_id: &str,
    vectors: &[Vec<f32>],
) -> StoreResult<()> {
    let Some(dimensions) = vectors.first().map(Vec::len) else {
        return Ok(());
    };
    if vectors.iter().any(|vector| vector.len() != dimensions) {
        return Err(StoreError::Conflict(
            "the vectors of one file have different dimensions".to_owned(),
        ));
    }
    let recorded: Option<Option<i64>> = sqlx::query_scalar(
        "UPDATE vector_stores SET embedding_dimensions = coalesce(embedding_dimensions, ?) \
         WHERE tenant = ? AND id = ? RETURNING embedding_dimensions",
    )
    .bind(dimensions as i64)
    .bind(tenant.as_str())
    .bind(vector_store_id)
    .fetch_optional(&mut *conn)
    .await?;
    match recorded.flatten() {
        Some(recorded) if recorded != dimensions as i64 => Err(StoreError::Conflict(format!(
            "vector store '{vector_store_id}' holds {recorded}-dimension vectors and the \
             embedding model answered {dimensions} dimensions"
        ))),
        _ => Ok(()),
    }
}

/// The embedding model of each of the tenant's `ids` that exists.
pub(super) async fn embedding_models(
    pool: &SqlitePool,
    tenant: &Tenant,
    ids: &[String],
) -> StoreResult<HashMap<String, Option<String>>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut query = QueryBuilder::<Sqlite>::new(
        "SELECT id, embedding_model FROM vector_stores WHERE tenant = ",
    );
    query.push_bind(tenant.as_str());
    query.push(" AND id IN (");
    let mut list = query.separated(", ");
    for id in ids {
        list.push_bind(id.as_str());
    }
    query.push(")");
    let rows: Vec<(String, Option<String>)> = query.build_query_as().fetch_all(pool).await?;
    Ok(rows.into_iter().collect())
}

/// The most similar chunks within `scope` (see `VectorStoreStore::similar_chunks`).
pub(super) async fn similar_chunks(
    pool: &SqlitePool,
    tenant: &Tenant,
    scope: &ChunkScope<'_>,
    wanted: &SimilarityQuery<'_>,
) -> StoreResult<Vec<SimilarChunk>> {
    if nothing_to_compare(scope, wanted) {
        return Ok(Vec::new());
    }
    let mut query = QueryBuilder::<Sqlite>::new(
        "SELECT chunk_id, vector FROM vector_store_embeddings WHERE model = ",
    );
    query.push_bind(wanted.model);
    push_scope(&mut query, tenant, scope);
    let mut ranking = TopSimilar::new(wanted);
    let mut rows = query.build_query_as::<(i64, Vec<u8>)>().fetch(pool);
    while let Some((chunk_id, blob)) = rows.try_next().await? {
        ranking.offer(chunk_id, &blob);
    }
    drop(rows);
    let chosen = ranking.finish();
    with_texts(pool, tenant, chosen).await
}

/// `chosen` with their chunks' store, file and text, in the same order.
async fn with_texts(
    pool: &SqlitePool,
    tenant: &Tenant,
    chosen: Vec<Scored>,
) -> StoreResult<Vec<SimilarChunk>> {
    if chosen.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = QueryBuilder::<Sqlite>::new(
        "SELECT rowid, vector_store_id, file_id, text FROM vector_store_chunks WHERE tenant = ",
    );
    query.push_bind(tenant.as_str());
    query.push(" AND rowid IN (");
    let mut ids = query.separated(", ");
    for scored in &chosen {
        ids.push_bind(scored.chunk_id);
    }
    query.push(")");
    let rows: Vec<(i64, String, String, String)> = query.build_query_as().fetch_all(pool).await?;
    let mut by_id: HashMap<i64, (String, String, String)> = rows
        .into_iter()
        .map(|(id, store, file, text)| (id, (store, file, text)))
        .collect();
    Ok(chosen
        .into_iter()
        .filter_map(|scored| {
            let (vector_store_id, file_id, text) = by_id.remove(&scored.chunk_id)?;
            Some(SimilarChunk {
                chunk_id: scored.chunk_id,
                vector_store_id,
                file_id,
                text,
                similarity: scored.similarity,
            })
        })
        .collect())
}
