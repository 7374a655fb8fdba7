//! The migration copies every core object with its order, refuses a non-empty target
//! and leaves the target's sequences past the copied rows.

use serde_json::json;

use super::sqlite_to_postgres;
use crate::models::{JsonMap, Message, Thread, VectorStoreFileStatus, VectorStoreStatus};
use crate::store::backend_tests::assistant;
use crate::store::sqlite::SqliteStore;
use crate::store::vector_stores::{ChunkScope, ChunkVectors, IngestedFile, SimilarityQuery};
use crate::store::{
    AssistantStore, MessageStore, Order, PageRequest, StoreError, Tenant, ThreadStore,
    VectorStoreStore,
};
use crate::vector_stores::model::{FileCounts, VectorStore, VectorStoreFile};

fn thread(id: &str) -> Thread {
    Thread {
        id: id.to_owned(),
        object: "thread".into(),
        created_at: 7,
        metadata: JsonMap::new(),
        tool_resources: json!({}),
    }
}

fn message(id: &str, thread_id: &str) -> Message {
    serde_json::from_value(json!({
        "id": id, "object": "thread.message", "created_at": 7, "assistant_id": null,
        "thread_id": thread_id, "run_id": null, "role": "user",
        "content": [{"type": "text", "text": {"value": format!("hello {id}"), "annotations": []}}],
        "attachments": [], "metadata": {"k": "v"}
    }))
    .expect("a valid message")
}

fn all_asc() -> PageRequest {
    PageRequest {
        limit: 100,
        order: Order::Asc,
        after: None,
        before: None,
    }
}

#[tokio::test]
async fn copies_objects_in_order_and_verifies_counts() {
    let Some(target) = crate::store::postgres::test_store().await else {
        return;
    };
    let source = SqliteStore::connect("sqlite::memory:").await.unwrap();
    let (a, b) = (Tenant::from_api_key("a"), Tenant::from_api_key("b"));
    // Same created_at everywhere: only the insertion order tells them apart.
    for id in ["asst_3", "asst_1", "asst_2"] {
        source
            .insert_assistant(&a, &assistant(id, 5))
            .await
            .unwrap();
    }
    source
        .insert_assistant(&b, &assistant("asst_b", 5))
        .await
        .unwrap();
    let messages: Vec<Message> = ["msg_2", "msg_1"]
        .iter()
        .map(|id| message(id, "thread_1"))
        .collect();
    source
        .insert_thread(&a, &thread("thread_1"), &messages)
        .await
        .unwrap();

    let report = sqlite_to_postgres(&source, &target).await.unwrap();
    assert!(report.verified(), "{}", report.render());
    let counted: Vec<(&str, u64)> = report
        .tables
        .iter()
        .map(|(name, _, to)| (name.as_str(), *to))
        .filter(|(_, to)| *to > 0)
        .collect();
    assert_eq!(
        counted,
        [("assistants", 4), ("threads", 1), ("messages", 2)]
    );

    let listed = target.list_assistants(&a, &all_asc()).await.unwrap();
    let ids: Vec<&str> = listed.items.iter().map(|x| x.id.as_str()).collect();
    assert_eq!(ids, ["asst_3", "asst_1", "asst_2"]);
    assert_eq!(
        target.get_assistant(&a, "asst_1").await.unwrap(),
        source.get_assistant(&a, "asst_1").await.unwrap()
    );
    assert!(matches!(
        target.get_assistant(&b, "asst_1").await,
        Err(StoreError::NotFound)
    ));
    let copied = target
        .list_messages(&a, "thread_1", None, &all_asc())
        .await
        .unwrap();
    assert_eq!(copied.items, messages);

    // New objects sort after the copied ones.
    target
        .insert_assistant(&a, &assistant("asst_0", 5))
        .await
        .unwrap();
    let listed = target.list_assistants(&a, &all_asc()).await.unwrap();
    assert_eq!(listed.items.last().map(|x| x.id.as_str()), Some("asst_0"));

    // A second migration into the now non-empty target is refused, changing nothing.
    let again = sqlite_to_postgres(&source, &target).await;
    assert!(
        matches!(&again, Err(StoreError::Conflict(m)) if m.contains("already holds assistants")),
        "{again:?}"
    );
    assert_eq!(
        target
            .list_assistants(&a, &all_asc())
            .await
            .unwrap()
            .items
            .len(),
        4
    );
}

fn vector_store(id: &str) -> VectorStore {
    VectorStore {
        id: id.to_owned(),
        object: "vector_store".to_owned(),
        created_at: 1,
        name: Some("docs".to_owned()),
        description: None,
        usage_bytes: 0,
        file_counts: FileCounts::default(),
        status: VectorStoreStatus::Completed,
        expires_after: None,
        expires_at: None,
        last_active_at: 1,
        metadata: Default::default(),
    }
}

