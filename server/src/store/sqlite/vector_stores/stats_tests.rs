//! Per-store bm25 statistics on real SQLite: term frequencies read back exactly from
//! FTS5, statistics kept right through ingestion, re-attachment, detachment and store
//! deletion, and rebuilt for chunks written before migration 0017.

use super::super::SqliteStore;
use super::terms::{term_frequency, CHUNK_TEXTS, TERM_MATCHES};
use super::tests::{in_progress, ingest, migrated_from, populated_at_0011, vector_store};
use crate::store::vector_stores::{KeywordStats, VectorStoreStore};
use crate::store::Tenant;

/// `(store, chunks, words)` of every statistics row.
async fn stats_rows(store: &SqliteStore) -> Vec<(String, i64, i64)> {
    sqlx::query_as(
        "SELECT vector_store_id, chunks, words FROM vector_store_chunk_stats \
         ORDER BY vector_store_id",
    )
    .fetch_all(&store.pool)
    .await
    .unwrap()
}

/// The same recounted from the owner rows.
async fn recounted(store: &SqliteStore) -> Vec<(String, i64, i64)> {
    sqlx::query_as(
        "SELECT vector_store_id, count(*), SUM(words) FROM vector_store_chunk_owners \
         GROUP BY vector_store_id ORDER BY vector_store_id",
    )
    .fetch_all(&store.pool)
    .await
    .unwrap()
}

#[test]
fn values_that_are_no_bm25_of_a_whole_frequency_are_refused() {
    assert_eq!(term_frequency([-1.0, -1.0, -1.0, -1.0]), None);
    assert_eq!(term_frequency([0.0, 0.0, 0.0, 0.0]), None);
    assert_eq!(term_frequency([f64::NAN, -1.0, -1.0, -1.5]), None);
}

#[tokio::test]
async fn a_terms_chunks_are_found_by_the_match_then_their_owners_by_key() {
    // Driven from the owners, the MATCH ran once per chunk of the tenant.
    let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
    let plan: Vec<String> =
        sqlx::query_as::<_, (i64, i64, i64, String)>(&format!("EXPLAIN QUERY PLAN {TERM_MATCHES}"))
            .bind("\"x\"")
            .bind("tenant")
            .fetch_all(&store.pool)
            .await
            .unwrap()
            .into_iter()
            .map(|(_, _, _, detail)| detail)
            .collect();
    assert_eq!(plan.len(), 2, "{plan:#?}");
    assert!(
        plan[0].starts_with("SCAN vector_store_chunks VIRTUAL TABLE INDEX 0:M"),
        "{plan:#?}"
    );
    assert!(
        plan[1].contains("INTEGER PRIMARY KEY (rowid=?)"),
        "{plan:#?}"
    );
}

#[tokio::test]
async fn chunk_texts_are_read_by_chunk_id_never_through_the_tenants_rows() {
    // With three ids or more SQLite preferred the index on `tenant`, walking every
    // owner row of the tenant.
    let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
    let sql = format!("EXPLAIN QUERY PLAN {CHUNK_TEXTS} ? AND o.chunk_id IN (?, ?, ?, ?, ?)");
    let mut query = sqlx::query_as::<_, (i64, i64, i64, String)>(&sql).bind("tenant");
    for id in 1..=5 {
        query = query.bind(id);
    }
    let plan: Vec<String> = query
        .fetch_all(&store.pool)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, _, _, detail)| detail)
        .collect();
    assert!(
        plan[0].starts_with("SEARCH o USING INTEGER PRIMARY KEY (rowid=?)"),
        "{plan:#?}"
    );
}

