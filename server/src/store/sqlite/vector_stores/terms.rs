//! What keyword search reads from SQLite for [`crate::vector_stores::bm25`]: each store's
//! chunk and word counts (`vector_store_chunk_stats`, migration 0017), and for one
//! query term the chunks of the searched stores holding it with its frequency in each.
//!
//! FTS5 finds a term's chunks within the stores (`scope:… AND text:"term"`), and its
//! matching, stemming included, is what counts as an occurrence. SQL has no way to read
//! a row's term frequency from FTS5, but its `bm25()` is a documented formula of it:
//! with column weights `w`, a phrase counts `w` per occurrence. [`term_frequency`]
//! solves four `bm25()` values of the same row (the term's column weighted 1 and 2, the
//! scope column weighted 1 and 2, where each row holds its store's token exactly once)
//! for the whole-table idf and length factor FTS5 used and the term's frequency, which
//! comes out a whole number to ~1e-9. Only that whole number is kept; everything FTS5
//! took from the whole table drops out, so no other store or tenant changes it.

use std::collections::HashMap;

use sqlx::sqlite::SqlitePool;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use super::super::SqliteStore;
use super::chunks::match_expression;
use crate::store::vector_stores::{KeywordStats, TermMatch};
use crate::store::{StoreError, StoreResult, Tenant};
use crate::vector_stores::bm25::word_count;

/// How far from a whole number a solved term frequency may be (it is ~1e-9 off).
const WHOLE_TOLERANCE: f64 = 1e-3;

/// The term frequency a row's four `bm25()` values imply: `[text 1, text 2, scope 1,
/// scope 2]` (the weights of `text` and `scope`). With `I` the phrase's idf times
/// (k1 + 1) and `K` the row's length factor, a phrase of frequency `f` weighted `w`
/// adds `I·w·f / (w·f + K)` to the score. The scope phrase (f = 1) gives
/// `K = 2(E − C) / (2C − E)`; the term then gives `f = K(2A − B) / (2(B − A))`.
/// `None` when the values imply no whole frequency of at least one.
pub(super) fn term_frequency(ranks: [f64; 4]) -> Option<u32> {
    let [a, b, c, e] = ranks.map(|rank| -rank);
    let frequency = (e - c) * (2.0 * a - b) / ((2.0 * c - e) * (b - a));
    let whole = frequency.round();
    let plausible = frequency.is_finite()
        && (frequency - whole).abs() < WHOLE_TOLERANCE
        && (1.0..=f64::from(u32::MAX)).contains(&whole);
    plausible.then_some(whole as u32)
}

/// The chunk and word counts of the tenant's stores `ids`.
pub(super) async fn keyword_stats(
    pool: &SqlitePool,
    tenant: &Tenant,
    ids: &[String],
) -> StoreResult<KeywordStats> {
    if ids.is_empty() {
        return Ok(KeywordStats::default());
    }
    let mut query = QueryBuilder::<Sqlite>::new(
        "SELECT COALESCE(SUM(chunks), 0), COALESCE(SUM(words), 0) \
         FROM vector_store_chunk_stats WHERE tenant = ",
    );
    query.push_bind(tenant.as_str());
    query.push(" AND vector_store_id IN (");
    let mut list = query.separated(", ");
    for id in ids {
        list.push_bind(id.as_str());
    }
    query.push(")");
    let (chunks, words): (i64, i64) = query.build_query_as().fetch_one(pool).await?;
    Ok(KeywordStats {
        chunks: u64::try_from(chunks).unwrap_or(0),
        words: u64::try_from(words).unwrap_or(0),
    })
}

/// The chunks of a MATCH with their owners. CROSS JOIN keeps FTS5 the outer loop: with a
/// plain JOIN SQLite walked the tenant's owners and ran the MATCH once per owner row, so
/// a search cost the tenant's whole chunk count (178 ms for one rare term at 10k chunks).
pub(super) const TERM_MATCHES: &str =
    "SELECT o.chunk_id, o.vector_store_id, o.file_id, COALESCE(o.words, 0), \
     bm25(vector_store_chunks, 1.0, 0.0), bm25(vector_store_chunks, 2.0, 0.0), \
     bm25(vector_store_chunks, 0.0, 1.0), bm25(vector_store_chunks, 0.0, 2.0) \
     FROM vector_store_chunks \
     CROSS JOIN vector_store_chunk_owners AS o ON o.chunk_id = vector_store_chunks.rowid \
     WHERE vector_store_chunks MATCH ? AND o.tenant = ?";

/// A term-match row: chunk, store, file, words, then the four `bm25()` values.
type MatchRow = (i64, String, String, i64, f64, f64, f64, f64);

