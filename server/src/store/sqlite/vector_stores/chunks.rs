//! The FTS5 side of vector stores: writing, dropping and ranking chunks.
//!
//! Each chunk's `scope` column holds one token naming its store ([`scope_token`]);
//! searches match `scope:"<token>" AND text:(<terms>)` ([`match_expression`]), so
//! FTS5 only ranks chunks of the stores searched (the tenant, store and file columns
//! are UNINDEXED: checked only on rows the match returns).

use sqlx::sqlite::SqlitePool;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use super::super::backend;
use crate::store::vector_stores::ChunkScope;
use crate::store::{StoreResult, Tenant};
use crate::vector_stores::model::{ChunkHit, VectorStoreFile};

/// The statements dropping the chunks of one file of a store (bound to tenant, store,
/// file) or, without `by_file`, of a whole store (tenant, store): the chunks by row id
/// through their owners, their vectors, then the owners. Each reaches its rows through
/// an index, so the cost follows the chunks dropped, not the chunk table (FTS5 cannot
/// index its UNINDEXED columns: a `WHERE file_id = ?` on it scans every chunk).
pub(super) fn drop_statements(by_file: bool) -> [String; 3] {
    let owned = if by_file {
        "tenant = ? AND vector_store_id = ? AND file_id = ?"
    } else {
        "tenant = ? AND vector_store_id = ?"
    };
    [
        format!(
            "DELETE FROM vector_store_chunks WHERE rowid IN \
             (SELECT chunk_id FROM vector_store_chunk_owners WHERE {owned})"
        ),
        format!("DELETE FROM vector_store_embeddings WHERE {owned}"),
        format!("DELETE FROM vector_store_chunk_owners WHERE {owned}"),
    ]
}

/// Drops the chunks (and their vectors) of one file of a store, or of the whole store.
pub(super) async fn drop_chunks(
    conn: &mut SqliteConnection,
    tenant: &Tenant,
    vector_store_id: &str,
    file_id: Option<&str>,
) -> StoreResult<()> {
    for statement in drop_statements(file_id.is_some()) {
        let mut query = sqlx::query(&statement)
            .bind(tenant.as_str())
            .bind(vector_store_id);
        if let Some(file_id) = file_id {
            query = query.bind(file_id);
        }
        query.execute(&mut *conn).await.map_err(backend)?;
    }
    Ok(())
}

/// Deletes a whole store (`file_id` `None`) or one of its files, with their chunks and
/// vectors, in one transaction; `NotFound` when there is no such row.
pub(super) async fn delete_with_chunks(
    store: &super::super::SqliteStore,
    tenant: &Tenant,
    vector_store_id: &str,
    file_id: Option<&str>,
) -> StoreResult<()> {
    let mut tx = store.begin_write().await?;
    drop_chunks(&mut tx, tenant, vector_store_id, file_id).await?;
    let query = match file_id {
        None => sqlx::query("DELETE FROM vector_stores WHERE tenant = ? AND id = ?")
            .bind(tenant.as_str())
            .bind(vector_store_id),
        Some(file_id) => sqlx::query(
            "DELETE FROM vector_store_files WHERE tenant = ? AND vector_store_id = ? AND id = ?",
        )
        .bind(tenant.as_str())
        .bind(vector_store_id)
        .bind(file_id),
    };
    let result = query.execute(&mut *tx).await.map_err(backend)?;
    super::super::expect_one(result)?;
    tx.commit().await.map_err(backend)
}

/// The token of a store in the `scope` column: `s`, the id's bytes in upper-case hex,
/// `0` (as migration 0013 writes it). Hex keeps it one token for `unicode61`
/// whatever the id holds; the final digit keeps the porter stemmer off it.
pub(super) fn scope_token(vector_store_id: &str) -> String {
    let mut token = String::with_capacity(2 + 2 * vector_store_id.len());
    token.push('s');
    for byte in vector_store_id.bytes() {
        token.push_str(&format!("{byte:02X}"));
    }
    token.push('0');
    token
}

