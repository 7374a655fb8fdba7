//! `/v1/threads`: createThread (with initial messages), getThread, modifyThread,
//! deleteThread (which deletes the thread's messages too).

use axum::extract::State;
use axum::http::Method;
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use crate::api_error::ApiError;
use crate::extract::{check_id, JsonObject, PathParams as Path};
use crate::ids::{new_id, unix_now, IdKind};
use crate::json::Pretty;
use crate::models::{Deleted, JsonMap, Message, Thread};
use crate::routes::embedding_model::EmbeddingModelHeader;
use crate::routes::resource_stores::{
    attachments_of, check_messages_attachments, create_requested_stores_in,
    store_searchable_attachments,
};
use crate::routes::serving_only;
use crate::state::AppState;
use crate::store::Tenant;
use crate::validation::content::{message_input, MessageInput};
use crate::validation::tools::normalize_tool_resources;
use crate::validation::{json_type_name, Checked, Field, Fields};

/// Most messages a thread may be created with.
pub const MAX_INITIAL_MESSAGES: usize = 32;

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    use Method as M;
    Router::new()
        .route("/v1/threads", serving_only(post(create_thread), &[M::POST]))
        .route(
            "/v1/threads/{thread_id}",
            serving_only(
                get(get_thread).post(modify_thread).delete(delete_thread),
                &[M::GET, M::POST, M::DELETE],
            ),
        )
}

/// Builds a stored message from checked input.
pub fn new_message(thread_id: &str, created_at: i64, input: MessageInput) -> Message {
    Message {
        id: new_id(IdKind::Message),
        object: "thread.message".to_owned(),
        created_at,
        assistant_id: None,
        thread_id: thread_id.to_owned(),
        run_id: None,
        role: input.role,
        content: input.content,
        attachments: input.attachments,
        metadata: input.metadata,
    }
}

/// `tool_resources` of a thread body: normalised, `{}` for null, `None` when absent.
pub fn read_tool_resources(fields: &Fields<'_>) -> Checked<Option<Value>> {
    Ok(match fields.object("tool_resources")? {
        Field::Set(map) => Some(Value::Object(normalize_tool_resources(map)?)),
        Field::Null => Some(json!({})),
        Field::Absent => None,
    })
}

/// The `messages` of a new thread, checked one by one.
pub fn read_initial_messages(fields: &Fields<'_>) -> Checked<Vec<MessageInput>> {
    let items = fields
        .array("messages", MAX_INITIAL_MESSAGES)?
        .set()
        .map(Vec::as_slice)
        .unwrap_or_default();
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let param = format!("messages[{index}]");
            let Value::Object(map) = item else {
                return Err(ApiError::invalid_type(
                    &param,
                    "an object",
                    json_type_name(item),
                ));
            };
            message_input(map, &format!("{param}."))
        })
        .collect()
}

/// POST /v1/threads
pub async fn create_thread(
    State(state): State<AppState>,
    tenant: Tenant,
    requested_model: EmbeddingModelHeader,
    JsonObject(body): JsonObject,
) -> Result<Pretty<Thread>, ApiError> {
    let fields = Fields::new(&body, "");
    fields.only(&["messages", "tool_resources", "metadata"])?;
    let inputs = read_initial_messages(&fields)?;
    let mut thread = Thread {
        id: new_id(IdKind::Thread),
        object: "thread".to_owned(),
        created_at: unix_now(),
        metadata: fields.metadata()?.set().unwrap_or_default(),
        tool_resources: read_tool_resources(&fields)?.unwrap_or_else(|| json!({})),
    };
    let given: Vec<&[Value]> = inputs.iter().map(|i| i.attachments.as_slice()).collect();
    check_messages_attachments(&state, &tenant, &given, "messages").await?;
    create_requested_stores_in(
        &state,
        &tenant,
        &mut thread.tool_resources,
        &requested_model,
    )
    .await?;
    let messages: Vec<Message> = inputs
        .into_iter()
        .map(|input| new_message(&thread.id, thread.created_at, input))
        .collect();
    let attachments = attachments_of(&messages);
    store_searchable_attachments(&state, &tenant, &mut thread, &attachments, &requested_model)
        .await?;
    state
        .store
        .insert_thread(&tenant, &thread, &messages)
        .await?;
    Ok(Pretty(thread))
}

/// Loads a thread of this tenant, or OpenAI's 400/404.
pub async fn load_thread(
    state: &AppState,
    tenant: &Tenant,
    thread_id: &str,
) -> Result<Thread, ApiError> {
    check_id(IdKind::Thread, "thread_id", thread_id)?;
    state
        .store
        .get_thread(tenant, thread_id)
        .await
        .map_err(|e| ApiError::from_store(e, "thread", thread_id))
}

/// GET /v1/threads/{thread_id}
pub async fn get_thread(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(thread_id): Path<String>,
) -> Result<Pretty<Thread>, ApiError> {
    Ok(Pretty(
        load_thread(&state, &tenant, &thread_id)
            .await?
            .as_retrieved(),
    ))
}

/// POST /v1/threads/{thread_id}
pub async fn modify_thread(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(thread_id): Path<String>,
    requested_model: EmbeddingModelHeader,
    JsonObject(body): JsonObject,
) -> Result<Pretty<Thread>, ApiError> {
    let mut thread = load_thread(&state, &tenant, &thread_id).await?;
    let fields = Fields::new(&body, "");
    fields.only(&["tool_resources", "metadata"])?;
    if let Some(metadata) = fields.metadata()?.into_update() {
        thread.metadata = metadata.unwrap_or_else(JsonMap::new);
    }
    if let Some(mut resources) = read_tool_resources(&fields)? {
        create_requested_stores_in(&state, &tenant, &mut resources, &requested_model).await?;
        thread.tool_resources = resources;
    }
    state
        .store
        .update_thread(&tenant, &thread)
        .await
        .map_err(|e| ApiError::from_store(e, "thread", &thread_id))?;
    Ok(Pretty(thread))
}

/// DELETE /v1/threads/{thread_id}
pub async fn delete_thread(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(thread_id): Path<String>,
) -> Result<Pretty<Deleted>, ApiError> {
    check_id(IdKind::Thread, "thread_id", &thread_id)?;
    state
        .store
        .delete_thread(&tenant, &thread_id)
        .await
        .map_err(|e| ApiError::from_store(e, "thread", &thread_id))?;
    Ok(Pretty(Deleted::new(thread_id, "thread.deleted")))
}
