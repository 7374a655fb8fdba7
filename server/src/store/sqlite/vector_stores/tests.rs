//! Chunk storage on real SQLite: which chunks (and vectors) attaching, detaching and
//! deleting drop, the query plans that keep those drops proportional to the file, the
//! chunks a search makes FTS5 rank, and migrations applied to a database populated
//! under the previous schema.

use sqlx::sqlite::SqlitePoolOptions;

use super::super::SqliteStore;
use super::chunks::{drop_statements, match_expression, scope_token};
use crate::models::VectorStoreFileStatus;
pub(super) use crate::store::backend_tests::{in_progress, vector_store};
use crate::store::vector_stores::{ChunkScope, ChunkVectors, IngestedFile, VectorStoreStore};
use crate::store::Tenant;
use crate::vector_stores::model::VectorStoreFile;
use crate::vector_stores::search::keyword_hits;

/// Completes `file` with `chunks` and one vector per chunk.
pub(super) async fn ingest(
    store: &SqliteStore,
    tenant: &Tenant,
    file: &VectorStoreFile,
    chunks: &[&str],
) {
    let mut done = file.clone();
    done.status = VectorStoreFileStatus::Completed;
    let ingested = IngestedFile {
        file: done,
        text: Some(chunks.join(" ")),
        chunks: chunks.iter().map(|c| (*c).to_owned()).collect(),
    };
    let vectors = ChunkVectors {
        model: "m".to_owned(),
        vectors: chunks.iter().map(|_| vec![1.0, 0.0]).collect(),
    };
    assert!(store
        .finish_ingestion_with_vectors(tenant, &ingested, Some(&vectors))
        .await
        .unwrap());
}

/// The files (`store file`) whose chunks match `word` in `stores`.
pub(super) async fn files_matching(
    store: &SqliteStore,
    tenant: &Tenant,
    stores: &[&str],
    word: &str,
) -> Vec<String> {
    let ids: Vec<String> = stores.iter().map(|s| (*s).to_owned()).collect();
    let scope = ChunkScope {
        vector_store_ids: &ids,
        files: None,
    };
    let mut found: Vec<String> = keyword_hits(store, tenant, &scope, &[word.to_owned()], 50)
        .await
        .unwrap()
        .into_iter()
        .map(|hit| format!("{} {}", hit.vector_store_id, hit.file_id))
        .collect();
    found.sort();
    found.dedup();
    found
}

/// Rows of `table` (chunks, owners, vectors) left in the database.
async fn rows(store: &SqliteStore, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&store.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn dropping_chunks_reaches_them_through_indexes_never_by_scanning() {
    // FTS5 can only look rows up by `rowid` (or by MATCH): a condition on its
    // UNINDEXED columns is checked on every row, which at 100k chunks cost ~215 ms per
    // attached file under the write lock.
    let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
    for by_file in [true, false] {
        for statement in drop_statements(by_file) {
            let explain = format!("EXPLAIN QUERY PLAN {statement}");
            let mut query = sqlx::query_as::<_, (i64, i64, i64, String)>(&explain)
                .bind("tenant")
                .bind("vs_1");
            if by_file {
                query = query.bind("file-1");
            }
            let plan: Vec<String> = query
                .fetch_all(&store.pool)
                .await
                .unwrap()
                .into_iter()
                .map(|(_, _, _, detail)| detail)
                .collect();
            for step in &plan {
                let full_scan = match step.split_once(" VIRTUAL TABLE INDEX ") {
                    // FTS5's index string is empty for a full scan ("INDEX 0:").
                    Some((_, index)) => index.split_once(':').is_none_or(|(_, s)| s.is_empty()),
                    None => step.starts_with("SCAN "),
                };
                assert!(!full_scan, "{statement}\n{plan:#?}");
            }
        }
    }
}

#[tokio::test]
async fn reattaching_detaching_and_deleting_drop_exactly_their_chunks_and_vectors() {
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
    ingest(&store, &tenant, &a, &["apple one", "apple two"]).await;
    ingest(&store, &tenant, &b, &["apple banana"]).await;
    ingest(&store, &tenant, &a_elsewhere, &["apple three"]).await;
    let both = ["vs_1", "vs_2"];
    assert_eq!(
        files_matching(&store, &tenant, &both, "apple").await,
        ["vs_1 file-a", "vs_1 file-b", "vs_2 file-a"]
    );
    for table in ["vector_store_chunks", "vector_store_chunk_owners"] {
        assert_eq!(rows(&store, table).await, 4, "{table}");
    }

    // Re-attaching file-a to vs_1 drops its two chunks there, nothing else.
    store
        .attach_files(&tenant, std::slice::from_ref(&a), None)
        .await
        .unwrap();
    assert_eq!(
        files_matching(&store, &tenant, &both, "apple").await,
        ["vs_1 file-b", "vs_2 file-a"]
    );
    for table in [
        "vector_store_chunks",
        "vector_store_chunk_owners",
        "vector_store_embeddings",
    ] {
        assert_eq!(rows(&store, table).await, 2, "{table}");
    }

    // Detaching file-b, then deleting vs_2, leave nothing behind.
    store
        .delete_vector_store_file(&tenant, "vs_1", "file-b")
        .await
        .unwrap();
    assert_eq!(
        files_matching(&store, &tenant, &both, "apple").await,
        ["vs_2 file-a"]
    );
    store.delete_vector_store(&tenant, "vs_2").await.unwrap();
    for table in [
        "vector_store_chunks",
        "vector_store_chunk_owners",
        "vector_store_embeddings",
    ] {
        assert_eq!(rows(&store, table).await, 0, "{table}");
    }
}

/// A database file migrated up to `version` (included) and populated by `populate`,
/// then opened by [`SqliteStore::connect`], which applies the later migrations.
pub(super) async fn migrated_from(
    version: i64,
    populate: &[&str],
) -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("old.db").display());
    let mut older = sqlx::migrate!("./migrations/sqlite");
    older.migrations = older
        .migrations
        .iter()
        .filter(|m| m.version <= version)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    {
        let options = url
            .parse::<sqlx::sqlite::SqliteConnectOptions>()
            .unwrap()
            .create_if_missing(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .unwrap();
        older.run(&pool).await.unwrap();
        for statement in populate {
            sqlx::query(statement).execute(&pool).await.unwrap();
        }
        pool.close().await;
    }
    let store = SqliteStore::connect(&url).await.unwrap();
    (dir, store)
}