#[tokio::test]
async fn term_frequencies_are_read_back_exactly_whatever_else_the_table_holds() {
    // One small store and one other tenant's store ten times its size, where the term
    // is in every chunk: FTS5's whole-table idf of both the term and the small store's
    // token differ wildly, and its idf of the term is floored.
    let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
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
        .map(|(n, count)| {
            let filler = "filler ".repeat(n * 37);
            format!("{filler}{}", "Running ".repeat(*count))
        })
        .collect();
    let chunk_refs: Vec<&str> = chunks.iter().map(String::as_str).collect();
    ingest(&store, &tenant, &small, &chunk_refs).await;
    let flood: Vec<String> = (0..60)
        .map(|n| format!("runs {}", "run ".repeat(n)))
        .collect();
    let flood: Vec<&str> = flood.iter().map(String::as_str).collect();
    ingest(&store, &other, &big, &flood).await;

    let ids = ["vs_small".to_owned()];
    // "runs" and "Running" stem to "run", as FTS5 matches them.
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
    assert!(theirs.iter().all(|hit| hit.tf as i64 == hit.words as i64));
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
async fn statistics_follow_ingestion_reattachment_detachment_and_deletion() {
    let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
    let tenant = Tenant::from_api_key("k");
    let (a, b) = (in_progress("vs_1", "file-a"), in_progress("vs_1", "file-b"));
    let a_elsewhere = in_progress("vs_2", "file-a");
    store
        .insert_vector_store(&tenant, &vector_store("vs_1"), &[a.clone(), b.clone()])
        .await
        .unwrap();
    store
        .insert_vector_store(
            &tenant,
            &vector_store("vs_2"),
            std::slice::from_ref(&a_elsewhere),
        )
        .await
        .unwrap();
    ingest(&store, &tenant, &a, &["apple one", "apple two three"]).await;
    ingest(&store, &tenant, &b, &["apple banana"]).await;
    ingest(&store, &tenant, &a_elsewhere, &["apple, three; four!"]).await;
    let row = |id: &str, chunks: i64, words: i64| (id.to_owned(), chunks, words);
    assert_eq!(
        stats_rows(&store).await,
        [row("vs_1", 3, 7), row("vs_2", 1, 3)]
    );
    assert_eq!(stats_rows(&store).await, recounted(&store).await);

    // Re-attaching file-a to vs_1 drops its chunks and their words from vs_1 only.
    store
        .attach_files(&tenant, std::slice::from_ref(&a), None)
        .await
        .unwrap();
    assert_eq!(
        stats_rows(&store).await,
        [row("vs_1", 1, 2), row("vs_2", 1, 3)]
    );
    ingest(&store, &tenant, &a, &["pear"]).await;
    assert_eq!(
        stats_rows(&store).await,
        [row("vs_1", 2, 3), row("vs_2", 1, 3)]
    );
    store
        .delete_vector_store_file(&tenant, "vs_1", "file-b")
        .await
        .unwrap();
    assert_eq!(
        stats_rows(&store).await,
        [row("vs_1", 1, 1), row("vs_2", 1, 3)]
    );
    store.delete_vector_store(&tenant, "vs_2").await.unwrap();
    assert_eq!(stats_rows(&store).await, [row("vs_1", 1, 1)]);
    assert_eq!(stats_rows(&store).await, recounted(&store).await);
}

#[tokio::test]
async fn chunks_written_before_the_statistics_get_them_when_the_database_opens() {
    let tenant = Tenant::from_api_key("k");
    let populate = populated_at_0011(&tenant);
    let populate: Vec<&str> = populate.iter().map(String::as_str).collect();
    let (_dir, store) = migrated_from(11, &populate).await;
    let row = |id: &str, chunks: i64, words: i64| (id.to_owned(), chunks, words);
    assert_eq!(
        stats_rows(&store).await,
        [row("vs_1", 3, 6), row("vs_2", 1, 2)]
    );
    let hits = store
        .term_matches(&tenant, &["vs_1".to_owned()], "apple")
        .await
        .unwrap();
    assert_eq!(hits.len(), 3);
    assert!(hits.iter().all(|hit| hit.tf == 1 && hit.words == 2));
}
