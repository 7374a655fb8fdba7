//! bm25's inputs on both backends: term frequencies and chunk lengths read back exactly
//! whatever else the database holds, and per-store statistics that follow ingestion,
//! re-attachment, detachment, a file's deletion and a store's deletion.

use super::{files_matching, in_progress, ingest, sqlite, vector_store};
use crate::models::FileStatus;
use crate::store::postgres::{test_store, PgStore};
use crate::store::vector_stores::{KeywordStats, VectorStoreStore};
use crate::store::{FileStore, Tenant};

/// One tenant's small store and another tenant's store ten times its size where the
/// term is in every chunk: the frequencies and lengths of the small store's chunks, and
/// its statistics, must not move.
async fn frequencies_whatever_else_is_stored<S: VectorStoreStore>(store: &S) {
    let (tenant, other) = (Tenant::from_api_key("k"), Tenant::from_api_key("other"));
    let (small, big) = (in_progress("vs_small", "f1"), in_progress("vs_big", "f2"));
    store
        .insert_vector_store(
            &tenant,
            &vector_store("vs_small"),
            std::slice::from_ref(&small),
        )
        .await
        .unwrap();
    store
        .insert_vector_store(&other, &vector_store("vs_big"), std::slice::from_ref(&big))
        .await
        .unwrap();
    let counts = [1usize, 2, 3, 7, 40, 400];
    let chunks: Vec<String> = counts
        .iter()
        .enumerate()
        .map(|(n, count)| format!("{}{}", "filler ".repeat(n * 37), "Running ".repeat(*count)))
        .collect();
    let chunk_refs: Vec<&str> = chunks.iter().map(String::as_str).collect();
    ingest(store, &tenant, &small, &chunk_refs).await;
    let flood: Vec<String> = (0..60)
        .map(|n| format!("runs {}", "run ".repeat(n)))
        .collect();
    let flood: Vec<&str> = flood.iter().map(String::as_str).collect();
    ingest(store, &other, &big, &flood).await;

    let ids = ["vs_small".to_owned()];
    // "runs" and "Running" stem to "run".
    let mut found = store.term_matches(&tenant, &ids, "runs").await.unwrap();
    found.sort_by_key(|hit| hit.chunk_id);
    let tfs: Vec<usize> = found.iter().map(|hit| hit.tf as usize).collect();
    assert_eq!(tfs, counts);
    let words: Vec<u32> = found.iter().map(|hit| hit.words).collect();
    let expected: Vec<u32> = counts
        .iter()
        .enumerate()
        .map(|(n, count)| (n * 37 + count) as u32)
        .collect();
    assert_eq!(words, expected);
    // Another tenant naming the store finds nothing; its own store only its chunks.
    assert!(store
        .term_matches(&other, &ids, "run")
        .await
        .unwrap()
        .is_empty());
    let theirs = store
        .term_matches(&other, &["vs_big".to_owned()], "run")
        .await
        .unwrap();
    assert_eq!(theirs.len(), 60);
    assert!(theirs.iter().all(|hit| hit.tf == hit.words));
    assert_eq!(
        store.keyword_stats(&tenant, &ids).await.unwrap(),
        KeywordStats {
            chunks: 6,
            words: expected.iter().map(|w| u64::from(*w)).sum(),
        }
    );
    assert_eq!(
        store.keyword_stats(&other, &ids).await.unwrap(),
        KeywordStats::default()
    );
}

#[tokio::test]
async fn term_frequencies_are_exact_whatever_else_is_stored_on_both_backends() {
    frequencies_whatever_else_is_stored(&sqlite().await).await;
    if let Some(pg) = test_store().await {
        frequencies_whatever_else_is_stored(&*pg).await;
    }
}

/// `(chunks, words)` of vs_1 and vs_2 and the files holding "apple" after each step.
type Step = ((u64, u64), (u64, u64), Vec<String>);

/// The statistics of vs_1 and vs_2 and the files holding "apple" in them.
async fn observe<S: VectorStoreStore>(store: &S, tenant: &Tenant) -> Step {
    let mut stats = Vec::new();
    for id in ["vs_1", "vs_2"] {
        let s = store.keyword_stats(tenant, &[id.to_owned()]).await.unwrap();
        stats.push((s.chunks, s.words));
    }
    let files = files_matching(store, tenant, &["vs_1", "vs_2"], "apple").await;
    (stats[0], stats[1], files)
}