/// Two stores of one tenant as migration 0011 left them: vs_1 holds file-a (two
/// chunks, with vectors) and file-b, vs_2 holds file-a.
pub(super) fn populated_at_0011(tenant: &Tenant) -> Vec<String> {
    let t = tenant.as_str();
    let mut statements = vec![
        format!("INSERT INTO vector_stores (id, tenant, data) VALUES ('vs_1', '{t}', '{{}}'), ('vs_2', '{t}', '{{}}')"),
        format!(
            "INSERT INTO vector_store_files (id, tenant, vector_store_id, status, data) VALUES \
             ('file-a', '{t}', 'vs_1', 'completed', '{{}}'), ('file-b', '{t}', 'vs_1', 'completed', '{{}}'), \
             ('file-a', '{t}', 'vs_2', 'completed', '{{}}')"
        ),
    ];
    for (rowid, store, file, text) in [
        (1, "vs_1", "file-a", "apple one"),
        (2, "vs_1", "file-a", "apple two"),
        (3, "vs_1", "file-b", "apple banana"),
        (4, "vs_2", "file-a", "apple three"),
    ] {
        statements.push(format!(
            "INSERT INTO vector_store_chunks (rowid, text, tenant, vector_store_id, file_id, position) \
             VALUES ({rowid}, '{text}', '{t}', '{store}', '{file}', 0)"
        ));
    }
    statements.push(format!(
        "INSERT INTO vector_store_embeddings (chunk_id, tenant, vector_store_id, file_id, model, vector) \
         VALUES (1, '{t}', 'vs_1', 'file-a', 'm', x'0000803f'), (2, '{t}', 'vs_1', 'file-a', 'm', x'0000803f')"
    ));
    statements
}

#[tokio::test]
async fn chunks_written_before_their_owners_table_are_dropped_by_file_after_it() {
    let tenant = Tenant::from_api_key("k");
    let populate = populated_at_0011(&tenant);
    let populate: Vec<&str> = populate.iter().map(String::as_str).collect();
    let (_dir, store) = migrated_from(11, &populate).await;
    assert_eq!(rows(&store, "vector_store_chunk_owners").await, 4);
    store
        .attach_files(&tenant, &[in_progress("vs_1", "file-a")], None)
        .await
        .unwrap();
    assert_eq!(
        files_matching(&store, &tenant, &["vs_1", "vs_2"], "apple").await,
        ["vs_1 file-b", "vs_2 file-a"]
    );
    assert_eq!(rows(&store, "vector_store_chunks").await, 2);
    assert_eq!(rows(&store, "vector_store_chunk_owners").await, 2);
    assert_eq!(rows(&store, "vector_store_embeddings").await, 0);
}

