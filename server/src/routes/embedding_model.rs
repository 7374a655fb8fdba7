//! The `embedding-model` request header (named after the seed service's): on creating
//! a vector store it picks the model the store's chunks and queries are embedded with;
//! on attaching files (one file or a batch) it must name the store's model, so a
//! store never mixes vector spaces. Without an embeddings upstream the header is
//! ignored, as the offline server accepts any chat model name too.

use axum::http::HeaderMap;

use crate::api_error::ApiError;
use crate::embeddings::{EMBEDDING_MODEL_HEADER, MAX_MODEL_NAME_CHARS};
use crate::state::AppState;
use crate::store::Tenant;
use crate::vector_stores::errors::bad_param;

/// The header's model name, checked: printable ASCII of at most
/// [`MAX_MODEL_NAME_CHARS`] (it goes into upstream request bodies and the database).
fn requested_model(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(EMBEDDING_MODEL_HEADER) else {
        return Ok(None);
    };
    let name = value.to_str().map(str::trim).unwrap_or_default();
    let printable = name.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
    if name.is_empty() || name.len() > MAX_MODEL_NAME_CHARS || !printable {
        return Err(bad_param(
            EMBEDDING_MODEL_HEADER,
            format!(
                "Invalid '{EMBEDDING_MODEL_HEADER}' header: expected a model name of 1 to \
                 {MAX_MODEL_NAME_CHARS} printable characters."
            ),
        ));
    }
    Ok(Some(name.to_owned()))
}

/// The embedding model of a store about to be created: the header's, else the
/// configured default; `None` (keyword search only) without an embeddings upstream.
pub fn model_for_new_store(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<String>, ApiError> {
    let Some(embeddings) = &state.embeddings else {
        return Ok(None);
    };
    Ok(Some(
        requested_model(headers)?.unwrap_or_else(|| embeddings.default_model().to_owned()),
    ))
}

/// The default model for stores created without a request header to read (the
/// `vector_stores` helper of assistants and threads, message attachments).
pub fn default_model(state: &AppState) -> Option<String> {
    state
        .embeddings
        .as_ref()
        .map(|embeddings| embeddings.default_model().to_owned())
}

/// Refuses an `embedding-model` header that differs from the model of the store the
/// files are attached to (a store's chunks all share one model).
pub async fn check_attach(
    state: &AppState,
    tenant: &Tenant,
    vector_store_id: &str,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    if state.embeddings.is_none() {
        return Ok(());
    }
    let Some(requested) = requested_model(headers)? else {
        return Ok(());
    };
    let models = state
        .store
        .embedding_models(tenant, &[vector_store_id.to_owned()])
        .await?;
    let current = models.get(vector_store_id).cloned().flatten();
    if current.as_deref() == Some(requested.as_str()) {
        return Ok(());
    }
    let message = match current {
        Some(model) => format!(
            "Vector store '{vector_store_id}' embeds with '{model}'; its files cannot be \
             embedded with '{requested}'. Create a new vector store for another model."
        ),
        None => format!(
            "Vector store '{vector_store_id}' was created without an embedding model and \
             ranks by keywords only; create a new vector store to embed with '{requested}'."
        ),
    };
    Err(bad_param(EMBEDDING_MODEL_HEADER, message))
}
