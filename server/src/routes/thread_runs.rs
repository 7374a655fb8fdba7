//! `POST /v1/threads/runs` (createThreadAndRun): a new thread with its messages and a
//! run on it, in one request. Everything is checked before anything is written.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};

use crate::api_error::ApiError;
use crate::extract::JsonObject;
use crate::ids::{new_id, unix_now, IdKind};
use crate::models::{Message, Thread};
use crate::routes::embedding_model::EmbeddingModelHeader;
use crate::routes::resource_stores::{
    attachments_of, check_messages_attachments, create_requested_stores_in,
    store_searchable_attachments,
};
use crate::routes::run_input::{check_include, read_run_request, RUN_FIELDS};
use crate::routes::runs::{launch, record_run, run_access};
use crate::routes::serving_only;
use crate::routes::threads::{new_message, read_initial_messages, read_tool_resources};
use crate::runs::events::RunEvent;
use crate::runs::RunAccess;
use crate::state::AppState;
use crate::store::Tenant;
use crate::validation::Fields;

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new().route(
        "/v1/threads/runs",
        serving_only(post(create_thread_and_run), &[Method::POST]),
    )
}

/// POST /v1/threads/runs
pub async fn create_thread_and_run(
    State(state): State<AppState>,
    tenant: Tenant,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let include_search_results = check_include(query.as_deref())?;
    let mut allowed = RUN_FIELDS.to_vec();
    allowed.extend(["thread", "tool_resources"]);
    let fields = Fields::new(&body, "");
    fields.only(&allowed)?;
    let request = read_run_request(&body)?;
    let empty = crate::models::JsonMap::new();
    let thread_body = fields.object("thread")?.set().unwrap_or(&empty);
    let thread_fields = Fields::new(thread_body, "thread.");
    thread_fields.only(&["messages", "tool_resources", "metadata"])?;
    let inputs = read_initial_messages(&thread_fields)?;
    read_tool_resources(&fields)?;
    let mut thread = Thread {
        id: new_id(IdKind::Thread),
        object: "thread".to_owned(),
        created_at: unix_now(),
        metadata: thread_fields.metadata()?.set().unwrap_or_default(),
        tool_resources: read_tool_resources(&thread_fields)?.unwrap_or_else(|| json!({})),
    };
    let messages: Vec<Message> = inputs
        .into_iter()
        .map(|input| new_message(&thread.id, thread.created_at, input))
        .collect();
    let assistant = state
        .store
        .get_assistant(&tenant, &request.assistant_id)
        .await
        .map_err(|e| ApiError::from_store(e, "assistant", &request.assistant_id))?;
    state
        .runs
        .check_model(request.model.as_deref().unwrap_or(&assistant.model))?;
    let instructions = match &request.instructions {
        crate::validation::Field::Set(text) => Some(text.clone()),
        crate::validation::Field::Null => None,
        crate::validation::Field::Absent => assistant.instructions.clone(),
    };
    let has_instructions =
        instructions.is_some_and(|i| !i.is_empty()) || request.additional_instructions.is_some();
    if !has_instructions && !messages.iter().any(|m| m.role == "user") {
        return Err(ApiError::invalid_thread());
    }
    let given: Vec<&[Value]> = messages.iter().map(|m| m.attachments.as_slice()).collect();
    check_messages_attachments(&state, &tenant, &given, "thread.messages").await?;
    let requested_model = EmbeddingModelHeader::of(&headers);
    let resources = &mut thread.tool_resources;
    create_requested_stores_in(&state, &tenant, resources, &requested_model).await?;
    let attachments = attachments_of(&messages);
    store_searchable_attachments(&state, &tenant, &mut thread, &attachments, &requested_model)
        .await?;
    state
        .store
        .insert_thread(&tenant, &thread, &messages)
        .await?;
    let run = record_run(&state, &tenant, &thread.id, &request).await?;
    let created = RunEvent::new("thread.created", &thread.as_retrieved());
    Ok(launch(
        &state,
        tenant,
        run,
        RunAccess {
            include_search_results,
            ..run_access(&headers)
        },
        request.stream,
        vec![created],
    ))
}
