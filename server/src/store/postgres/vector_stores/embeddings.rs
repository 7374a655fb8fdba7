//! The vector side of vector stores on PostgreSQL: each store's embedding model, the
//! chunks' vectors (little-endian f32 `bytea`, as SQLite's BLOBs) and the brute-force
//! similarity search over them, streamed row by row so memory stays at the best few.
//! The comparison is SQLite's, in Rust, so both backends return the same chunks with
//! the same similarities. pgvector is not used (it is not installed everywhere this
//! runs); an approximate index where it is would be an addition, not a requirement.

use std::collections::HashMap;

use futures::TryStreamExt;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};

use super::terms::utf8;
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
    conn: &mut PgConnection,
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
    let blobs: Vec<Vec<u8>> = vectors.vectors.iter().map(|v| to_blob(v)).collect();
    sqlx::query(
        "INSERT INTO vector_store_embeddings \
         (chunk_id, tenant, vector_store_id, file_id, model, vector) \
         SELECT c, $1, $2, $3, $4, v FROM UNNEST($5::INT8[], $6::BYTEA[]) AS u (c, v)",
    )
    .bind(tenant.as_str())
    .bind(&file.vector_store_id)
    .bind(&file.id)
    .bind(&vectors.model)
    .bind(chunk_ids)
    .bind(&blobs)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records the dimension of `vectors` as the store's when it has none yet; a
/// `Conflict` naming both when the store's differs (or `vectors` mix dimensions).
/// The UPDATE locks the store's row until the ingestion commits, so two ingestions of
/// different dimensions into a new store cannot both record theirs: the second sees
/// the first's once it commits.
async fn record_dimensions(
    conn: &mut PgConnection,
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
    // A dimension past i32 cannot be recorded; no embedding model answers one.
    let wanted = i32::try_from(dimensions).map_err(|_| {
        StoreError::Conflict(format!("{dimensions}-dimension vectors are too long"))
    })?;
    let recorded: Option<Option<i32>> = sqlx::query_scalar(
        "UPDATE vector_stores SET embedding_dimensions = COALESCE(embedding_dimensions, $1) \
         WHERE tenant = $2 AND id = $3 RETURNING embedding_dimensions",
    )
    .bind(wanted)
    .bind(tenant.as_str())
    .bind(vector_store_id)
    .fetch_optional(&mut *conn)
    .await?;
    match recorded.flatten() {
        Some(recorded) if recorded != wanted => Err(StoreError::Conflict(format!(
            "vector store '{vector_store_id}' holds {recorded}-dimension vectors and the \
             embedding model answered {dimensions} dimensions"
        ))),
        _ => Ok(()),
    }
}

/// The embedding model of each of the tenant's `ids` that exists.
pub(super) async fn embedding_models(
    pool: &PgPool,
    tenant: &Tenant,
    ids: &[String],
) -> StoreResult<HashMap<String, Option<String>>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT id, embedding_model FROM vector_stores WHERE tenant = $1 AND id = ANY($2)",
    )
    .bind(tenant.as_str())
    .bind(ids)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().collect())
}

/// Appends the conditions keeping a query on the tenant's `scope` (the table has
/// `tenant`, `vector_store_id` and `file_id` columns).
fn push_scope<'a>(
    query: &mut QueryBuilder<'a, Postgres>,
    tenant: &'a Tenant,
    scope: &ChunkScope<'a>,
) {
    query.push(" AND tenant = ").push_bind(tenant.as_str());
    query
        .push(" AND vector_store_id = ANY(")
        .push_bind(scope.vector_store_ids)
        .push(")");
    if let Some(files) = scope.files {
        let (stores, files): (Vec<&str>, Vec<&str>) = files
            .iter()
            .map(|(store, file)| (store.as_str(), file.as_str()))
            .unzip();
        query
            .push(" AND (vector_store_id, file_id) IN (SELECT * FROM UNNEST(")
            .push_bind(stores)
            .push("::TEXT[], ")
            .push_bind(files)
            .push("::TEXT[]))");
    }
}

/// The most similar chunks within `scope` (see `VectorStoreStore::similar_chunks`).
pub(super) async fn similar_chunks(
    pool: &PgPool,
    tenant: &Tenant,
    scope: &ChunkScope<'_>,
    wanted: &SimilarityQuery<'_>,
) -> StoreResult<Vec<SimilarChunk>> {
    if nothing_to_compare(scope, wanted) {
        return Ok(Vec::new());
    }
    let mut query = QueryBuilder::<Postgres>::new(
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
    pool: &PgPool,
    tenant: &Tenant,
    chosen: Vec<Scored>,
) -> StoreResult<Vec<SimilarChunk>> {
    if chosen.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = chosen.iter().map(|s| s.chunk_id).collect();
    let rows: Vec<(i64, String, String, Vec<u8>)> = sqlx::query_as(
        "SELECT id, vector_store_id, file_id, text FROM vector_store_chunks \
         WHERE tenant = $1 AND id = ANY($2)",
    )
    .bind(tenant.as_str())
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    let mut by_id: HashMap<i64, (String, String, Vec<u8>)> = rows
        .into_iter()
        .map(|(id, store, file, text)| (id, (store, file, text)))
        .collect();
    let mut found = Vec::with_capacity(chosen.len());
    for scored in chosen {
        let Some((vector_store_id, file_id, text)) = by_id.remove(&scored.chunk_id) else {
            continue;
        };
        found.push(SimilarChunk {
            chunk_id: scored.chunk_id,
            vector_store_id,
            file_id,
            text: utf8(scored.chunk_id, text)?,
            similarity: scored.similarity,
        });
    }
    Ok(found)
}
