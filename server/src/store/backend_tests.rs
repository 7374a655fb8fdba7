//! Store behaviour every backend must share, written once and run against each:
//! in-memory SQLite always, PostgreSQL when one answers (a fresh schema per test).
//! Backend-specific checks live beside each backend.

use serde_json::json;

use crate::models::{
    Assistant, JsonMap, Message, Run, RunStatus, Thread, VectorStoreFileStatus, VectorStoreStatus,
};
use crate::store::{
    AssistantStore, MessageStore, Order, PageRequest, RunStore, StepStore, StoreError, Tenant,
    ThreadStore,
};
use crate::vector_stores::model::{FileCounts, VectorStore, VectorStoreFile};

/// The stores these tests exercise, as one object-safe bound.
pub(crate) trait CoreStore:
    AssistantStore + ThreadStore + MessageStore + RunStore + StepStore
{
}

impl<T: AssistantStore + ThreadStore + MessageStore + RunStore + StepStore> CoreStore for T {}

pub(crate) fn assistant(id: &str, created_at: i64) -> Assistant {
    Assistant {
        id: id.to_owned(),
        object: "assistant".into(),
        created_at,
        name: None,
        description: None,
        model: "gpt-4o".into(),
        instructions: None,
        tools: vec![],
        top_p: 1.0,
        temperature: 1.0,
        reasoning_effort: None,
        tool_resources: json!({}),
        metadata: JsonMap::new(),
        response_format: json!("auto"),
    }
}