#[tokio::test]
async fn fts5_ranks_only_the_chunks_of_the_stores_searched() {
    // What the MATCH returns is what FTS5 ranks before the UNINDEXED tenant and store
    // columns are checked: a question's common words used to match every chunk of
    // every store and tenant, so a search of a small store cost as much as the whole
    // database (457 ms for 1,133 chunks at 100k; see server/benches/README.md).
    let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
    let (tenant, other) = (Tenant::from_api_key("k"), Tenant::from_api_key("other"));
    let small = in_progress("vs_small", "file-s");
    let (big, big_other_tenant) = (
        in_progress("vs_big", "file-b"),
        in_progress("vs_x", "file-x"),
    );
    store
        .insert_vector_store(
            &tenant,
            &vector_store("vs_small"),
            std::slice::from_ref(&small),
        )
        .await
        .unwrap();
    store
        .insert_vector_store(&tenant, &vector_store("vs_big"), std::slice::from_ref(&big))
        .await
        .unwrap();
    store
        .insert_vector_store(
            &other,
            &vector_store("vs_x"),
            std::slice::from_ref(&big_other_tenant),
        )
        .await
        .unwrap();
    ingest(
        &store,
        &tenant,
        &small,
        &["what is the apple", "the pear is ripe"],
    )
    .await;
    let many: Vec<String> = (0..30)
        .map(|n| format!("what is the plum number {n}"))
        .collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    ingest(&store, &tenant, &big, &many).await;
    ingest(&store, &other, &big_other_tenant, &many).await;

    let question = "\"what\" OR \"is\" OR \"the\"";
    let matched = |stores: &[&str]| {
        let ids: Vec<String> = stores.iter().map(|s| (*s).to_owned()).collect();
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM vector_store_chunks WHERE vector_store_chunks MATCH ?",
        )
        .bind(match_expression(&ids, question))
        .fetch_one(&store.pool)
    };
    assert_eq!(matched(&["vs_small"]).await.unwrap(), 2);
    assert_eq!(matched(&["vs_small", "vs_big"]).await.unwrap(), 32);
    // A question made only of common words still answers from the store searched.
    assert_eq!(
        files_matching(&store, &tenant, &["vs_small"], "is").await,
        ["vs_small file-s"]
    );
    // Store ids never match as words, nor words as store ids.
    assert!(
        files_matching(&store, &tenant, &["vs_small"], &scope_token("vs_small"))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn chunks_written_before_the_scope_column_are_searched_by_store_after_it() {
    let tenant = Tenant::from_api_key("k");
    let populate = populated_at_0011(&tenant);
    let populate: Vec<&str> = populate.iter().map(String::as_str).collect();
    let (_dir, store) = migrated_from(11, &populate).await;
    let scope: String = sqlx::query_scalar("SELECT scope FROM vector_store_chunks WHERE rowid = 4")
        .fetch_one(&store.pool)
        .await
        .unwrap();
    assert_eq!(scope, scope_token("vs_2"));
    assert_eq!(
        files_matching(&store, &tenant, &["vs_1"], "apple").await,
        ["vs_1 file-a", "vs_1 file-b"]
    );
    assert_eq!(
        files_matching(&store, &tenant, &["vs_2"], "apple").await,
        ["vs_2 file-a"]
    );
    // Row ids survived the rebuild: the vectors still belong to file-a's chunks.
    let vectors_of_file_a: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM vector_store_embeddings e JOIN vector_store_chunks c \
         ON c.rowid = e.chunk_id WHERE c.vector_store_id = 'vs_1' AND c.file_id = 'file-a'",
    )
    .fetch_one(&store.pool)
    .await
    .unwrap();
    assert_eq!(vectors_of_file_a, 2);
    // New chunks get the same token as migrated ones.
    let file_c = in_progress("vs_2", "file-c");
    store
        .attach_files(&tenant, std::slice::from_ref(&file_c), None)
        .await
        .unwrap();
    ingest(&store, &tenant, &file_c, &["apple four"]).await;
    assert_eq!(
        files_matching(&store, &tenant, &["vs_2"], "apple").await,
        ["vs_2 file-a", "vs_2 file-c"]
    );
}

#[tokio::test]
async fn a_questions_function_words_rank_chunks_only_when_nothing_else_matches() {
    // "what", "is", "the" match every chunk: searching with them made FTS5 rank the
    // whole store for any question (380 ms for the 50k-chunk store of the bench).
    let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
    let tenant = Tenant::from_api_key("k");
    let file = in_progress("vs_1", "file-1");
    store
        .insert_vector_store(&tenant, &vector_store("vs_1"), std::slice::from_ref(&file))
        .await
        .unwrap();
    let mut chunks: Vec<String> = (0..30).map(|n| format!("what is the plum {n}")).collect();
    chunks.push("the apple is red".to_owned());
    let chunks: Vec<&str> = chunks.iter().map(String::as_str).collect();
    ingest(&store, &tenant, &file, &chunks).await;
    let ids = ["vs_1".to_owned()];
    let scope = ChunkScope {
        vector_store_ids: &ids,
        files: None,
    };
    let hits = |question: &str| {
        let queries = [question.to_owned()];
        let scope = scope.clone();
        let store = store.clone();
        let tenant = tenant.clone();
        async move {
            keyword_hits(&store, &tenant, &scope, &queries, 50)
                .await
                .unwrap()
                .into_iter()
                .map(|hit| hit.text)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(hits("What is the apple?").await, ["the apple is red"]);
    // Only function words, or nothing else matching: the function words answer.
    assert_eq!(hits("What is the?").await.len(), 31);
    assert_eq!(hits("What is the zebra?").await.len(), 31);
}
