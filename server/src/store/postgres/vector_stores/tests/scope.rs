//! Scores come from the searched stores alone, on both backends: another tenant's or
//! another store's chunks leave a tenant's scores bit-identical, a detached file leaves
//! the scores of a store that never had it, an attribute filter selects results without
//! changing their scores, and a question's function words answer only when nothing else
//! matches.

use super::{in_progress, ingest, ranked, ranked_in, sqlite, vector_store, Hit};
use crate::store::postgres::test_store;
use crate::store::vector_stores::VectorStoreStore;
use crate::store::Tenant;

use super::corpus::{DOCUMENTS, QUESTIONS};

/// Questions whose words the other tenant and store then hold many times.
const ASKED: [&str; 4] = [
    "espresso crema pressure",
    "What kind of lava do shield volcanoes erupt?",
    "Why does sourdough bread taste tangy?",
    "ocean tides moon gravitational pull",
];

/// A store of `tenant` holding one file per text, ingested as one chunk each.
async fn store_of<S: VectorStoreStore>(store: &S, tenant: &Tenant, id: &str, texts: &[String]) {
    let files: Vec<_> = (0..texts.len())
        .map(|n| in_progress(id, &format!("doc{n}")))
        .collect();
    store
        .insert_vector_store(tenant, &vector_store(id), &files)
        .await
        .unwrap();
    for (file, text) in files.iter().zip(texts) {
        ingest(store, tenant, file, &[text.as_str()]).await;
    }
}

async fn results<S: VectorStoreStore>(store: &S, tenant: &Tenant, id: &str) -> Vec<Vec<Hit>> {
    let mut all = Vec::new();
    for question in ASKED {
        all.push(
            ranked(store, tenant, &[id.to_owned()], question)
                .await
                .unwrap(),
        );
    }
    all
}

/// The results before and after a flood of the questions' words elsewhere, and a
/// trimmed store's results beside a fresh one's (texts and score bits, sorted).
async fn scoped<S: VectorStoreStore>(store: &S) -> (Vec<Vec<Hit>>, Vec<Vec<Hit>>) {
    let (tenant, other) = (Tenant::from_api_key("k"), Tenant::from_api_key("other"));
    let texts: Vec<String> = DOCUMENTS.iter().map(|(_, t)| (*t).to_owned()).collect();
    store_of(store, &tenant, "vs_main", &texts).await;
    let before = results(store, &tenant, "vs_main").await;
    let flood: Vec<String> = (0..60)
        .map(|n| format!("{} {} notes {n}", ASKED.join(" "), QUESTIONS[n % 30].0))
        .collect();
    store_of(store, &other, "vs_theirs", &flood).await;
    store_of(store, &tenant, "vs_flood", &flood).await;
    assert_eq!(results(store, &tenant, "vs_main").await, before);

    let kept = texts[..10].to_vec();
    let mut more = kept.clone();
    more.extend(texts[10..20].iter().cloned());
    more.push("espresso espresso crema lava volcanoes sourdough tides".to_owned());
    store_of(store, &tenant, "vs_trimmed", &more).await;
    store_of(store, &tenant, "vs_fresh", &kept).await;
    for n in kept.len()..more.len() {
        store
            .delete_vector_store_file(&tenant, "vs_trimmed", &format!("doc{n}"))
            .await
            .unwrap();
    }
    let sorted = |results: Vec<Vec<Hit>>| -> Vec<Vec<Hit>> {
        results
            .into_iter()
            .map(|mut r| {
                r.sort();
                r
            })
            .collect()
    };
    let trimmed = sorted(results(store, &tenant, "vs_trimmed").await);
    assert!(trimmed.iter().any(|r| !r.is_empty()));
    assert_eq!(trimmed, sorted(results(store, &tenant, "vs_fresh").await));
    (before, trimmed)
}

#[tokio::test]
async fn only_the_searched_stores_decide_scores_on_both_backends() {
    let expected = scoped(&sqlite().await).await;
    if let Some(pg) = test_store().await {
        assert_eq!(scoped(&*pg).await, expected);
    }
}

/// Filtered rankings: only allowed files, scored as unfiltered.
async fn filtered<S: VectorStoreStore>(store: &S) -> Vec<Vec<Hit>> {
    let tenant = Tenant::from_api_key("k");
    let texts: Vec<String> = DOCUMENTS.iter().map(|(_, t)| (*t).to_owned()).collect();
    store_of(store, &tenant, "vs_main", &texts).await;
    let ids = ["vs_main".to_owned()];
    let allowed: Vec<(String, String)> = (0..30)
        .step_by(3)
        .map(|n| ("vs_main".to_owned(), format!("doc{n}")))
        .collect();
    let mut all = Vec::new();
    for (question, _) in QUESTIONS {
        let every = ranked(store, &tenant, &ids, question).await.unwrap();
        let some = ranked_in(store, &tenant, &ids, Some(&allowed), question)
            .await
            .unwrap();
        let expected: Vec<Hit> = every
            .into_iter()
            .filter(|(file, _, _)| allowed.iter().any(|(_, f)| f == file))
            .collect();
        assert!(some
            .iter()
            .all(|(file, _, _)| allowed.iter().any(|(_, f)| f == file)));
        // When the question's content words still match an allowed file, those are the
        // hits, scored as unfiltered; otherwise its function words answer, as unfiltered.
        if !expected.is_empty() {
            assert_eq!(some, expected);
        }
        all.push(some);
    }
    all
}

#[tokio::test]
async fn attribute_filters_select_without_rescoring_on_both_backends() {
    let expected = filtered(&sqlite().await).await;
    assert!(expected.iter().filter(|r| !r.is_empty()).count() >= 10);
    if let Some(pg) = test_store().await {
        assert_eq!(filtered(&*pg).await, expected);
    }
}

async fn function_words<S: VectorStoreStore>(store: &S) -> Vec<Vec<String>> {
    let tenant = Tenant::from_api_key("k");
    let mut chunks: Vec<String> = (0..30).map(|n| format!("what is the plum {n}")).collect();
    chunks.push("the apple is red".to_owned());
    store_of(store, &tenant, "vs_1", &chunks).await;
    let mut all = Vec::new();
    for question in ["What is the apple?", "What is the?", "What is the zebra?"] {
        let hits = ranked(store, &tenant, &["vs_1".to_owned()], question)
            .await
            .unwrap();
        all.push(hits.into_iter().map(|(_, text, _)| text).collect());
    }
    all
}

#[tokio::test]
async fn function_words_answer_only_when_nothing_else_matches_on_both_backends() {
    let expected = function_words(&sqlite().await).await;
    assert_eq!(expected[0], ["the apple is red"]);
    assert_eq!((expected[1].len(), expected[2].len()), (31, 31));
    if let Some(pg) = test_store().await {
        assert_eq!(function_words(&*pg).await, expected);
    }
}
