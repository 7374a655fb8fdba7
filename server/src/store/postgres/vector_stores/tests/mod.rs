//! Vector stores on both backends: the same calls on a SQLite store and on a fresh
//! PostgreSQL schema ([`crate::store::postgres::test_store`], skipped loudly when no
//! PostgreSQL answers) give the same answers, scores to the bit; and on PostgreSQL alone,
//! the invariants SQLite's single writer held survive concurrent writers.

/// The project's retrieval corpus, shared with the HTTP search tests.
#[path = "../../../../../tests/api/support/vector_stores/corpus.rs"]
mod corpus;
mod dimensions;
mod lifecycle;
mod races;
mod scope;
mod search;
mod stats;

use crate::models::VectorStoreFileStatus;
pub(super) use crate::store::backend_tests::{in_progress, vector_store};
use crate::store::sqlite::SqliteStore;
use crate::store::vector_stores::{ChunkVectors, IngestedFile, TermMatch, VectorStoreStore};
use crate::store::{StoreResult, Tenant};
use crate::vector_stores::bm25;
use crate::vector_stores::model::VectorStoreFile;
use crate::vector_stores::search::term_lists;

/// A fresh in-memory SQLite store.
pub(super) async fn sqlite() -> SqliteStore {
    SqliteStore::connect("sqlite::memory:").await.unwrap()
}

/// Completes `file` with `chunks`, each with the vector `vector(n)`; whether the store
/// took it.
pub(super) async fn ingest_with<S: VectorStoreStore>(
    store: &S,
    tenant: &Tenant,
    file: &VectorStoreFile,
    chunks: &[String],
    vector: impl Fn(usize) -> Vec<f32>,
) -> bool {
    let mut done = file.clone();
    done.status = VectorStoreFileStatus::Completed;
    done.usage_bytes = chunks.iter().map(|c| c.len() as i64).sum();
    let ingested = IngestedFile {
        file: done,
        text: Some(chunks.join(" ")),
        chunks: chunks.to_vec(),
    };
    let vectors = ChunkVectors {
        model: "m".to_owned(),
        vectors: (0..chunks.len()).map(vector).collect(),
    };
    store
        .finish_ingestion_with_vectors(tenant, &ingested, Some(&vectors))
        .await
        .unwrap()
}

/// [`ingest_with`] with the same vector for every chunk; asserts the store took it.
pub(super) async fn ingest<S: VectorStoreStore>(
    store: &S,
    tenant: &Tenant,
    file: &VectorStoreFile,
    chunks: &[&str],
) {
    let chunks: Vec<String> = chunks.iter().map(|c| (*c).to_owned()).collect();
    assert!(ingest_with(store, tenant, file, &chunks, |_| vec![1.0, 0.0]).await);
}

/// One ranked chunk: file, text and the bits of its bm25 score.
pub(super) type Hit = (String, String, u64);

/// Keyword ranking exactly as `search::keyword_hits` does it (which takes a whole
/// `Store`), from a backend's `keyword_stats`, `term_matches` and `chunk_texts` alone.
pub(super) async fn ranked<S: VectorStoreStore>(
    store: &S,
    tenant: &Tenant,
    ids: &[String],
    query: &str,
) -> StoreResult<Vec<Hit>> {
    ranked_in(store, tenant, ids, None, query).await
}

/// [`ranked`] keeping only the chunks of `files` (`(store, file)` pairs) when given, as
/// attribute filters do.
pub(super) async fn ranked_in<S: VectorStoreStore>(
    store: &S,
    tenant: &Tenant,
    ids: &[String],
    files: Option<&[(String, String)]>,
    query: &str,
) -> StoreResult<Vec<Hit>> {
    let keep = |hit: &TermMatch| {
        files.is_none_or(|files| {
            files
                .iter()
                .any(|(s, f)| *s == hit.vector_store_id && *f == hit.file_id)
        })
    };
    let stats = store.keyword_stats(tenant, ids).await?;
    for words in term_lists(&[query.to_owned()]) {
        let mut matches: Vec<Vec<TermMatch>> = Vec::new();
        for word in &words {
            matches.push(store.term_matches(tenant, ids, word).await?);
        }
        let terms: Vec<&[TermMatch]> = matches.iter().map(Vec::as_slice).collect();
        let scored = bm25::rank(&stats, &terms, keep);
        if scored.is_empty() {
            continue;
        }
        let chunk_ids: Vec<i64> = scored.iter().map(|s| s.chunk_id).collect();
        let mut texts = store.chunk_texts(tenant, &chunk_ids).await?;
        return Ok(scored
            .into_iter()
            .map(|s| {
                (
                    s.file_id,
                    texts.remove(&s.chunk_id).unwrap(),
                    s.score.to_bits(),
                )
            })
            .collect());
    }
    Ok(Vec::new())
}

/// The `store file` pairs whose chunks hold `word` in `stores`, sorted.
pub(super) async fn files_matching<S: VectorStoreStore>(
    store: &S,
    tenant: &Tenant,
    stores: &[&str],
    word: &str,
) -> Vec<String> {
    let ids: Vec<String> = stores.iter().map(|s| (*s).to_owned()).collect();
    let mut found: Vec<String> = store
        .term_matches(tenant, &ids, word)
        .await
        .unwrap()
        .into_iter()
        .map(|hit| format!("{} {}", hit.vector_store_id, hit.file_id))
        .collect();
    found.sort();
    found.dedup();
    found
}
