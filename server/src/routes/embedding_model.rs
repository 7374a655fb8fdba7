//! The `embedding-model` request header (named after the seed service's): on creating
//! a vector store (directly, through the `vector_stores` helper of assistants and
//! threads, or for message attachments) it picks the model the store's chunks and
//! queries are embedded with; on attaching files (one file or a batch) it must name the
//! store's model, so a store never mixes vector spaces. Without an embeddings upstream
//! the header is ignored (not even checked), as the offline server accepts any chat
//! model name too. The same extractor carries the request's embedding credentials
//! (`api-key`, `LLM-PARAM-aws-*`), which go to the store's provider when the store is
//! checked, its files ingested and it is searched.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;

use crate::api_error::ApiError;
use crate::embeddings::{
    EmbedAccess, EmbeddingsClient, EMBEDDING_MODEL_HEADER, MAX_MODEL_NAME_CHARS,
};
use crate::state::AppState;
use crate::store::Tenant;
use crate::vector_stores::errors::bad_param;

/// A request's `embedding-model` header as sent (checked only when it is used, so a
/// server without embeddings never refuses a request for it), with the request's
/// embedding credentials.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmbeddingModelHeader(pub Option<Vec<u8>>, pub EmbedAccess);

impl EmbeddingModelHeader {
    /// The header and credentials of `headers`.
    pub fn of(headers: &HeaderMap) -> Self {
        let credentials = crate::routes::runs::run_access(headers).credentials;
        Self(
            headers
                .get(EMBEDDING_MODEL_HEADER)
                .map(|value| value.as_bytes().to_vec()),
            EmbedAccess::from_credentials(&credentials),
        )
    }

    /// The request's embedding credentials.
    pub fn access(&self) -> &EmbedAccess {
        &self.1
    }

    /// The server's embeddings client working with this request's credentials.
    pub fn client(&self, state: &AppState) -> Option<EmbeddingsClient> {
        let client = state.embeddings.as_deref()?;
        Some(client.with_access(self.1.clone()))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for EmbeddingModelHeader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::of(&parts.headers))
    }
}

/// The header's model name, checked: printable ASCII of at most
/// [`MAX_MODEL_NAME_CHARS`] (it goes into upstream request bodies and the database).
fn requested_model(header: &EmbeddingModelHeader) -> Result<Option<String>, ApiError> {
    let Some(value) = &header.0 else {
        return Ok(None);
    };
    let name = std::str::from_utf8(value)
        .map(str::trim)
        .unwrap_or_default();
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
    header: &EmbeddingModelHeader,
) -> Result<Option<String>, ApiError> {
    let Some(embeddings) = header.client(state) else {
        return Ok(None);
    };
    let Some(requested) = requested_model(header)? else {
        return Ok(Some(embeddings.default_model().to_owned()));
    };
    embeddings
        .check_model(&requested)
        .map_err(|error| bad_param(EMBEDDING_MODEL_HEADER, error.message))?;
    Ok(Some(requested))
}

/// Refuses an `embedding-model` header that differs from the model of the store the
/// files are attached to (a store's chunks all share one model).
pub async fn check_attach(
    state: &AppState,
    tenant: &Tenant,
    vector_store_id: &str,
    header: &EmbeddingModelHeader,
) -> Result<(), ApiError> {
    if state.embeddings.is_none() {
        return Ok(());
    }
    let Some(requested) = requested_model(header)? else {
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
