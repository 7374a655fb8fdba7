//! The `tool_resources.file_search.vector_stores` helper of assistants and threads:
//! each entry (`file_ids`, optional `chunking_strategy` and `metadata`) becomes a new
//! vector store whose files are ingested in the background, and its id joins
//! `vector_store_ids`, as OpenAI did. Message attachments with file_search go into the
//! thread's own store the same way. What the resources and attachments name must
//! exist for the tenant: dangling or foreign ids are refused, never stored.

use serde_json::{json, Value};

use crate::api_error::ApiError;
use crate::ids::unix_now;
use crate::models::{JsonMap, Message, Thread, VectorStoreStatus};

/// The attachments of `messages`, for [`store_searchable_attachments`].
pub fn attachments_of(messages: &[Message]) -> Vec<Value> {
    messages
        .iter()
        .flat_map(|message| message.attachments.iter().cloned())
        .collect()
}
use crate::routes::embedding_model::{model_for_new_store, EmbeddingModelHeader};
use crate::routes::vector_store_files::{check_file_id, check_file_ids, new_attachment};
use crate::routes::vector_stores::load_vector_store;
use crate::state::AppState;
use crate::store::{StoreError, Tenant};
use crate::validation::{Field, Fields};
use crate::vector_stores::chunking::{parse_chunking, Chunking};
use crate::vector_stores::ids::new_vector_store_id;
use crate::vector_stores::model::{FileCounts, VectorStore};

/// Most files one helper store may be created with (OpenAI's limit).
const MAX_HELPER_FILES: usize = 10_000;

