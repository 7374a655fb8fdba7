//! The `tool_resources.file_search.vector_stores` helper of assistants and threads:
//! each entry (`file_ids`, optional `chunking_strategy` and `metadata`) becomes a new
//! vector store whose files are ingested in the background, and its id joins
//! `vector_store_ids`, as OpenAI did.

use serde_json::{json, Value};

use crate::api_error::ApiError;
use crate::ids::unix_now;
use crate::models::JsonMap;
use crate::routes::vector_store_files::{check_file_ids, new_attachment};
use crate::state::AppState;
use crate::store::Tenant;
use crate::validation::{Field, Fields};
use crate::vector_stores::chunking::parse_chunking;
use crate::vector_stores::ids::new_vector_store_id;
use crate::vector_stores::model::{FileCounts, VectorStore};

/// Most files one helper store may be created with (OpenAI's limit).
const MAX_HELPER_FILES: usize = 10_000;

/// Creates the stores `resources.file_search.vector_stores` asks for and replaces that
/// key by their ids in `vector_store_ids`; resources without it are left as they are.
pub async fn create_requested_stores(
    state: &AppState,
    tenant: &Tenant,
    resources: &mut JsonMap,
) -> Result<(), ApiError> {
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
        ids.push(json!(create_store(state, tenant, map, &prefix).await?));
    }
    search.insert("vector_store_ids".into(), Value::Array(ids));
    Ok(())
}

/// The same for a resources value that may not be an object.
pub async fn create_requested_stores_in(
    state: &AppState,
    tenant: &Tenant,
    resources: &mut Value,
) -> Result<(), ApiError> {
    match resources.as_object_mut() {
        Some(map) => create_requested_stores(state, tenant, map).await,
        None => Ok(()),
    }
}

async fn create_store(
    state: &AppState,
    tenant: &Tenant,
    map: &JsonMap,
    prefix: &str,
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
        status: "completed".to_owned(),
        expires_after: None,
        expires_at: None,
        last_active_at: now,
        metadata: fields.metadata()?.set().unwrap_or_default(),
    };
    let files: Vec<_> = file_ids
        .iter()
        .map(|id| new_attachment(&store.id, id, chunking, JsonMap::new(), now))
        .collect();
    state
        .store
        .insert_vector_store(tenant, &store, &files)
        .await?;
    state.ingest.enqueue(tenant, files);
    Ok(store.id)
}
