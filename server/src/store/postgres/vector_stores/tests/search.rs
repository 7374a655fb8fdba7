//! The same corpus indexed on SQLite and on PostgreSQL ranks alike: every query's hits
//! with bm25 scores equal to the bit, every word's term matches equal, recall@5 on the
//! project's corpus the same (and at least 0.9), semantic neighbours equal.

use std::collections::BTreeSet;

use super::{in_progress, ingest_with, ranked, sqlite, vector_store, Hit};
use crate::store::postgres::test_store;
use crate::store::vector_stores::{ChunkScope, SimilarityQuery, VectorStoreStore};
use crate::store::Tenant;
use crate::vector_stores::chunking::{chunk_text, Chunking};
use crate::vector_stores::tokenize::terms;

use super::corpus::{DOCUMENTS, QUESTIONS};

/// Questions of the search tests and words unicode61 treats unusually (a Devanagari word
/// it splits into a phrase, diacritics, digits, marks alone).
const EXTRA_QUERIES: &[&str] = &[
    "espresso crema pressure",
    "the sun and the moon, water and energy",
    "ocean tides moon gravitational pull",
    "What is the?",
    "café naïve RUNNING runs ran",
    "हिन्दी भाषा",
    "x\u{2082}ed 42.195 8,849",
    "\u{345}\u{301}",
    "zeppelins balloons",
];

/// A deterministic unit vector per chunk, from its text.
fn vector_of(text: &str) -> Vec<f32> {
    let mut v = [0f32; 8];
    for (n, byte) in text.bytes().enumerate() {
        v[n % 8] += f32::from(byte) * if n % 3 == 0 { -1.0 } else { 1.0 };
    }
    crate::embeddings::vectors::normalised(&v).unwrap_or_else(|| vec![1.0; 8])
}

/// The project's corpus as one store (one file per document, auto chunking), a second
/// store of the same tenant made of the project's prose cut into small chunks with a few
/// exotic words, and another tenant's store full of the questions' words.
async fn index<S: VectorStoreStore>(store: &S) -> Tenant {
    let tenant = Tenant::from_api_key("k");
    let other = Tenant::from_api_key("other");
    let corpus: Vec<_> = (0..DOCUMENTS.len())
        .map(|n| in_progress("vs_corpus", &format!("file-{n:02}")))
        .collect();
    store
        .insert_vector_store(&tenant, &vector_store("vs_corpus"), &corpus)
        .await
        .unwrap();
    for (file, (_, text)) in corpus.iter().zip(DOCUMENTS) {
        let chunks = chunk_text(text, Chunking::default());
        assert!(ingest_with(store, &tenant, file, &chunks, |n| vector_of(&chunks[n])).await);
    }
    let readme = include_str!("../../../../../../README.md");
    let small = Chunking {
        max_tokens: 100,
        overlap_tokens: 20,
    };
    let prose: Vec<_> = (0..4)
        .map(|n| in_progress("vs_prose", &format!("file-p{n}")))
        .collect();
    store
        .insert_vector_store(&tenant, &vector_store("vs_prose"), &prose)
        .await
        .unwrap();
    let quarter = readme.len() / 4;
    for (n, file) in prose.iter().enumerate() {
        let start = readme.floor_char_boundary(n * quarter);
        let end = readme.floor_char_boundary((n + 1) * quarter);
        let mut chunks = chunk_text(&readme[start..end], small);
        chunks.push(format!("हिन्दी भाषा café naïve x\u{2082}ed espresso {n}"));
        assert!(ingest_with(store, &tenant, file, &chunks, |n| vector_of(&chunks[n])).await);
    }
    let flood = in_progress("vs_flood", "file-f");
    store
        .insert_vector_store(
            &other,
            &vector_store("vs_flood"),
            std::slice::from_ref(&flood),
        )
        .await
        .unwrap();
    let chunks: Vec<String> = (0..60)
        .map(|n| format!("{} espresso moon {n}", QUESTIONS[n % 30].0))
        .collect();
    assert!(ingest_with(store, &other, &flood, &chunks, |n| vector_of(&chunks[n])).await);
    tenant
}

/// Every query's ranking in the corpus store, in the prose store and in both.
async fn rankings<S: VectorStoreStore>(store: &S, tenant: &Tenant) -> Vec<Vec<Hit>> {
    let scopes = [
        vec!["vs_corpus".to_owned()],
        vec!["vs_prose".to_owned()],
        vec!["vs_corpus".to_owned(), "vs_prose".to_owned()],
    ];
    let queries = QUESTIONS
        .iter()
        .map(|(q, _)| *q)
        .chain(EXTRA_QUERIES.iter().copied());
    let mut all = Vec::new();
    for query in queries {
        for ids in &scopes {
            all.push(ranked(store, tenant, ids, query).await.unwrap());
        }
    }
    all
}

