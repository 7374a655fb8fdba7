//! BM25 keyword scoring from the searched stores' statistics alone, computed here once
//! for every storage backend.
//!
//! FTS5's own `bm25()` takes the row count, the average length and each term's
//! document frequency from the whole FTS table, every tenant's chunks included: another
//! tenant storing documents with a query's words moved a tenant's scores (0.592 to
//! 0.000001 in one report) and could push its hits under a `score_threshold`. Here the
//! store only finds the chunks holding each query term and says how often
//! ([`TermMatch`]), and how many chunks and words the searched stores hold
//! ([`KeywordStats`]); the score is computed from those, so nothing outside the
//! searched stores can change it, to the bit.
//!
//! The formula is FTS5's (k1 1.2, b 0.75, idf `ln((N - n + 0.5) / (n + 0.5))` floored at
//! 1e-6), so a database holding only the searched stores ranks as before. A chunk's
//! length is counted in words by [`word_count`] (runs of letters and digits), for the
//! chunk and the stores' totals alike.

use std::collections::{HashMap, HashSet};

use crate::store::vector_stores::{KeywordStats, TermMatch};

/// BM25's term frequency saturation (FTS5's value).
pub const K1: f64 = 1.2;
/// BM25's length normalisation (FTS5's value).
pub const B: f64 = 0.75;
/// The idf of a term held by half the chunks or more (FTS5's floor: such a term still
/// counts a little, never negatively).
pub const IDF_FLOOR: f64 = 1e-6;

/// A chunk's length for bm25: its runs of letters and digits.
pub fn word_count(text: &str) -> u32 {
    let words = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .count();
    u32::try_from(words).unwrap_or(u32::MAX)
}

/// The idf of a term found in `df` of `chunks` chunks.
pub fn idf(chunks: u64, df: usize) -> f64 {
    let (n, df) = (chunks as f64, df as f64);
    let idf = ((n - df + 0.5) / (df + 0.5)).ln();
    if idf > 0.0 {
        idf
    } else {
        IDF_FLOOR
    }
}

/// One term's share of a chunk's score.
pub fn term_score(idf: f64, tf: u32, words: u32, average_words: f64) -> f64 {
    let tf = f64::from(tf);
    let length = 1.0 - B + B * f64::from(words) / average_words;
    idf * (tf * (K1 + 1.0)) / (tf + K1 * length)
}

/// A chunk with its bm25 score (positive, higher is better).
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// The chunk's id in the store.
    pub chunk_id: i64,
    /// The store the chunk belongs to.
    pub vector_store_id: String,
    /// The file the chunk came from.
    pub file_id: String,
    /// The sum of its terms' shares.
    pub score: f64,
}

/// Scores every chunk of `terms` (one list of matches per query term, in query order)
/// that `keep` accepts, best first; equal scores by file, then chunk. The idf of a term
/// counts every chunk of the searched stores holding it, kept or not, so an attribute
/// filter selects results without changing their scores.
pub fn rank(
    stats: &KeywordStats,
    terms: &[&[TermMatch]],
    keep: impl Fn(&TermMatch) -> bool,
) -> Vec<Scored> {
    let average_words = stats.words.max(1) as f64 / stats.chunks.max(1) as f64;
    let mut scores: HashMap<i64, Scored> = HashMap::new();
    for matches in terms {
        let idf = idf(stats.chunks, distinct_chunks(matches));
        for hit in matches.iter().filter(|hit| keep(hit)) {
            let share = term_score(idf, hit.tf, hit.words, average_words);
            scores
                .entry(hit.chunk_id)
                .or_insert_with(|| Scored {
                    chunk_id: hit.chunk_id,
                    vector_store_id: hit.vector_store_id.clone(),
                    file_id: hit.file_id.clone(),
                    score: 0.0,
                })
                .score += share;
        }
    }
    let mut ranked: Vec<Scored> = scores.into_values().collect();
    ranked.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.file_id.cmp(&b.file_id))
            .then_with(|| a.chunk_id.cmp(&b.chunk_id))
    });
    ranked
}

/// How many chunks `matches` covers (a backend lists each chunk once; counted anyway so
/// a duplicate cannot inflate the document frequency).
fn distinct_chunks(matches: &[TermMatch]) -> usize {
    matches
        .iter()
        .map(|hit| hit.chunk_id)
        .collect::<HashSet<_>>()
        .len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(chunk_id: i64, tf: u32, words: u32) -> TermMatch {
        TermMatch {
            chunk_id,
            vector_store_id: "vs".to_owned(),
            file_id: format!("file-{chunk_id}"),
            tf,
            words,
        }
    }

    #[test]
    fn words_are_runs_of_letters_and_digits() {
        assert_eq!(word_count("Don't stop: 9 bars, café!"), 6);
        assert_eq!(word_count(" ?! "), 0);
    }

    #[test]
    fn idf_follows_fts5_and_never_goes_negative() {
        assert!((idf(10, 1) - (9.5f64 / 1.5).ln()).abs() < 1e-15);
        assert_eq!(idf(10, 5), IDF_FLOOR);
        assert_eq!(idf(10, 9), IDF_FLOOR);
        assert!(idf(1000, 1) > idf(1000, 10));
    }

    #[test]
    fn more_occurrences_and_shorter_chunks_score_higher() {
        assert!(term_score(1.0, 3, 100, 100.0) > term_score(1.0, 1, 100, 100.0));
        assert!(term_score(1.0, 1, 50, 100.0) > term_score(1.0, 1, 200, 100.0));
        // One occurrence in an average chunk: idf * (k1 + 1) / (1 + k1).
        assert!((term_score(2.0, 1, 100, 100.0) - 2.0).abs() < 1e-15);
    }

    #[test]
    fn rare_terms_weigh_more_and_filtered_chunks_still_count_for_idf() {
        let stats = KeywordStats {
            chunks: 100,
            words: 1000,
        };
        let rare = [hit(1, 1, 10)];
        let common: Vec<TermMatch> = (2..40).map(|id| hit(id, 1, 10)).collect();
        let ranked = rank(&stats, &[&rare, &common], |_| true);
        assert_eq!(ranked[0].chunk_id, 1);
        assert_eq!(ranked.len(), 39);
        // Equal scores: by file.
        assert_eq!(ranked[1].file_id, "file-10");
        let only_two = rank(&stats, &[&rare, &common], |hit| hit.chunk_id == 2);
        assert_eq!(only_two.len(), 1);
        assert_eq!(
            only_two[0].score.to_bits(),
            ranked[1..]
                .iter()
                .find(|s| s.chunk_id == 2)
                .unwrap()
                .score
                .to_bits()
        );
    }
}
