//! Retrieval: keyword ranking by bm25 over the stored chunks, from the searched
//! stores' statistics alone (see [`super::bm25`]), no network and no model
//! ([`search`]); with an embeddings upstream, [`search_with`] fuses it with semantic
//! ranking (see [`super::hybrid`]). Runs call it for file_search; the
//! searchVectorStore operation calls it too.
//!
//! Queries: a question's function words (`what`, `is`, `the`...) are left out unless
//! nothing else matches ([`term_lists`]): they match nearly every chunk, so every
//! chunk of the store would be scored for them, and their idf gives them almost no
//! score.
//!
//! Scores: bm25 is unbounded, so a chunk's score is `s / (s + SCORE_HALF)` with
//! `s = -bm25` (bm25 ranks are negative as FTS5's, better is lower). That maps every match into
//! [0, 1), keeps the order, and stays comparable across queries, so a
//! `score_threshold` means the same thing for every query (a relative-to-best
//! normalisation would always give the best hit 1.0, whatever its quality).

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::bm25;
use super::filters::Filter;
use super::hybrid;
use super::model::{ChunkHit, VectorStoreFile};
use super::stopwords::is_stopword;
use crate::embeddings::EmbeddingsClient;
use crate::models::JsonMap;
use crate::store::vector_stores::{ChunkScope, TermMatch};
use crate::store::{Store, StoreResult, Tenant};

/// The raw bm25 score that maps to 0.5.
pub const SCORE_HALF: f64 = 2.0;
/// Most distinct query words considered (each is one lookup in the store).
const MAX_QUERY_TERMS: usize = 64;

/// What to search for and how to cut the results.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchOptions {
    /// The query strings; their terms are OR-ed.
    pub queries: Vec<String>,
    /// At most this many results (1-50).
    pub max_num_results: u32,
    /// Results scoring below this are dropped (0-1).
    pub score_threshold: f64,
    /// Only files whose attributes pass.
    pub filter: Option<Filter>,
}

/// One content piece of a result.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ResultContent {
    /// Always `text`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The chunk's text.
    pub text: String,
}

/// One result: a chunk with its file, keys in the spec's order.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SearchResult {
    /// The file the chunk came from.
    pub file_id: String,
    /// That file's name.
    pub filename: String,
    /// Relevance in [0, 1].
    pub score: f64,
    /// The file's attributes in this store.
    pub attributes: JsonMap,
    /// The chunk.
    pub content: Vec<ResultContent>,
}

/// The distinct words of `queries`, lower case, at most [`MAX_QUERY_TERMS`].
fn query_words(queries: &[String]) -> Vec<String> {
    let mut seen = HashSet::new();
    queries
        .iter()
        .flat_map(|q| q.split(|c: char| !c.is_alphanumeric()))
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .filter(|word| seen.insert(word.clone()))
        .take(MAX_QUERY_TERMS)
        .collect()
}

/// The word lists of `queries` tried in turn until one matches: first the words that
/// carry information (function words left out, see [`super::stopwords`]), then, when
/// some were left out, every word, so a question made only of function words, or
/// whose other words match nothing, still finds the chunks holding them. Empty when
/// there is no word to look for. Words are matched one by one, never parsed as FTS5
/// syntax.
pub fn term_lists(queries: &[String]) -> Vec<Vec<String>> {
    let words = query_words(queries);
    let content: Vec<String> = words.iter().filter(|w| !is_stopword(w)).cloned().collect();
    let mut tried = Vec::new();
    if !content.is_empty() && content.len() < words.len() {
        tried.push(content);
    }
    if !words.is_empty() {
        tried.push(words);
    }
    tried
}

/// The best `limit` chunks of `scope` by bm25 for the first of [`term_lists`] that
/// matches any, scored from the searched stores' statistics alone; keyword and hybrid
/// ranking both start from them.
pub async fn keyword_hits(
    store: &dyn Store,
    tenant: &Tenant,
    scope: &ChunkScope<'_>,
    queries: &[String],
    limit: u32,
) -> StoreResult<Vec<ChunkHit>> {
    let lists = term_lists(queries);
    if lists.is_empty() || scope.vector_store_ids.is_empty() {
        return Ok(Vec::new());
    }
    let stats = store.keyword_stats(tenant, scope.vector_store_ids).await?;
    let allowed: Option<HashSet<(&str, &str)>> = scope.files.map(|files| {
        files
            .iter()
            .map(|(store, file)| (store.as_str(), file.as_str()))
            .collect()
    });
    let keep = |hit: &TermMatch| {
        allowed.as_ref().is_none_or(|allowed| {
            allowed.contains(&(hit.vector_store_id.as_str(), hit.file_id.as_str()))
        })
    };
    // The all-words list repeats the content words: each word is looked up once.
    let mut matches: HashMap<String, Vec<TermMatch>> = HashMap::new();
    for words in lists {
        for word in &words {
            if !matches.contains_key(word) {
                let found = store
                    .term_matches(tenant, scope.vector_store_ids, word)
                    .await?;
                matches.insert(word.clone(), found);
            }
        }
        let terms: Vec<&[TermMatch]> = words.iter().map(|w| matches[w].as_slice()).collect();
        let mut ranked = bm25::rank(&stats, &terms, keep);
        if ranked.is_empty() {
            continue;
        }
        ranked.truncate(limit as usize);
        let ids: Vec<i64> = ranked.iter().map(|s| s.chunk_id).collect();
        let mut texts = store.chunk_texts(tenant, &ids).await?;
        return Ok(ranked
            .into_iter()
            .filter_map(|scored| {
                Some(ChunkHit {
                    text: texts.remove(&scored.chunk_id)?,
                    chunk_id: scored.chunk_id,
                    vector_store_id: scored.vector_store_id,
                    file_id: scored.file_id,
                    bm25: -scored.score,
                })
            })
            .collect());
    }
    Ok(Vec::new())
}