/// The FTS5 query for the terms `query` (quoted words, as `fts_query` makes them)
/// within the stores `vector_store_ids`; the terms only match the chunk text.
pub(super) fn match_expression(vector_store_ids: &[String], query: &str) -> String {
    let stores: Vec<String> = vector_store_ids
        .iter()
        .map(|id| format!("scope:\"{}\"", scope_token(id)))
        .collect();
    format!("({}) AND text:({query})", stores.join(" OR "))
}

/// Writes a file's chunks in order, with their owners; their row ids, in the same order.
pub(super) async fn insert_chunks(
    conn: &mut SqliteConnection,
    tenant: &Tenant,
    file: &VectorStoreFile,
    chunks: &[String],
) -> StoreResult<Vec<i64>> {
    let mut ids = Vec::with_capacity(chunks.len());
    for (position, chunk) in chunks.iter().enumerate() {
        let written = sqlx::query(
            "INSERT INTO vector_store_chunks \
             (text, scope, tenant, vector_store_id, file_id, position) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(chunk)
        .bind(scope_token(&file.vector_store_id))
        .bind(tenant.as_str())
        .bind(&file.vector_store_id)
        .bind(&file.id)
        .bind(position as i64)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
        let chunk_id = written.last_insert_rowid();
        sqlx::query(
            "INSERT INTO vector_store_chunk_owners (chunk_id, tenant, vector_store_id, file_id) \
             VALUES (?, ?, ?, ?)",
        )
        .bind(chunk_id)
        .bind(tenant.as_str())
        .bind(&file.vector_store_id)
        .bind(&file.id)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
        ids.push(chunk_id);
    }
    Ok(ids)
}

/// The best `limit` chunks matching `query_text` within the tenant's `scope`.
pub(super) async fn search_chunks(
    pool: &SqlitePool,
    tenant: &Tenant,
    scope: &ChunkScope<'_>,
    query_text: &str,
    limit: u32,
) -> StoreResult<Vec<ChunkHit>> {
    if scope.vector_store_ids.is_empty() || scope.files.is_some_and(<[_]>::is_empty) {
        return Ok(Vec::new());
    }
    // The scope column weighs nothing: only the text's terms rank.
    let mut query = QueryBuilder::<Sqlite>::new(
        "SELECT rowid, vector_store_id, file_id, text, \
             bm25(vector_store_chunks, 1.0, 0.0) AS keyword_rank \
             FROM vector_store_chunks WHERE vector_store_chunks MATCH ",
    );
    query.push_bind(match_expression(scope.vector_store_ids, query_text));
    push_scope(&mut query, tenant, scope);
    query.push(" ORDER BY keyword_rank, file_id, position LIMIT ");
    query.push_bind(i64::from(limit));
    let rows: Vec<(i64, String, String, String, f64)> = query
        .build_query_as()
        .fetch_all(pool)
        .await
        .map_err(backend)?;
    Ok(rows
        .into_iter()
        .map(
            |(chunk_id, vector_store_id, file_id, text, bm25)| ChunkHit {
                chunk_id,
                vector_store_id,
                file_id,
                text,
                bm25,
            },
        )
        .collect())
}

/// Appends ` AND` conditions keeping a query on the tenant's `scope` (the table must have
/// `tenant`, `vector_store_id` and `file_id` columns): keyword and semantic search
/// share it, so both see exactly the same chunks.
pub(super) fn push_scope<'a>(
    query: &mut QueryBuilder<'a, Sqlite>,
    tenant: &'a Tenant,
    scope: &ChunkScope<'a>,
) {
    query.push(" AND tenant = ").push_bind(tenant.as_str());
    query.push(" AND vector_store_id IN (");
    let mut ids = query.separated(", ");
    for id in scope.vector_store_ids {
        ids.push_bind(id.as_str());
    }
    query.push(")");
    if let Some(files) = scope.files {
        // Files are named "store file" so one IN list checks both columns.
        query.push(" AND (vector_store_id || ' ' || file_id) IN (");
        let mut keys = query.separated(", ");
        for (store, file) in files {
            keys.push_bind(format!("{store} {file}"));
        }
        query.push(")");
    }
}