async fn statistics_through_changes<S: VectorStoreStore + FileStore>(store: &S) -> Vec<Step> {
    let tenant = Tenant::from_api_key("k");
    let (a, b) = (in_progress("vs_1", "file-a"), in_progress("vs_1", "file-b"));
    let a_elsewhere = in_progress("vs_2", "file-a");
    let c = in_progress("vs_2", "file-c");
    store
        .insert_vector_store(&tenant, &vector_store("vs_1"), &[a.clone(), b.clone()])
        .await
        .unwrap();
    store
        .insert_vector_store(
            &tenant,
            &vector_store("vs_2"),
            &[a_elsewhere.clone(), c.clone()],
        )
        .await
        .unwrap();
    let mut steps = Vec::new();
    ingest(store, &tenant, &a, &["apple one", "apple two three"]).await;
    ingest(store, &tenant, &b, &["apple banana"]).await;
    ingest(store, &tenant, &a_elsewhere, &["apple, three; four!"]).await;
    ingest(store, &tenant, &c, &["apple pie"]).await;
    steps.push(observe(store, &tenant).await);
    // Re-attaching file-a to vs_1 drops its chunks there only; its new ones count.
    store
        .attach_files(&tenant, std::slice::from_ref(&a), None)
        .await
        .unwrap();
    steps.push(observe(store, &tenant).await);
    ingest(store, &tenant, &a, &["pear"]).await;
    steps.push(observe(store, &tenant).await);
    store
        .delete_vector_store_file(&tenant, "vs_1", "file-b")
        .await
        .unwrap();
    steps.push(observe(store, &tenant).await);
    // Deleting file-c (a file record with no bytes here) detaches it everywhere.
    let record = crate::models::file::FileObject {
        id: "file-c".to_owned(),
        object: "file".to_owned(),
        bytes: 9,
        created_at: 1,
        expires_at: None,
        filename: "c.txt".to_owned(),
        purpose: "assistants".to_owned(),
        status: FileStatus::Processed,
        status_details: None,
    };
    store.insert_file(&tenant, &record).await.unwrap();
    store.delete_file(&tenant, "file-c").await.unwrap();
    steps.push(observe(store, &tenant).await);
    store.delete_vector_store(&tenant, "vs_2").await.unwrap();
    steps.push(observe(store, &tenant).await);
    steps
}

#[tokio::test]
async fn statistics_follow_every_change_alike_on_both_backends() {
    let pair = |store: &str, file: &str| format!("{store} {file}");
    let expected: Vec<Step> = vec![
        (
            (3, 7),
            (2, 5),
            vec![
                pair("vs_1", "file-a"),
                pair("vs_1", "file-b"),
                pair("vs_2", "file-a"),
                pair("vs_2", "file-c"),
            ],
        ),
        (
            (1, 2),
            (2, 5),
            vec![
                pair("vs_1", "file-b"),
                pair("vs_2", "file-a"),
                pair("vs_2", "file-c"),
            ],
        ),
        (
            (2, 3),
            (2, 5),
            vec![
                pair("vs_1", "file-b"),
                pair("vs_2", "file-a"),
                pair("vs_2", "file-c"),
            ],
        ),
        (
            (1, 1),
            (2, 5),
            vec![pair("vs_2", "file-a"), pair("vs_2", "file-c")],
        ),
        ((1, 1), (1, 3), vec![pair("vs_2", "file-a")]),
        ((1, 1), (0, 0), vec![]),
    ];
    assert_eq!(statistics_through_changes(&sqlite().await).await, expected);
    if let Some(pg) = test_store().await {
        assert_eq!(statistics_through_changes(&*pg).await, expected);
        assert_eq!(stats_rows(&pg).await, recounted(&pg).await);
        // Nothing of the deleted store, file or attachment is left behind.
        for (table, left) in [
            ("vector_store_chunks", 1),
            ("vector_store_embeddings", 1),
            ("vector_store_terms", 1),
            ("vector_store_files", 1),
        ] {
            let rows: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
                .fetch_one(pg.pool())
                .await
                .unwrap();
            assert_eq!(rows, left, "{table}");
        }
    }
}

/// `(store, chunks, words)` of every statistics row.
pub(super) async fn stats_rows(store: &PgStore) -> Vec<(String, i64, i64)> {
    sqlx::query_as(
        "SELECT vector_store_id, chunks, words FROM vector_store_chunk_stats \
         WHERE chunks > 0 ORDER BY vector_store_id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap()
}

/// The same recounted from the chunks.
pub(super) async fn recounted(store: &PgStore) -> Vec<(String, i64, i64)> {
    sqlx::query_as(
        "SELECT vector_store_id, count(*), SUM(words)::BIGINT FROM vector_store_chunks \
         GROUP BY vector_store_id ORDER BY vector_store_id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap()
}
