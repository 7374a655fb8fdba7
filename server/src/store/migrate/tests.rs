//! The migration copies every core object with its order, refuses a non-empty target
//! and leaves the target's sequences past the copied rows.

use serde_json::json;

use super::sqlite_to_postgres;
use crate::models::{JsonMap, Message, Thread};
use crate::store::backend_tests::assistant;
use crate::store::sqlite::SqliteStore;
use crate::store::{
    AssistantStore, MessageStore, Order, PageRequest, StoreError, Tenant, ThreadStore,
};

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
