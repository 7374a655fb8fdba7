//! Brute-force similarity ranking shared by the backends: each streams a scope's
//! stored vectors through [`TopSimilar`], which keeps the best `limit` (plus the chunks
//! asked for besides), so only the SQL that reads the vectors differs per backend.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashSet};

use super::vector_stores::{ChunkScope, SimilarityQuery};
use crate::embeddings::vectors::dot_blob;

/// A chunk's similarity, ordered by similarity then (for ties) by lower id first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Scored {
    /// Its best similarity over the query vectors.
    pub(crate) similarity: f64,
    /// The chunk.
    pub(crate) chunk_id: i64,
}

impl Eq for Scored {}

impl Ord for Scored {
    fn cmp(&self, other: &Self) -> Ordering {
        self.similarity
            .total_cmp(&other.similarity)
            .then_with(|| other.chunk_id.cmp(&self.chunk_id))
    }
}

impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Whether a similarity search has nothing to look at (no store, no file passed the
/// filters, no query vector): the backends then answer without a query.
pub(crate) fn nothing_to_compare(scope: &ChunkScope<'_>, query: &SimilarityQuery<'_>) -> bool {
    scope.vector_store_ids.is_empty()
        || scope.files.is_some_and(<[_]>::is_empty)
        || query.vectors.is_empty()
}

/// The best `limit` chunks seen so far (a min-heap), plus the asked-for extras.
pub(crate) struct TopSimilar<'q> {
    query: &'q SimilarityQuery<'q>,
    also: HashSet<i64>,
    best: BinaryHeap<Reverse<Scored>>,
    extras: Vec<Scored>,
}

impl<'q> TopSimilar<'q> {
    /// An empty ranking for `query`.
    pub(crate) fn new(query: &'q SimilarityQuery<'q>) -> Self {
        Self {
            query,
            also: query.also.iter().copied().collect(),
            best: BinaryHeap::new(),
            extras: Vec::new(),
        }
    }

    /// Scores one stored vector; one of another dimension is not comparable and skipped.
    pub(crate) fn offer(&mut self, chunk_id: i64, blob: &[u8]) {
        let Some(similarity) = self
            .query
            .vectors
            .iter()
            .filter_map(|vector| dot_blob(blob, vector))
            .max_by(f64::total_cmp)
        else {
            return;
        };
        let scored = Scored {
            similarity,
            chunk_id,
        };
        if self.also.contains(&chunk_id) {
            self.extras.push(scored);
            return;
        }
        self.best.push(Reverse(scored));
        if self.best.len() > self.query.limit {
            self.best.pop();
        }
    }

    /// The chosen chunks, most similar first.
    pub(crate) fn finish(self) -> Vec<Scored> {
        let mut chosen: Vec<Scored> = self
            .best
            .into_iter()
            .map(|Reverse(s)| s)
            .chain(self.extras)
            .collect();
        chosen.sort_by(|a, b| b.cmp(a));
        chosen
    }
}