/// Maps a bm25 rank onto [0, 1).
pub fn normalise(bm25: f64) -> f64 {
    let s = (-bm25).max(0.0);
    s / (s + SCORE_HALF)
}

/// One chunk ranked by a search, before it becomes a result item.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    /// The store the chunk belongs to.
    pub vector_store_id: String,
    /// The file the chunk came from.
    pub file_id: String,
    /// The chunk's text.
    pub text: String,
    /// Relevance in [0, 1].
    pub score: f64,
}

/// Searches the tenant's `vector_store_ids` by keywords alone: attribute filters
/// first, then bm25 ranking, then `score_threshold`, then `max_num_results`.
pub async fn search(
    store: &dyn Store,
    tenant: &Tenant,
    vector_store_ids: &[String],
    options: &SearchOptions,
) -> StoreResult<Vec<SearchResult>> {
    search_with(store, None, tenant, vector_store_ids, options).await
}

/// [`search`], hybrid when `embeddings` is given and a searched store has an
/// embedding model: attribute filters first, then keyword and semantic rankings fused,
/// then `score_threshold`, then `max_num_results`.
pub async fn search_with(
    store: &dyn Store,
    embeddings: Option<&EmbeddingsClient>,
    tenant: &Tenant,
    vector_store_ids: &[String],
    options: &SearchOptions,
) -> StoreResult<Vec<SearchResult>> {
    let files = store.completed_files(tenant, vector_store_ids).await?;
    let attributes: HashMap<(String, String), &VectorStoreFile> = files
        .iter()
        .map(|f| ((f.vector_store_id.clone(), f.id.clone()), f))
        .collect();
    let allowed: Option<Vec<(String, String)>> = options.filter.as_ref().map(|filter| {
        files
            .iter()
            .filter(|f| filter.matches(&f.attributes))
            .map(|f| (f.vector_store_id.clone(), f.id.clone()))
            .collect()
    });
    let scope = ChunkScope {
        vector_store_ids,
        files: allowed.as_deref(),
    };
    let ranked = match embeddings {
        Some(embeddings) => hybrid::rank(store, embeddings, tenant, &scope, options).await?,
        None => keyword_rank(store, tenant, &scope, options).await?,
    };
    let mut filenames: HashMap<String, String> = HashMap::new();
    let mut results = Vec::new();
    for hit in ranked {
        if !filenames.contains_key(&hit.file_id) {
            let name = match store.get_file(tenant, &hit.file_id).await {
                Ok(file) => file.filename,
                // The file was deleted from Files; its chunks still answer.
                Err(_) => hit.file_id.clone(),
            };
            filenames.insert(hit.file_id.clone(), name);
        }
        let key = (hit.vector_store_id.clone(), hit.file_id.clone());
        results.push(SearchResult {
            filename: filenames[&hit.file_id].clone(),
            score: hit.score,
            attributes: attributes
                .get(&key)
                .map(|f| f.attributes.clone())
                .unwrap_or_default(),
            content: vec![ResultContent {
                kind: "text",
                text: hit.text,
            }],
            file_id: hit.file_id,
        });
    }
    Ok(results)
}

/// The keyword ranking alone: bm25 scores mapped by [`normalise`], `score_threshold`
/// then `max_num_results` applied.
pub async fn keyword_rank(
    store: &dyn Store,
    tenant: &Tenant,
    scope: &ChunkScope<'_>,
    options: &SearchOptions,
) -> StoreResult<Vec<Ranked>> {
    let hits = keyword_hits(
        store,
        tenant,
        scope,
        &options.queries,
        options.max_num_results,
    )
    .await?;
    Ok(hits
        .into_iter()
        .map(|hit| Ranked {
            score: normalise(hit.bm25),
            vector_store_id: hit.vector_store_id,
            file_id: hit.file_id,
            text: hit.text,
        })
        .filter(|ranked| ranked.score >= options.score_threshold)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_lose_fts_syntax() {
        assert_eq!(
            query_words(&["Who wrote \"NEAR(a b)\"? AND-or*".to_owned()]),
            ["who", "wrote", "near", "a", "b", "and", "or"]
        );
        assert!(term_lists(&["?!".to_owned()]).is_empty());
    }

    #[test]
    fn function_words_are_tried_only_after_the_words_that_carry_information() {
        let lists = |text: &str| term_lists(&[text.to_owned()]);
        assert_eq!(
            lists("What is the notice period of the lease?"),
            [
                vec!["notice", "period", "lease"],
                vec!["what", "is", "the", "notice", "period", "of", "lease"]
            ]
        );
        // Nothing left out: one list. Only function words: they are the list.
        assert_eq!(lists("notice period"), [vec!["notice", "period"]]);
        assert_eq!(lists("What is it?"), [vec!["what", "is", "it"]]);
        assert!(lists("?!").is_empty());
    }

    #[test]
    fn scores_stay_in_the_unit_interval_and_keep_order() {
        assert_eq!(normalise(0.0), 0.0);
        assert!(normalise(-1e9) < 1.0);
        assert!(normalise(-5.0) > normalise(-1.0));
        assert_eq!(normalise(3.0), 0.0);
    }
}
