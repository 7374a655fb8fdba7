//! What keyword search reads for [`crate::vector_stores::bm25`] on PostgreSQL: the
//! searched stores' chunk and word counts, and for one query word the chunks of those
//! stores holding it with its frequency there, as FTS5 matches a quoted word on SQLite.
//!
//! FTS5 tokenizes the quoted word as it tokenized the chunks. One term is looked up in
//! the inverted index (`vector_store_terms`). Several (a word that unicode61 splits, e.g.
//! at a Devanagari vowel sign) make a phrase: the chunks holding all of them are
//! re-tokenized and its occurrences at consecutive positions counted, as FTS5 counts
//! phrase instances. None (a word of marks alone) matches nothing, as in FTS5.

use std::collections::{BTreeSet, HashMap};

use sqlx::PgPool;

use super::super::StoreError;
use crate::store::vector_stores::{KeywordStats, TermMatch};
use crate::store::{StoreResult, Tenant};
use crate::vector_stores::tokenize::terms;

/// The chunk and word counts of the tenant's stores `ids`.
pub(super) async fn keyword_stats(
    pool: &PgPool,
    tenant: &Tenant,
    ids: &[String],
) -> StoreResult<KeywordStats> {
    if ids.is_empty() {
        return Ok(KeywordStats::default());
    }
    let (chunks, words): (i64, i64) = sqlx::query_as(
        "SELECT COALESCE(SUM(chunks), 0)::BIGINT, COALESCE(SUM(words), 0)::BIGINT \
         FROM vector_store_chunk_stats WHERE tenant = $1 AND vector_store_id = ANY($2)",
    )
    .bind(tenant.as_str())
    .bind(ids)
    .fetch_one(pool)
    .await?;
    Ok(KeywordStats {
        chunks: u64::try_from(chunks).unwrap_or(0),
        words: u64::try_from(words).unwrap_or(0),
    })
}

/// A chunk holding a term: id, store, file, words, frequency.
type MatchRow = (i64, String, String, i32, i32);

/// Every chunk of the tenant's stores `ids` holding `word`, with its frequency.
pub(super) async fn term_matches(
    pool: &PgPool,
    tenant: &Tenant,
    ids: &[String],
    word: &str,
) -> StoreResult<Vec<TermMatch>> {
    let phrase = terms(word);
    if ids.is_empty() || phrase.is_empty() {
        return Ok(Vec::new());
    }
    // The tenant's stores only: another tenant's ids resolve to nothing.
    let keys: Vec<i64> =
        sqlx::query_scalar("SELECT seq FROM vector_stores WHERE tenant = $1 AND id = ANY($2)")
            .bind(tenant.as_str())
            .bind(ids)
            .fetch_all(pool)
            .await?;
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<MatchRow> = if let [term] = phrase.as_slice() {
        sqlx::query_as(
            "SELECT c.id, c.vector_store_id, c.file_id, c.words, t.tf \
             FROM vector_store_terms AS t JOIN vector_store_chunks AS c ON c.id = t.chunk_id \
             WHERE t.store_key = ANY($1) AND t.term = $2 ORDER BY c.id",
        )
        .bind(&keys)
        .bind(term)
        .fetch_all(pool)
        .await?
    } else {
        phrase_matches(pool, &keys, &phrase).await?
    };
    rows.into_iter()
        .map(|(chunk_id, vector_store_id, file_id, words, tf)| {
            Ok(TermMatch {
                chunk_id,
                vector_store_id,
                file_id,
                tf: u32::try_from(tf).map_err(|_| corrupt_tf(chunk_id, tf))?,
                words: u32::try_from(words).unwrap_or(u32::MAX),
            })
        })
        .collect()
}

fn corrupt_tf(chunk_id: i64, tf: i32) -> StoreError {
    StoreError::Corrupt(format!("term frequency {tf} of chunk {chunk_id}"))
}

/// The chunks of stores `keys` where the terms `phrase` follow one another, with how
/// many times (overlapping occurrences count, as in FTS5).
async fn phrase_matches(
    pool: &PgPool,
    keys: &[i64],
    phrase: &[Vec<u8>],
) -> StoreResult<Vec<MatchRow>> {
    let distinct: BTreeSet<&Vec<u8>> = phrase.iter().collect();
    let distinct: Vec<&[u8]> = distinct.into_iter().map(Vec::as_slice).collect();
    let rows: Vec<(i64, String, String, i32, Vec<u8>)> = sqlx::query_as(
        "SELECT c.id, c.vector_store_id, c.file_id, c.words, c.text FROM vector_store_chunks c \
         WHERE c.id IN (SELECT chunk_id FROM vector_store_terms \
                        WHERE store_key = ANY($1) AND term = ANY($2) \
                        GROUP BY chunk_id HAVING count(*) = $3) \
         ORDER BY c.id",
    )
    .bind(keys)
    .bind(&distinct)
    .bind(distinct.len() as i64)
    .fetch_all(pool)
    .await?;
    let mut found = Vec::new();
    for (id, store, file, words, text) in rows {
        let chunk_terms = terms(&utf8(id, text)?);
        let tf = chunk_terms
            .windows(phrase.len())
            .filter(|window| *window == phrase)
            .count();
        if tf > 0 {
            found.push((
                id,
                store,
                file,
                words,
                i32::try_from(tf).unwrap_or(i32::MAX),
            ));
        }
    }
    Ok(found)
}

/// The text of each of the tenant's chunks `chunk_ids`.
pub(super) async fn chunk_texts(
    pool: &PgPool,
    tenant: &Tenant,
    chunk_ids: &[i64],
) -> StoreResult<HashMap<i64, String>> {
    if chunk_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
        "SELECT id, text FROM vector_store_chunks WHERE tenant = $1 AND id = ANY($2)",
    )
    .bind(tenant.as_str())
    .bind(chunk_ids)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|(id, text)| Ok((id, utf8(id, text)?)))
        .collect()
}

/// A chunk's stored text.
pub(super) fn utf8(chunk_id: i64, text: Vec<u8>) -> StoreResult<String> {
    String::from_utf8(text)
        .map_err(|_| StoreError::Corrupt(format!("text of chunk {chunk_id} is not UTF-8")))
}