fn attached(store_id: &str, file_id: &str) -> VectorStoreFile {
    VectorStoreFile {
        id: file_id.to_owned(),
        object: "vector_store.file".to_owned(),
        usage_bytes: 0,
        created_at: 1,
        vector_store_id: store_id.to_owned(),
        status: VectorStoreFileStatus::InProgress,
        last_error: None,
        chunking_strategy: json!({"type": "auto"}),
        attributes: Default::default(),
    }
}

/// A unit vector that differs per text, so similarity ranks differ too.
fn vector_of(text: &str) -> Vec<f32> {
    let raw = [
        text.len() as f32,
        text.matches('e').count() as f32 + 1.0,
        1.0,
    ];
    let norm = raw.iter().map(|x| x * x).sum::<f32>().sqrt();
    raw.iter().map(|x| x / norm).collect()
}

#[tokio::test]
async fn vector_stores_cross_with_chunks_vectors_and_identical_search_statistics() {
    let Some(target) = crate::store::postgres::test_store().await else {
        return;
    };
    let source = SqliteStore::connect("sqlite::memory:").await.unwrap();
    let tenant = Tenant::from_api_key("a");
    let files = [
        (
            "file-1",
            vec![
                "The river freezes in winter",
                "Boats wait for the spring thaw",
            ],
        ),
        (
            "file-2",
            vec!["Winter tyres help on frozen roads", "rivers and roads"],
        ),
    ];
    let all_files: Vec<VectorStoreFile> = ["file-1", "file-2", "file-3"]
        .iter()
        .map(|id| attached("vs_1", id))
        .collect();
    source
        .insert_vector_store_embedded(&tenant, &vector_store("vs_1"), &all_files, Some("embed-3"))
        .await
        .unwrap();
    for (id, chunks) in &files {
        let mut done = attached("vs_1", id);
        done.status = VectorStoreFileStatus::Completed;
        done.usage_bytes = 40;
        let ingested = IngestedFile {
            file: done,
            text: Some(chunks.join("\n")),
            chunks: chunks.iter().map(|c| (*c).to_owned()).collect(),
        };
        let vectors = ChunkVectors {
            model: "embed-3".to_owned(),
            vectors: chunks.iter().map(|c| vector_of(c)).collect(),
        };
        assert!(source
            .finish_ingestion_with_vectors(&tenant, &ingested, Some(&vectors))
            .await
            .unwrap());
    }

    let report = sqlite_to_postgres(&source, &target).await.unwrap();
    assert!(report.verified(), "{}", report.render());
    let count = |name: &str| report.tables.iter().find(|t| t.0 == name).map(|t| t.2);
    assert_eq!(count("vector_stores"), Some(1));
    assert_eq!(count("vector_store_files"), Some(3));
    assert_eq!(count("vector_store_chunks"), Some(4));
    assert_eq!(count("vector_store_embeddings"), Some(4));
    let dimensions: Option<i32> =
        sqlx::query_scalar("SELECT embedding_dimensions FROM vector_stores WHERE id = 'vs_1'")
            .fetch_one(target.pool())
            .await
            .unwrap();
    assert_eq!(
        dimensions,
        Some(3),
        "the recorded vector dimension crosses too"
    );

    assert_eq!(
        target.get_vector_store(&tenant, "vs_1", 10).await.unwrap(),
        source.get_vector_store(&tenant, "vs_1", 10).await.unwrap()
    );
    let ids = ["vs_1".to_owned()];
    assert_eq!(
        target.keyword_stats(&tenant, &ids).await.unwrap(),
        source.keyword_stats(&tenant, &ids).await.unwrap()
    );
    for word in ["winter", "rivers", "roads", "thaw", "absent"] {
        let shape = |matches: Vec<crate::store::vector_stores::TermMatch>| {
            let mut rows: Vec<(String, u32, u32)> = matches
                .into_iter()
                .map(|m| (m.file_id, m.tf, m.words))
                .collect();
            rows.sort();
            rows
        };
        assert_eq!(
            shape(target.term_matches(&tenant, &ids, word).await.unwrap()),
            shape(source.term_matches(&tenant, &ids, word).await.unwrap()),
            "{word}"
        );
    }
    assert_eq!(
        target
            .vector_store_file_text(&tenant, "vs_1", "file-2")
            .await
            .unwrap(),
        Some("Winter tyres help on frozen roads\nrivers and roads".to_owned())
    );
    let query = vec![vector_of("Boats wait for the spring thaw")];
    let similarity = SimilarityQuery {
        model: "embed-3",
        vectors: &query,
        limit: 4,
        also: &[],
    };
    let scope = ChunkScope {
        vector_store_ids: &ids,
        files: None,
    };
    let ranked = |chunks: Vec<crate::vector_stores::model::SimilarChunk>| {
        chunks
            .into_iter()
            .map(|c| (c.file_id, c.text))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ranked(
            target
                .similar_chunks(&tenant, &scope, &similarity)
                .await
                .unwrap()
        ),
        ranked(
            source
                .similar_chunks(&tenant, &scope, &similarity)
                .await
                .unwrap()
        )
    );
}