/// Checks that what `resources` names exists for this tenant: every
/// `file_search.vector_store_ids` entry (404 `No vector store found`, as for a GET) and
/// every `code_interpreter.file_ids` entry (a live file, 400 `No file found`). Another
/// tenant's ids are as unknown as made-up ones.
pub async fn check_references(
    state: &AppState,
    tenant: &Tenant,
    resources: &JsonMap,
) -> Result<(), ApiError> {
    let ids = |tool: &str, key: &str| -> Vec<String> {
        resources
            .get(tool)
            .and_then(|entry| entry.get(key))
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    for id in ids("file_search", "vector_store_ids") {
        load_vector_store(state, tenant, &id).await?;
    }
    let param = "tool_resources.code_interpreter.file_ids";
    for (index, id) in ids("code_interpreter", "file_ids").iter().enumerate() {
        check_file_id(state, tenant, id, &format!("{param}[{index}]")).await?;
    }
    Ok(())
}

/// Checks that every attachment of a message names a live file of this tenant
/// (400 `No file found`, param `{prefix}attachments[i].file_id`).
pub async fn check_attachment_files(
    state: &AppState,
    tenant: &Tenant,
    attachments: &[Value],
    prefix: &str,
) -> Result<(), ApiError> {
    for (index, attachment) in attachments.iter().enumerate() {
        if let Some(id) = attachment["file_id"].as_str() {
            let param = format!("{prefix}attachments[{index}].file_id");
            check_file_id(state, tenant, id, &param).await?;
        }
    }
    Ok(())
}

/// [`check_attachment_files`] for several messages, given under `param`
/// (`messages`, `additional_messages`...).
pub async fn check_messages_attachments(
    state: &AppState,
    tenant: &Tenant,
    messages: &[&[Value]],
    param: &str,
) -> Result<(), ApiError> {
    for (index, attachments) in messages.iter().enumerate() {
        let prefix = format!("{param}[{index}].");
        check_attachment_files(state, tenant, attachments, &prefix).await?;
    }
    Ok(())
}

/// Creates the stores `resources.file_search.vector_stores` asks for and replaces that
/// key by their ids in `vector_store_ids`; resources without it are left as they are.
/// What the resources name must exist first ([`check_references`]).
pub async fn create_requested_stores(
    state: &AppState,
    tenant: &Tenant,
    resources: &mut JsonMap,
    requested_model: &EmbeddingModelHeader,
) -> Result<(), ApiError> {
    check_references(state, tenant, resources).await?;
    let Some(search) = resources
        .get_mut("file_search")
        .and_then(Value::as_object_mut)
    else {
        return Ok(());
    };
    let Some(Value::Array(requested)) = search.remove("vector_stores") else {
        return Ok(());
    };
    let mut ids: Vec<Value> = search
        .get("vector_store_ids")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for (index, entry) in requested.iter().enumerate() {
        let prefix = format!("tool_resources.file_search.vector_stores[{index}].");
        let Value::Object(map) = entry else {
            return Err(ApiError::invalid_type(
                prefix.trim_end_matches('.'),
                "an object",
                crate::validation::json_type_name(entry),
            ));
        };
        ids.push(json!(
            create_store(state, tenant, map, &prefix, requested_model).await?
        ));
    }
    search.insert("vector_store_ids".into(), Value::Array(ids));
    Ok(())
}

/// The same for a resources value that may not be an object.
pub async fn create_requested_stores_in(
    state: &AppState,
    tenant: &Tenant,
    resources: &mut Value,
    requested_model: &EmbeddingModelHeader,
) -> Result<(), ApiError> {
    match resources.as_object_mut() {
        Some(map) => create_requested_stores(state, tenant, map, requested_model).await,
        None => Ok(()),
    }
}

async fn create_store(
    state: &AppState,
    tenant: &Tenant,
    map: &JsonMap,
    prefix: &str,
    requested_model: &EmbeddingModelHeader,
) -> Result<String, ApiError> {
    let fields = Fields::new(map, prefix);
    fields.only(&["file_ids", "chunking_strategy", "metadata"])?;
    let file_ids = match fields.array("file_ids", MAX_HELPER_FILES)? {
        Field::Set(items) => {
            check_file_ids(state, tenant, items, &format!("{prefix}file_ids")).await?
        }
        _ => Vec::new(),
    };
    let chunking = parse_chunking(fields.value("chunking_strategy"))?;
    let now = unix_now();
    let store = VectorStore {
        id: new_vector_store_id(),
        object: "vector_store".to_owned(),
        created_at: now,
        name: None,
        description: None,
        usage_bytes: 0,
        file_counts: FileCounts::default(),
        status: VectorStoreStatus::Completed,
        expires_after: None,
        expires_at: None,
        last_active_at: now,
        metadata: fields.metadata()?.set().unwrap_or_default(),
    };
    let files: Vec<_> = file_ids
        .iter()
        .map(|id| new_attachment(&store.id, id, chunking, JsonMap::new(), now))
        .collect();
    let embedding_model = model_for_new_store(state, requested_model)?;
    state
        .store
        .insert_vector_store_embedded(tenant, &store, &files, embedding_model.as_deref())
        .await?;
    state
        .ingest
        .enqueue_with(tenant, files, requested_model.access())
        .await;
    Ok(store.id)
}

/// Files of `attachments` (of new messages) with the file_search tool go into the thread's vector
/// store: its first `vector_store_ids` entry, or a new store added to its
/// `tool_resources` (as OpenAI did); files gone meanwhile are left out. True when
/// `thread` changed and must be saved.
pub async fn store_searchable_attachments(
    state: &AppState,
    tenant: &Tenant,
    thread: &mut Thread,
    attachments: &[Value],
    requested_model: &EmbeddingModelHeader,
) -> Result<bool, ApiError> {
    let mut file_ids: Vec<String> = Vec::new();
    let searchable = attachments.iter().filter(|attachment| {
        attachment["tools"]
            .as_array()
            .is_some_and(|tools| tools.iter().any(|t| t["type"] == "file_search"))
    });
    for file_id in searchable.filter_map(|attachment| attachment["file_id"].as_str()) {
        // Callers refused unknown attachments already; a file deleted or expired since
        // cannot be searched, so it is left out of the store.
        let live = match state.store.get_file(tenant, file_id).await {
            Ok(file) => file.expires_at.is_none_or(|at| at > unix_now()),
            Err(StoreError::NotFound) => false,
            Err(other) => return Err(other.into()),
        };
        if live && !file_ids.iter().any(|known| known == file_id) {
            file_ids.push(file_id.to_owned());
        }
    }
    if file_ids.is_empty() {
        return Ok(false);
    }
    let existing = thread.tool_resources["file_search"]["vector_store_ids"][0]
        .as_str()
        .map(str::to_owned);
    let now = unix_now();
    if let Some(store_id) = existing {
        let files: Vec<_> = file_ids
            .iter()
            .map(|id| new_attachment(&store_id, id, Chunking::default(), JsonMap::new(), now))
            .collect();
        state.store.attach_files(tenant, &files, None).await?;
        state
            .ingest
            .enqueue_with(tenant, files, requested_model.access())
            .await;
        return Ok(false);
    }
    let ids: Vec<Value> = file_ids.into_iter().map(Value::String).collect();
    let request = json!({"file_ids": ids});
    let store_id = create_store(
        state,
        tenant,
        request.as_object().expect("an object"),
        "attachments.",
        requested_model,
    )
    .await?;
    if !thread.tool_resources.is_object() {
        thread.tool_resources = json!({});
    }
    thread.tool_resources["file_search"] = json!({"vector_store_ids": [store_id]});
    Ok(true)
}
