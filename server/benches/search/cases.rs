//! The search cases and their timing: three query shapes (one rare term, three terms
//! of mixed frequency, a ten-word question), with and without an attribute filter,
//! at `max_num_results` 10 and 50, each timed through `vector_stores::search::search_with`,
//! the function the searchVectorStore operation and file_search in runs call: keyword
//! only without an embeddings client, hybrid with one.

use std::time::{Duration, Instant};

use serde_json::json;
use server::embeddings::EmbeddingsClient;
use server::store::{Store, Tenant};
use server::vector_stores::filters::parse_filter;
use server::vector_stores::{search_with, SearchOptions};

use crate::corpus::{Rng, Vocabulary, VOCABULARY};
use crate::stats::Summary;

/// Different queries per shape; the timed loop cycles through them.
const QUERIES_PER_SHAPE: usize = 64;
/// Untimed searches before each case.
const WARMUP: usize = 3;

/// The query shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// One made-up word of rank 5,000 to 50,000 (a name or a term).
    Rare,
    /// A common content word, a mid-frequency word and a rare word.
    Mixed,
    /// "what is the X of Y and Z in the W": function words that match almost every
    /// chunk, as users' questions do.
    Question,
}

impl Shape {
    /// Every shape, in table order.
    pub(crate) const ALL: [Shape; 3] = [Shape::Rare, Shape::Mixed, Shape::Question];

    /// The table's name for the shape.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Shape::Rare => "1 rare term",
            Shape::Mixed => "3 mixed terms",
            Shape::Question => "10-word question",
        }
    }
}

/// Queries of `shape`, the same for every run with the same seed.
pub(crate) fn queries(shape: Shape, seed: u64) -> Vec<String> {
    let vocabulary = Vocabulary::new();
    let mut rng = Rng::new(seed ^ shape as u64 ^ 0xC0FFEE);
    let mut word = |ranks: std::ops::Range<usize>| vocabulary.word(rng.below(ranks)).to_owned();
    (0..QUERIES_PER_SHAPE)
        .map(|_| match shape {
            Shape::Rare => word(5_000..VOCABULARY),
            Shape::Mixed => [word(120..400), word(1_000..5_000), word(5_000..VOCABULARY)].join(" "),
            Shape::Question => format!(
                "what is the {} of {} and {} in the {}?",
                word(1_000..5_000),
                word(120..400),
                word(5_000..VOCABULARY),
                word(300..20_000)
            ),
        })
        .collect()
}

/// The filter of the filtered cases: one department and recent years (about 7% of
/// the files pass).
pub(crate) fn filter() -> server::vector_stores::filters::Filter {
    let value = json!({"type": "and", "filters": [
        {"type": "eq", "key": "department", "value": "legal"},
        {"type": "gte", "key": "year", "value": 2020}
    ]});
    parse_filter(&value, "filters").expect("the benchmark filter is valid")
}

/// How long to keep measuring one case.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    /// At least this many timed searches.
    pub min_iterations: usize,
    /// At most this many.
    pub max_iterations: usize,
    /// Stop after this much time once `min_iterations` are done.
    pub time: Duration,
}

/// One measured case.
pub(crate) struct Measured {
    /// Latency of the timed searches.
    pub summary: Summary,
    /// Mean number of results returned.
    pub mean_results: f64,
}

/// Times searches of `store_id` with each query of `queries` in turn; hybrid when
/// `embeddings` is given (and the store has an embedding model).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn measure(
    store: &dyn Store,
    embeddings: Option<&EmbeddingsClient>,
    tenant: &Tenant,
    store_id: &str,
    queries: &[String],
    filtered: bool,
    max_num_results: u32,
    budget: Budget,
) -> Measured {
    let options = |query: &String| SearchOptions {
        queries: vec![query.clone()],
        max_num_results,
        score_threshold: 0.0,
        filter: filtered.then(filter),
    };
    let ids = [store_id.to_owned()];
    for query in queries.iter().take(WARMUP) {
        search_with(store, embeddings, tenant, &ids, &options(query))
            .await
            .expect("search works");
    }
    let mut samples = Vec::new();
    let mut results = 0usize;
    let started = Instant::now();
    while samples.len() < budget.max_iterations
        && (samples.len() < budget.min_iterations || started.elapsed() < budget.time)
    {
        let query = options(&queries[samples.len() % queries.len()]);
        let start = Instant::now();
        let hits = search_with(store, embeddings, tenant, &ids, &query)
            .await
            .expect("search works");
        samples.push(start.elapsed());
        results += hits.len();
    }
    Measured {
        summary: Summary::of(&samples).expect("at least one search"),
        mean_results: results as f64 / samples.len() as f64,
    }
}
