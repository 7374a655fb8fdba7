//! The FTS5 side of vector stores: writing and dropping chunks, with their owners and
//! their stores' bm25 statistics (see [`super::terms`] for reading them).
//!
//! Each chunk's `scope` column holds one token naming its store ([`scope_token`]);
//! searches match `scope:"<token>" AND text:(<terms>)` ([`match_expression`]), so
//! FTS5 only looks at chunks of the stores searched (the tenant, store and file columns
//! are UNINDEXED: checked only on rows the match returns).

use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use super::terms::add_to_stats;
use crate::store::vector_stores::ChunkScope;
use crate::store::{StoreResult, Tenant};
use crate::vector_stores::bm25::word_count;
use crate::vector_stores::model::VectorStoreFile;

/// The statements dropping the chunks of one file of a store (bound to tenant, store,
/// file) or, without `by_file`, of a whole store (tenant, store): the store's bm25
/// statistics less those chunks (or gone with the store), the chunks by row id through
/// their owners, their vectors, then the owners. Each reaches its rows through an index,
/// so the cost follows the chunks dropped, not the chunk table (FTS5 cannot index its
/// UNINDEXED columns: a `WHERE file_id = ?` on it scans every chunk).
pub(super) fn drop_statements(by_file: bool) -> [String; 4] {
    let owned = if by_file {
        "tenant = ? AND vector_store_id = ? AND file_id = ?"
    } else {
        "tenant = ? AND vector_store_id = ?"
    };
    let stats = if by_file {
        // Numbered: the file's owners are read twice.
        let file_owners = "FROM vector_store_chunk_owners \
                           WHERE tenant = ?1 AND vector_store_id = ?2 AND file_id = ?3";
        format!(
            "UPDATE vector_store_chunk_stats SET \
             chunks = chunks - (SELECT count(*) {file_owners}), \
             words = words - (SELECT COALESCE(SUM(words), 0) {file_owners}) \
             WHERE tenant = ?1 AND vector_store_id = ?2"
        )
    } else {
        "DELETE FROM vector_store_chunk_stats WHERE tenant = ? AND vector_store_id = ?".to_owned()
    };
    [
        stats,
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
        query.execute(&mut *conn).await?;
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
    let result = query.execute(&mut *tx).await?;
    super::super::expect_one(result)?;
    Ok(tx.commit().await?)
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

/// The FTS5 query for the terms `query` (quoted words) within the stores
/// `vector_store_ids`; the terms only match the chunk text.
pub(super) fn match_expression(vector_store_ids: &[String], query: &str) -> String {
    let stores: Vec<String> = vector_store_ids
        .iter()
        .map(|id| format!("scope:\"{}\"", scope_token(id)))
        .collect();
    format!("({}) AND text:({query})", stores.join(" OR "))
}

/// Writes a file's chunks in order, with their owners (and word counts) and their
/// store's bm25 statistics; their row ids, in the same order.
pub(super) async fn insert_chunks(
    conn: &mut SqliteConnection,
    tenant: &Tenant,
    file: &VectorStoreFile,
    chunks: &[String],
) -> StoreResult<Vec<i64>> {
    let mut ids = Vec::with_capacity(chunks.len());
    let mut words = Vec::with_capacity(chunks.len());
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
        .await?;
        let chunk_id = written.last_insert_rowid();
        let count = word_count(chunk);
        sqlx::query(
            "INSERT INTO vector_store_chunk_owners \
             (chunk_id, tenant, vector_store_id, file_id, words) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(chunk_id)
        .bind(tenant.as_str())
        .bind(&file.vector_store_id)
        .bind(&file.id)
        .bind(i64::from(count))
        .execute(&mut *conn)
        .await?;
        ids.push(chunk_id);
        words.push(count);
    }
    add_to_stats(conn, tenant, &file.vector_store_id, &words).await?;
    Ok(ids)
}

/// Appends ` AND` conditions keeping a query on the tenant's `scope` (the table must have
/// `tenant`, `vector_store_id` and `file_id` columns): semantic search uses it, and
/// keyword search applies the same scope to its term matches.
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