/// Vector store `id` as the store tests write it.
pub(crate) fn vector_store(id: &str) -> VectorStore {
    VectorStore {
        id: id.to_owned(),
        object: "vector_store".to_owned(),
        created_at: 1,
        name: None,
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

/// File `file_id` just attached to store `store_id`, waiting to be ingested.
pub(crate) fn in_progress(store_id: &str, file_id: &str) -> VectorStoreFile {
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

fn thread(id: &str) -> Thread {
    Thread {
        id: id.to_owned(),
        object: "thread".into(),
        created_at: 100,
        metadata: JsonMap::new(),
        tool_resources: json!({}),
    }
}

fn message(id: &str, thread_id: &str) -> Message {
    Message {
        id: id.to_owned(),
        object: "thread.message".into(),
        created_at: 100,
        assistant_id: None,
        thread_id: thread_id.to_owned(),
        run_id: None,
        role: "user".into(),
        content: vec![],
        attachments: vec![],
        metadata: JsonMap::new(),
    }
}

fn page(limit: u32, order: Order, after: Option<&str>, before: Option<&str>) -> PageRequest {
    PageRequest {
        limit,
        order,
        after: after.map(str::to_owned),
        before: before.map(str::to_owned),
    }
}

fn ids(items: &[Assistant]) -> Vec<&str> {
    items.iter().map(|a| a.id.as_str()).collect()
}

fn run(id: &str, thread_id: &str, status: &str) -> Run {
    serde_json::from_value(json!({
        "id": id, "object": "thread.run", "created_at": 100, "assistant_id": "asst_1",
        "thread_id": thread_id, "status": status, "started_at": null, "expires_at": null,
        "cancelled_at": null, "failed_at": null, "completed_at": null,
        "required_action": null, "last_error": null, "model": "gpt-4o",
        "instructions": null, "tools": [], "tool_resources": {}, "metadata": {},
        "temperature": 1.0, "top_p": 1.0, "reasoning_effort": null,
        "max_completion_tokens": null, "max_prompt_tokens": null,
        "truncation_strategy": {"type": "auto", "last_messages": null},
        "incomplete_details": null, "usage": null, "response_format": "auto",
        "tool_choice": "auto", "parallel_tool_calls": true
    }))
    .expect("a valid run")
}

async fn pagination_follows_insertion_when_created_at_ties(store: &dyn CoreStore) {
    let tenant = Tenant::from_api_key("k");
    for (id, created_at) in [("a1", 5), ("a2", 5), ("a3", 5), ("a4", 6), ("a5", 6)] {
        store
            .insert_assistant(&tenant, &assistant(id, created_at))
            .await
            .unwrap();
    }
    let first = store
        .list_assistants(&tenant, &page(2, Order::Desc, None, None))
        .await
        .unwrap();
    assert_eq!(
        (ids(&first.items), first.has_more),
        (vec!["a5", "a4"], true)
    );
    let second = store
        .list_assistants(&tenant, &page(2, Order::Desc, Some("a4"), None))
        .await
        .unwrap();
    assert_eq!(
        (ids(&second.items), second.has_more),
        (vec!["a3", "a2"], true)
    );
    let last = store
        .list_assistants(&tenant, &page(2, Order::Desc, Some("a2"), None))
        .await
        .unwrap();
    assert_eq!((ids(&last.items), last.has_more), (vec!["a1"], false));

    let asc = store
        .list_assistants(&tenant, &page(3, Order::Asc, Some("a1"), None))
        .await
        .unwrap();
    assert_eq!(
        (ids(&asc.items), asc.has_more),
        (vec!["a2", "a3", "a4"], true)
    );
    let before = store
        .list_assistants(&tenant, &page(2, Order::Asc, None, Some("a4")))
        .await
        .unwrap();
    assert_eq!(
        (ids(&before.items), before.has_more),
        (vec!["a2", "a3"], true)
    );
    let between = store
        .list_assistants(&tenant, &page(10, Order::Desc, Some("a5"), Some("a2")))
        .await
        .unwrap();
    assert_eq!(
        (ids(&between.items), between.has_more),
        (vec!["a4", "a3"], false)
    );
}

async fn tenants_are_isolated_in_every_call(store: &dyn CoreStore) {
    let (owner, other) = (Tenant::from_api_key("owner"), Tenant::from_api_key("other"));
    store
        .insert_assistant(&owner, &assistant("a1", 1))
        .await
        .unwrap();
    store
        .insert_thread(&owner, &thread("t1"), &[message("m1", "t1")])
        .await
        .unwrap();

    assert!(matches!(
        store.get_assistant(&other, "a1").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.update_assistant(&other, &assistant("a1", 1)).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_assistant(&other, "a1").await,
        Err(StoreError::NotFound)
    ));
    assert!(store
        .list_assistants(&other, &PageRequest::default())
        .await
        .unwrap()
        .items
        .is_empty());
    assert!(matches!(
        store.get_thread(&other, "t1").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_thread(&other, "t1").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.get_message(&other, "t1", "m1").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.insert_message(&other, &message("m2", "t1")).await,
        Err(StoreError::NotFound)
    ));
    let others_view = store
        .list_messages(&other, "t1", None, &PageRequest::default())
        .await
        .unwrap();
    assert!(others_view.items.is_empty());

    assert_eq!(store.get_assistant(&owner, "a1").await.unwrap().id, "a1");
    assert_eq!(
        store
            .list_messages(&owner, "t1", None, &PageRequest::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
}

async fn a_failed_thread_write_leaves_nothing_behind(store: &dyn CoreStore) {
    let tenant = Tenant::from_api_key("k");
    let duplicate = [message("m1", "t1"), message("m1", "t1")];
    let result = store
        .insert_thread(&tenant, &thread("t1"), &duplicate)
        .await;
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
    assert!(matches!(
        store.get_thread(&tenant, "t1").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.get_message(&tenant, "t1", "m1").await,
        Err(StoreError::NotFound)
    ));
}

async fn deleting_a_thread_deletes_its_messages_only(store: &dyn CoreStore) {
    let tenant = Tenant::from_api_key("k");
    store
        .insert_thread(&tenant, &thread("t1"), &[message("m1", "t1")])
        .await
        .unwrap();
    store
        .insert_thread(&tenant, &thread("t2"), &[message("m2", "t2")])
        .await
        .unwrap();
    store.delete_thread(&tenant, "t1").await.unwrap();
    assert!(matches!(
        store.get_message(&tenant, "t1", "m1").await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store.get_message(&tenant, "t2", "m2").await.unwrap().id,
        "m2"
    );
    // Re-using the deleted thread's message id proves the row is gone, not hidden.
    store
        .insert_message(&tenant, &message("m1", "t2"))
        .await
        .unwrap();
}

async fn message_lists_filter_by_run(store: &dyn CoreStore) {
    let tenant = Tenant::from_api_key("k");
    let mut from_run = message("m2", "t1");
    from_run.run_id = Some("run_1".into());
    store
        .insert_thread(&tenant, &thread("t1"), &[message("m1", "t1"), from_run])
        .await
        .unwrap();
    let listed = store
        .list_messages(&tenant, "t1", Some("run_1"), &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(
        listed
            .items
            .iter()
            .map(|m| m.id.as_str())
            .collect::<Vec<_>>(),
        ["m2"]
    );
}

async fn one_active_run_per_thread_even_when_inserts_race(store: &dyn CoreStore) {
    let tenant = Tenant::from_api_key("k");
    store
        .insert_thread(&tenant, &thread("t1"), &[])
        .await
        .unwrap();
    let attempts: Vec<Run> = (0..8)
        .map(|i| run(&format!("run_{i}"), "t1", "queued"))
        .collect();
    let results =
        futures::future::join_all(attempts.iter().map(|r| store.insert_run(&tenant, r, &[]))).await;
    let won: Vec<usize> = (0..results.len()).filter(|i| results[*i].is_ok()).collect();
    assert_eq!(won.len(), 1, "{results:?}");
    let winner = format!("run_{}", won[0]);
    for result in &results {
        if let Err(error) = result {
            assert!(
                matches!(error, StoreError::ActiveRun(id) if *id == winner),
                "{error:?}"
            );
        }
    }
    // Once the winner ends, the thread takes a new run.
    let mut ended = run(&winner, "t1", "completed");
    ended.completed_at = Some(101);
    assert!(store
        .update_run_if(&tenant, &ended, RunStatus::Queued)
        .await
        .unwrap());
    store
        .insert_run(&tenant, &run("run_next", "t1", "queued"), &[])
        .await
        .unwrap();
}

async fn runs_and_steps_need_their_parents(store: &dyn CoreStore) {
    let tenant = Tenant::from_api_key("k");
    assert!(matches!(
        store
            .insert_run(&tenant, &run("run_1", "t_missing", "queued"), &[])
            .await,
        Err(StoreError::NotFound)
    ));
    store
        .insert_thread(&tenant, &thread("t1"), &[])
        .await
        .unwrap();
    let other = Tenant::from_api_key("other");
    assert!(matches!(
        store
            .insert_run(&other, &run("run_1", "t1", "queued"), &[])
            .await,
        Err(StoreError::NotFound)
    ));
    store
        .insert_run(
            &tenant,
            &run("run_1", "t1", "queued"),
            &[message("m1", "t1")],
        )
        .await
        .unwrap();
    assert_eq!(
        store.active_run(&tenant, "t1").await.unwrap().as_deref(),
        Some("run_1")
    );
    assert_eq!(store.start_attempt(&tenant, "run_1").await.unwrap(), 1);
    assert_eq!(store.start_attempt(&tenant, "run_1").await.unwrap(), 2);
    let unfinished = store.unfinished_runs().await.unwrap();
    assert_eq!(unfinished.len(), 1);
    assert_eq!(
        (unfinished[0].run.id.as_str(), unfinished[0].attempts),
        ("run_1", 2)
    );
    store.clear_attempts(&tenant, "run_1").await.unwrap();
    assert!(matches!(
        store.start_attempt(&other, "run_1").await,
        Err(StoreError::NotFound)
    ));
    // Deleting the thread takes its runs and messages with it.
    store.delete_thread(&tenant, "t1").await.unwrap();
    assert!(store.unfinished_runs().await.unwrap().is_empty());
    assert!(matches!(
        store.get_run(&tenant, "t1", "run_1").await,
        Err(StoreError::NotFound)
    ));
}

/// One `#[tokio::test]` per backend for each shared test above.
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let store = crate::store::sqlite::SqliteStore::connect("sqlite::memory:")
                        .await
                        .unwrap();
                    super::$name(&store).await;
                }
            )*
        }

        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    if let Some(store) = crate::store::postgres::test_store().await {
                        super::$name(&*store).await;
                    }
                }
            )*
        }
    };
}

on_every_backend!(
    pagination_follows_insertion_when_created_at_ties,
    tenants_are_isolated_in_every_call,
    a_failed_thread_write_leaves_nothing_behind,
    deleting_a_thread_deletes_its_messages_only,
    message_lists_filter_by_run,
    one_active_run_per_thread_even_when_inserts_race,
    runs_and_steps_need_their_parents,
);
