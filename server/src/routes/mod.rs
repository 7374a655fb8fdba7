//! The HTTP surface: one module per API resource, each with its `router()`, put
//! together under `/v1` with authentication, the beta check and OpenAI's headers.

pub mod assistants;
pub mod messages;
pub mod threads;

use axum::extract::Request;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::Router;

use crate::api_error::ApiError;
use crate::state::AppState;

/// The whole API as a router; tests drive it without a socket.
pub fn app(state: AppState) -> Router {
    let assistants_api = Router::new()
        .merge(assistants::router())
        .merge(threads::router())
        .merge(messages::router())
        .route_layer(from_fn(crate::middleware::require_assistants_beta));
    Router::new()
        .merge(assistants_api)
        .fallback(invalid_url)
        .method_not_allowed_fallback(invalid_url)
        .layer(from_fn_with_state(
            state.clone(),
            crate::middleware::authenticate,
        ))
        .layer(from_fn(crate::middleware::openai_headers))
        .with_state(state)
}

/// OpenAI's answer for any URL (or method) it does not serve.
async fn invalid_url(request: Request) -> Response {
    ApiError::invalid_url(request.method().as_str(), request.uri().path()).into_response()
}