/// Every distinct word of the corpus, the prose and the queries, with its term matches
/// in both stores as `(file, chunk text, tf, words)`.
async fn all_matches<S: VectorStoreStore>(
    store: &S,
    tenant: &Tenant,
) -> Vec<(String, Vec<(String, String, u32, u32)>)> {
    let ids = ["vs_corpus".to_owned(), "vs_prose".to_owned()];
    let mut words = BTreeSet::new();
    let texts = DOCUMENTS
        .iter()
        .map(|(_, t)| *t)
        .chain(QUESTIONS.iter().map(|(q, _)| *q))
        .chain(EXTRA_QUERIES.iter().copied())
        .chain([include_str!("../../../../../../README.md")]);
    for text in texts {
        for word in text.split(|c: char| !c.is_alphanumeric()) {
            if !word.is_empty() {
                words.insert(word.to_lowercase());
            }
        }
    }
    let mut all = Vec::new();
    for word in words {
        let found = store.term_matches(tenant, &ids, &word).await.unwrap();
        let chunk_ids: Vec<i64> = found.iter().map(|m| m.chunk_id).collect();
        let mut texts = store.chunk_texts(tenant, &chunk_ids).await.unwrap();
        let mut hits: Vec<_> = found
            .into_iter()
            .map(|m| (m.file_id, texts.remove(&m.chunk_id).unwrap(), m.tf, m.words))
            .collect();
        hits.sort();
        all.push((word, hits));
    }
    all
}

/// recall@5 on the corpus store: the share of questions whose document is among the
/// files of the first five hits.
async fn recall_at_5<S: VectorStoreStore>(store: &S, tenant: &Tenant) -> f64 {
    let ids = ["vs_corpus".to_owned()];
    let mut hits = 0;
    for (question, answer) in QUESTIONS {
        let found = ranked(store, tenant, &ids, question).await.unwrap();
        let files: Vec<&str> = found.iter().take(5).map(|(f, _, _)| f.as_str()).collect();
        if files.contains(&format!("file-{answer:02}").as_str()) {
            hits += 1;
        }
    }
    f64::from(hits) / QUESTIONS.len() as f64
}

/// The semantic neighbours of a few texts, with and without a file filter.
async fn neighbours<S: VectorStoreStore>(store: &S, tenant: &Tenant) -> Vec<Vec<(String, u64)>> {
    let ids = ["vs_corpus".to_owned(), "vs_prose".to_owned()];
    let filter = [
        ("vs_corpus".to_owned(), "file-05".to_owned()),
        ("vs_prose".to_owned(), "file-p2".to_owned()),
    ];
    let mut all = Vec::new();
    for (text, files) in [
        ("espresso crema", None),
        ("tides and the moon", None),
        ("running the server", Some(&filter[..])),
    ] {
        let vectors = [vector_of(text)];
        let scope = ChunkScope {
            vector_store_ids: &ids,
            files,
        };
        let query = SimilarityQuery {
            model: "m",
            vectors: &vectors,
            limit: 7,
            also: &[3],
        };
        let found = store.similar_chunks(tenant, &scope, &query).await.unwrap();
        all.push(
            found
                .into_iter()
                .map(|c| (format!("{} {}", c.file_id, c.text), c.similarity.to_bits()))
                .collect(),
        );
    }
    all
}

#[tokio::test]
async fn the_same_corpus_ranks_to_the_bit_alike_on_both_backends() {
    let lite = sqlite().await;
    let tenant = index(&lite).await;
    let expected = rankings(&lite, &tenant).await;
    let hits: usize = expected.iter().map(Vec::len).sum();
    assert!(hits > 1_000, "{hits}");
    let matches = all_matches(&lite, &tenant).await;
    let recall = recall_at_5(&lite, &tenant).await;
    assert!(recall >= 0.9, "SQLite recall@5 {recall}");
    let near = neighbours(&lite, &tenant).await;
    assert!(near.iter().all(|n| n.len() >= 7), "{near:?}");
    // The phrase case is exercised: words unicode61 splits ("भाषा" at its vowel signs)
    // match, and a word of marks alone matches nothing.
    let phrases = matches
        .iter()
        .filter(|(word, hits)| terms(word).len() > 1 && hits.len() == 4)
        .count();
    assert!(phrases >= 2, "{phrases}");
    assert!(matches
        .iter()
        .any(|(word, hits)| terms(word).is_empty() && hits.is_empty()));
    let Some(pg) = test_store().await else {
        return;
    };
    let pg_tenant = index(&*pg).await;
    let pg_rankings = rankings(&*pg, &pg_tenant).await;
    for (n, (ours, theirs)) in pg_rankings.iter().zip(&expected).enumerate() {
        assert_eq!(ours, theirs, "ranking {n} differs");
    }
    assert_eq!(pg_rankings.len(), expected.len());
    let pg_matches = all_matches(&*pg, &pg_tenant).await;
    for (ours, theirs) in pg_matches.iter().zip(&matches) {
        assert_eq!(ours, theirs);
    }
    assert_eq!(pg_matches.len(), matches.len());
    let pg_recall = recall_at_5(&*pg, &pg_tenant).await;
    assert_eq!(pg_recall.to_bits(), recall.to_bits());
    assert_eq!(neighbours(&*pg, &pg_tenant).await, near);
    println!(
        "both backends: {} rankings, {hits} hits with bit-identical bm25 scores, {} words' \
         term matches equal, recall@5 {recall:.3} on both",
        expected.len(),
        matches.len(),
    );
}
