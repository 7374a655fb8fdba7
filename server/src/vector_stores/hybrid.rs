//! Hybrid ranking: keyword (bm25) and semantic (cosine of embeddings) scores fused
//! into one score in [0, 1], then `score_threshold`, then `max_num_results`.
//!
//! Fusion is a weighted sum of two absolute scores, not reciprocal rank fusion: RRF
//! scores (`1/(60 + rank)`) depend only on ranks, so the best hit of a query that
//! matches nothing would score like the best hit of a perfect query and a
//! `score_threshold` would mean nothing. Here a chunk with a vector scores
//! `EMBEDDING_WEIGHT * max(cosine, 0) + (1 - EMBEDDING_WEIGHT) * keyword`, where
//! `keyword` is the bm25 score mapped by [`normalise`] (0 when it is not among the
//! best [`CANDIDATES`] keyword hits). Both parts lie in [0, 1] and are comparable
//! across queries, so the sum is too. A chunk without a vector (its store has no
//! embedding model, it was ingested while no upstream was configured, or the query
//! could not be embedded) keeps its keyword score alone.
//!
//! Stores with different models searched together get the query embedded once per
//! model, and each model's vectors are compared only with that model's query. When
//! embedding the query fails, search does not fail: it warns and those stores rank by
//! keywords alone (a search answer with keyword ranking beats an error, and the
//! file_search of a run goes on).

use std::collections::{BTreeMap, HashMap, HashSet};

use super::model::SimilarChunk;
use super::search::{keyword_hits, normalise, Ranked, SearchOptions};
use crate::embeddings::EmbeddingsClient;
use crate::store::vector_stores::{ChunkScope, SimilarityQuery};
use crate::store::{Store, StoreResult, Tenant};

/// Share of the semantic score in the fused score (the rest is the keyword score).
pub const EMBEDDING_WEIGHT: f64 = 0.5;
/// How many of the best hits of each ranking are fused.
pub const CANDIDATES: u32 = 100;
/// Query strings embedded at most (the first ones; all of them still rank by keywords).
pub const MAX_EMBEDDED_QUERIES: usize = 16;

/// The fused score of a chunk: `similarity` (cosine) when it has a vector, and its
/// normalised keyword score (0 when no keyword hit); always in [0, 1].
pub fn fuse(similarity: Option<f64>, keyword: f64) -> f64 {
    let score = match similarity {
        Some(cosine) => EMBEDDING_WEIGHT * cosine.max(0.0) + (1.0 - EMBEDDING_WEIGHT) * keyword,
        None => keyword,
    };
    score.clamp(0.0, 1.0)
}

/// Ranks the chunks of `scope` by fused scores (see the module docs).
pub async fn rank(
    store: &dyn Store,
    embeddings: &EmbeddingsClient,
    tenant: &Tenant,
    scope: &ChunkScope<'_>,
    options: &SearchOptions,
) -> StoreResult<Vec<Ranked>> {
    let keyword = keyword_hits(store, tenant, scope, &options.queries, CANDIDATES).await?;
    let keyword_ids: Vec<i64> = keyword.iter().map(|hit| hit.chunk_id).collect();
    let similar = semantic(store, embeddings, tenant, scope, options, &keyword_ids).await?;
    let mut ranked: Vec<(i64, Ranked)> = Vec::new();
    let mut seen = HashSet::new();
    for hit in keyword {
        let score = fuse(
            similar.get(&hit.chunk_id).map(|s| s.similarity),
            normalise(hit.bm25),
        );
        seen.insert(hit.chunk_id);
        ranked.push((
            hit.chunk_id,
            Ranked {
                vector_store_id: hit.vector_store_id,
                file_id: hit.file_id,
                text: hit.text,
                score,
            },
        ));
    }
    for (chunk_id, chunk) in similar {
        if seen.contains(&chunk_id) {
            continue;
        }
        ranked.push((
            chunk_id,
            Ranked {
                score: fuse(Some(chunk.similarity), 0.0),
                vector_store_id: chunk.vector_store_id,
                file_id: chunk.file_id,
                text: chunk.text,
            },
        ));
    }
    // Best first; equal scores in a stable order (file, then chunk).
    ranked.sort_by(|(a_id, a), (b_id, b)| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.file_id.cmp(&b.file_id))
            .then_with(|| a_id.cmp(b_id))
    });
    Ok(ranked
        .into_iter()
        .map(|(_, ranked)| ranked)
        .filter(|ranked| ranked.score >= options.score_threshold)
        .take(options.max_num_results as usize)
        .collect())
}

/// The semantic side: for each embedding model among the searched stores, the query
/// embedded once and compared with that model's chunks. Keyword hits (`also`) get their
/// similarity too. Stores whose query embedding failed are left out (with a warning).
async fn semantic(
    store: &dyn Store,
    embeddings: &EmbeddingsClient,
    tenant: &Tenant,
    scope: &ChunkScope<'_>,
    options: &SearchOptions,
    also: &[i64],
) -> StoreResult<HashMap<i64, SimilarChunk>> {
    let queries: Vec<String> = options
        .queries
        .iter()
        .filter(|query| !query.trim().is_empty())
        .take(MAX_EMBEDDED_QUERIES)
        .cloned()
        .collect();
    let mut similar = HashMap::new();
    if queries.is_empty() {
        return Ok(similar);
    }
    let models = store
        .embedding_models(tenant, scope.vector_store_ids)
        .await?;
    let mut stores_by_model: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for id in scope.vector_store_ids {
        if let Some(Some(model)) = models.get(id) {
            stores_by_model
                .entry(model.clone())
                .or_default()
                .push(id.clone());
        }
    }
    for (model, store_ids) in stores_by_model {
        let purpose = crate::embeddings::Purpose::Query;
        let vectors = match embeddings.embed_for(&model, queries.clone(), purpose).await {
            Ok(vectors) => vectors,
            Err(error) => {
                tracing::warn!(
                    %model,
                    "embedding the search query failed, ranking by keywords alone: {}",
                    error.message
                );
                continue;
            }
        };
        let model_scope = ChunkScope {
            vector_store_ids: &store_ids,
            files: scope.files,
        };
        let query = SimilarityQuery {
            model: &model,
            vectors: &vectors,
            limit: CANDIDATES as usize,
            also,
        };
        for chunk in store.similar_chunks(tenant, &model_scope, &query).await? {
            similar.insert(chunk.chunk_id, chunk);
        }
    }
    Ok(similar)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fused_scores_stay_in_the_unit_interval() {
        assert_eq!(fuse(None, 0.7), 0.7);
        assert_eq!(fuse(Some(-0.4), 0.0), 0.0);
        assert_eq!(fuse(Some(1.0000001), 1.0), 1.0);
        assert!((fuse(Some(0.8), 0.4) - 0.6).abs() < 1e-12);
        for cosine in [-1.0, -0.2, 0.0, 0.3, 1.0, 1.2] {
            for keyword in [0.0, 0.5, 0.999] {
                assert!((0.0..=1.0).contains(&fuse(Some(cosine), keyword)));
            }
        }
    }

    #[test]
    fn a_better_match_on_either_side_scores_higher() {
        assert!(fuse(Some(0.9), 0.2) > fuse(Some(0.5), 0.2));
        assert!(fuse(Some(0.5), 0.6) > fuse(Some(0.5), 0.2));
    }
}
