//! `/v1/threads/{thread_id}/messages`: createMessage, listMessages, getMessage,
//! modifyMessage, deleteMessage.

use axum::extract::State;
use axum::http::Method;
use axum::routing::get;
use axum::Router;

use crate::api_error::ApiError;
use crate::extract::{check_id, JsonObject, ListQuery, PathParams as Path};
use crate::ids::{unix_now, IdKind};
use crate::json::Pretty;
use crate::models::message::ModifiedMessage;
use crate::models::{Deleted, ListPage, Message};
use crate::routes::embedding_model::EmbeddingModelHeader;
use crate::routes::resource_stores::{check_attachment_files, store_searchable_attachments};
use crate::routes::serving_only;
use crate::routes::threads::{load_thread, new_message};
use crate::state::AppState;
use crate::store::Tenant;
use crate::validation::content::message_input;
use crate::validation::Fields;

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    use Method as M;
    Router::new()
        .route(
            "/v1/threads/{thread_id}/messages",
            serving_only(get(list_messages).post(create_message), &[M::GET, M::POST]),
        )
        .route(
            "/v1/threads/{thread_id}/messages/{message_id}",
            serving_only(
                get(get_message).post(modify_message).delete(delete_message),
                &[M::GET, M::POST, M::DELETE],
            ),
        )
}

/// POST /v1/threads/{thread_id}/messages
pub async fn create_message(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(thread_id): Path<String>,
    requested_model: EmbeddingModelHeader,
    JsonObject(body): JsonObject,
) -> Result<Pretty<Message>, ApiError> {
    let mut thread = load_thread(&state, &tenant, &thread_id).await?;
    let message = new_message(&thread_id, unix_now(), message_input(&body, "")?);
    if let Some(run_id) = state.store.active_run(&tenant, &thread_id).await? {
        return Err(ApiError::thread_locked(&thread_id, &run_id));
    }
    let attachments = &message.attachments;
    check_attachment_files(&state, &tenant, attachments, "").await?;
    if store_searchable_attachments(&state, &tenant, &mut thread, attachments, &requested_model)
        .await?
    {
        state.store.update_thread(&tenant, &thread).await?;
    }
    state
        .store
        .insert_message(&tenant, &message)
        .await
        .map_err(|e| ApiError::from_store(e, "thread", &thread_id))?;
    Ok(Pretty(message))
}

/// GET /v1/threads/{thread_id}/messages
pub async fn list_messages(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(thread_id): Path<String>,
    query: ListQuery,
) -> Result<Pretty<ListPage<Message>>, ApiError> {
    load_thread(&state, &tenant, &thread_id).await?;
    let page = state
        .store
        .list_messages(&tenant, &thread_id, query.run_id.as_deref(), &query.page)
        .await?;
    Ok(Pretty(ListPage::new(page.items, page.has_more, |m| &m.id)))
}

async fn load_message(
    state: &AppState,
    tenant: &Tenant,
    thread_id: &str,
    message_id: &str,
) -> Result<Message, ApiError> {
    load_thread(state, tenant, thread_id).await?;
    check_id(IdKind::Message, "message_id", message_id)?;
    state
        .store
        .get_message(tenant, thread_id, message_id)
        .await
        .map_err(|e| ApiError::from_store(e, "message", message_id))
}

/// GET /v1/threads/{thread_id}/messages/{message_id}
pub async fn get_message(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((thread_id, message_id)): Path<(String, String)>,
) -> Result<Pretty<Message>, ApiError> {
    Ok(Pretty(
        load_message(&state, &tenant, &thread_id, &message_id).await?,
    ))
}

/// POST /v1/threads/{thread_id}/messages/{message_id}. Answers with `file_ids: []`
/// in place of `attachments`, as OpenAI did.
pub async fn modify_message(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((thread_id, message_id)): Path<(String, String)>,
    JsonObject(body): JsonObject,
) -> Result<Pretty<ModifiedMessage>, ApiError> {
    let mut message = load_message(&state, &tenant, &thread_id, &message_id).await?;
    let fields = Fields::new(&body, "");
    fields.only(&["metadata"])?;
    if let Some(metadata) = fields.metadata()?.into_update() {
        message.metadata = metadata.unwrap_or_default();
    }
    state
        .store
        .update_message(&tenant, &message)
        .await
        .map_err(|e| ApiError::from_store(e, "message", &message_id))?;
    Ok(Pretty(message.into()))
}

/// DELETE /v1/threads/{thread_id}/messages/{message_id}
pub async fn delete_message(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((thread_id, message_id)): Path<(String, String)>,
) -> Result<Pretty<Deleted>, ApiError> {
    load_thread(&state, &tenant, &thread_id).await?;
    check_id(IdKind::Message, "message_id", &message_id)?;
    state
        .store
        .delete_message(&tenant, &thread_id, &message_id)
        .await
        .map_err(|e| ApiError::from_store(e, "message", &message_id))?;
    Ok(Pretty(Deleted::new(message_id, "thread.message.deleted")))
}