/// Every chunk of the tenant's stores `ids` holding `word`, with its frequency.
pub(super) async fn term_matches(
    pool: &SqlitePool,
    tenant: &Tenant,
    ids: &[String],
    word: &str,
) -> StoreResult<Vec<TermMatch>> {
    if ids.is_empty() || word.is_empty() {
        return Ok(Vec::new());
    }
    let phrase = format!("\"{}\"", word.replace('"', "\"\""));
    let rows: Vec<MatchRow> = sqlx::query_as(TERM_MATCHES)
        .bind(match_expression(ids, &phrase))
        .bind(tenant.as_str())
        .fetch_all(pool)
        .await?;
    rows.into_iter()
        .map(|(chunk_id, vector_store_id, file_id, words, a, b, c, e)| {
            let tf = term_frequency([a, b, c, e]).ok_or_else(|| {
                StoreError::backend(format!(
                    "FTS5's bm25 values of chunk {chunk_id} give no term frequency: \
                     {a}, {b}, {c}, {e}"
                ))
            })?;
            Ok(TermMatch {
                chunk_id,
                vector_store_id,
                file_id,
                tf,
                words: u32::try_from(words).unwrap_or(u32::MAX),
            })
        })
        .collect()
}

/// The start of the query for chunk texts, driven by the owners' primary key (FTS5 is
/// read by rowid only). The `+` keeps SQLite off the index on `tenant`, which it picks
/// for three ids or more: through it the query walked every owner row of the tenant
/// (9 ms per search at 100k chunks, whatever the store searched).
pub(super) const CHUNK_TEXTS: &str =
    "SELECT o.chunk_id, (SELECT text FROM vector_store_chunks WHERE rowid = o.chunk_id) \
     FROM vector_store_chunk_owners AS o WHERE +o.tenant = ";

/// The text of each of the tenant's chunks `chunk_ids`.
pub(super) async fn chunk_texts(
    pool: &SqlitePool,
    tenant: &Tenant,
    chunk_ids: &[i64],
) -> StoreResult<HashMap<i64, String>> {
    if chunk_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut query = QueryBuilder::<Sqlite>::new(CHUNK_TEXTS);
    query.push_bind(tenant.as_str());
    query.push(" AND o.chunk_id IN (");
    let mut list = query.separated(", ");
    for id in chunk_ids {
        list.push_bind(*id);
    }
    query.push(")");
    let rows: Vec<(i64, Option<String>)> = query.build_query_as().fetch_all(pool).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, text)| Some((id, text?)))
        .collect())
}

/// Adds a file's newly written chunks (their word counts) to its store's statistics.
pub(super) async fn add_to_stats(
    conn: &mut SqliteConnection,
    tenant: &Tenant,
    vector_store_id: &str,
    words: &[u32],
) -> StoreResult<()> {
    if words.is_empty() {
        return Ok(());
    }
    let total: i64 = words.iter().map(|w| i64::from(*w)).sum();
    sqlx::query(
        "INSERT INTO vector_store_chunk_stats (tenant, vector_store_id, chunks, words) \
         VALUES (?, ?, ?, ?) ON CONFLICT (tenant, vector_store_id) DO UPDATE SET \
         chunks = chunks + excluded.chunks, words = words + excluded.words",
    )
    .bind(tenant.as_str())
    .bind(vector_store_id)
    .bind(words.len() as i64)
    .bind(total)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Counts the words of chunks written before migration 0017 and rebuilds every store's
/// statistics from the owner rows; does nothing once every chunk has its count.
pub(in crate::store::sqlite) async fn backfill_stats(store: &SqliteStore) -> StoreResult<()> {
    let missing: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM vector_store_chunk_owners WHERE words IS NULL)",
    )
    .fetch_one(&store.pool)
    .await?;
    if !missing {
        return Ok(());
    }
    let mut tx = store.begin_write().await?;
    // In pages, so a large database's texts are never all in memory at once.
    let mut after = i64::MIN;
    loop {
        let texts: Vec<(i64, Option<String>)> = sqlx::query_as(
            "SELECT o.chunk_id, (SELECT text FROM vector_store_chunks WHERE rowid = o.chunk_id) \
             FROM vector_store_chunk_owners AS o WHERE o.chunk_id > ? AND o.words IS NULL \
             ORDER BY o.chunk_id LIMIT 1000",
        )
        .bind(after)
        .fetch_all(&mut *tx)
        .await?;
        let Some((last, _)) = texts.last() else {
            break;
        };
        after = *last;
        for (chunk_id, text) in texts {
            sqlx::query("UPDATE vector_store_chunk_owners SET words = ? WHERE chunk_id = ?")
                .bind(i64::from(word_count(text.as_deref().unwrap_or(""))))
                .bind(chunk_id)
                .execute(&mut *tx)
                .await?;
        }
    }
    for statement in [
        "DELETE FROM vector_store_chunk_stats",
        "INSERT INTO vector_store_chunk_stats (tenant, vector_store_id, chunks, words) \
         SELECT tenant, vector_store_id, count(*), SUM(words) FROM vector_store_chunk_owners \
         GROUP BY tenant, vector_store_id",
    ] {
        sqlx::query(statement).execute(&mut *tx).await?;
    }
    Ok(tx.commit().await?)
}
