//! Writing chunks with their terms, and the locks that keep a store's files and chunks
//! consistent when several transactions (or instances) write them at once.
//!
//! Lock order, the same in every transaction, so none waits in a cycle:
//! 1. the store's row: `FOR KEY SHARE` by anything that writes the store's files or
//!    chunks ([`guard_store`]), deleted (an exclusive lock) by the store's deletion, which
//!    so waits for those writers and is never overtaken by one;
//! 2. the file's advisory lock ([`lock_files`]) by what replaces or removes attachments
//!    (attach, detach, a file's deletion), in id order: SQLite's single writer made a
//!    re-attachment's delete-then-insert atomic, this makes two of them, or one and a
//!    detach, run one after the other instead of colliding on the unique key;
//! 3. attachment rows, locked by the statements that change them (`FOR UPDATE`);
//! 4. the store's statistics row, written last by the chunk triggers (migration 0002).

use std::collections::HashMap;

use sqlx::PgConnection;

use super::super::lock;
use crate::store::{StoreError, StoreResult, Tenant};
use crate::vector_stores::bm25::word_count;
use crate::vector_stores::model::VectorStoreFile;
use crate::vector_stores::tokenize::terms;

/// Chunks written per statement (their terms go in the same batches).
const BATCH: usize = 256;

/// Locks the tenant's store `vector_store_id` against deletion until the transaction
/// ends, and returns its key in `vector_store_terms` (`None`: no such store).
pub(super) async fn guard_store(
    conn: &mut PgConnection,
    tenant: &Tenant,
    vector_store_id: &str,
) -> StoreResult<Option<i64>> {
    sqlx::query_scalar("SELECT seq FROM vector_stores WHERE tenant = $1 AND id = $2 FOR KEY SHARE")
        .bind(tenant.as_str())
        .bind(vector_store_id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(StoreError::from)
}

/// Takes the advisory locks of the tenant's `file_ids` (sorted, deduplicated), which
/// serialise everything that replaces or removes their attachments, in any store.
pub(super) async fn lock_files<'a>(
    conn: &mut PgConnection,
    tenant: &Tenant,
    file_ids: impl IntoIterator<Item = &'a str>,
) -> StoreResult<()> {
    let mut ids: Vec<&str> = file_ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    for id in ids {
        lock(
            conn,
            "vector_store_file",
            &format!("{}/{id}", tenant.as_str()),
        )
        .await?;
    }
    Ok(())
}

/// Writes a file's chunks in order with their word counts and terms (the statistics
/// follow by trigger); their ids, in the same order.
pub(super) async fn insert_chunks(
    conn: &mut PgConnection,
    tenant: &Tenant,
    store_key: i64,
    file: &VectorStoreFile,
    chunks: &[String],
) -> StoreResult<Vec<i64>> {
    let mut ids = Vec::with_capacity(chunks.len());
    for (batch, texts) in chunks.chunks(BATCH).enumerate() {
        let first = batch * BATCH;
        let positions: Vec<i32> = (0..texts.len())
            .map(|n| i32::try_from(first + n).unwrap_or(i32::MAX))
            .collect();
        let words: Vec<i32> = texts
            .iter()
            .map(|text| i32::try_from(word_count(text)).unwrap_or(i32::MAX))
            .collect();
        let bytes: Vec<&[u8]> = texts.iter().map(|text| text.as_bytes()).collect();
        // UNNEST yields the rows in array order, so ids grow with positions as SQLite's
        // row ids do (ties in ranking go by them); sorted by position all the same.
        let mut written: Vec<(i64, i32)> = sqlx::query_as(
            "INSERT INTO vector_store_chunks \
             (tenant, vector_store_id, file_id, position, words, text) \
             SELECT $1, $2, $3, p, w, t FROM UNNEST($4::INT4[], $5::INT4[], $6::BYTEA[]) \
             AS u (p, w, t) ORDER BY p RETURNING id, position",
        )
        .bind(tenant.as_str())
        .bind(&file.vector_store_id)
        .bind(&file.id)
        .bind(&positions)
        .bind(&words)
        .bind(&bytes)
        .fetch_all(&mut *conn)
        .await?;
        written.sort_by_key(|(_, position)| *position);
        let batch_ids: Vec<i64> = written.into_iter().map(|(id, _)| id).collect();
        insert_terms(conn, store_key, &batch_ids, texts).await?;
        ids.extend(batch_ids);
    }
    Ok(ids)
}

/// Writes each chunk's distinct terms with their frequencies.
async fn insert_terms(
    conn: &mut PgConnection,
    store_key: i64,
    chunk_ids: &[i64],
    texts: &[String],
) -> StoreResult<()> {
    let (mut all_terms, mut all_chunks, mut all_tfs) = (Vec::new(), Vec::new(), Vec::new());
    for (chunk_id, text) in chunk_ids.iter().zip(texts) {
        let mut counts: HashMap<Vec<u8>, i32> = HashMap::new();
        for term in terms(text) {
            *counts.entry(term).or_insert(0) += 1;
        }
        for (term, tf) in counts {
            all_terms.push(term);
            all_chunks.push(*chunk_id);
            all_tfs.push(tf);
        }
    }
    if all_terms.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO vector_store_terms (store_key, term, chunk_id, tf) \
         SELECT $1, term, chunk_id, tf FROM UNNEST($2::BYTEA[], $3::INT8[], $4::INT4[]) \
         AS u (term, chunk_id, tf)",
    )
    .bind(store_key)
    .bind(&all_terms)
    .bind(&all_chunks)
    .bind(&all_tfs)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Writes an already-ingested file's chunks and vectors as [`insert_chunks`] and
/// `insert_vectors` do for an ingestion (the migrate command copying a SQLite
/// deployment); `NotFound` when the file's store is absent.
pub(crate) async fn import_chunks(
    conn: &mut PgConnection,
    tenant: &Tenant,
    file: &VectorStoreFile,
    chunks: &[String],
    vectors: Option<&crate::store::vector_stores::ChunkVectors>,
) -> StoreResult<()> {
    let store_key = guard_store(conn, tenant, &file.vector_store_id)
        .await?
        .ok_or(crate::store::StoreError::NotFound)?;
    let ids = insert_chunks(conn, tenant, store_key, file, chunks).await?;
    if let Some(vectors) = vectors {
        super::embeddings::insert_vectors(conn, tenant, file, &ids, vectors).await?;
    }
    Ok(())
}
