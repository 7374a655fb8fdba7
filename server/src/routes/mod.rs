//! The HTTP surface: one module per API resource, each with its `router()`, put
//! together under `/v1` with authentication, the beta check and OpenAI's headers; beside
//! them the operator's probes and metrics ([`crate::ops`]).

pub mod assistants;
pub mod embedding_model;
pub mod files;
pub mod messages;
pub mod resource_stores;
pub mod run_input;
pub mod runs;
pub mod steps;
pub mod thread_runs;
pub mod threads;
pub mod tool_outputs;
pub mod uploads;
pub mod vector_store_file_batches;
pub mod vector_store_files;
pub mod vector_stores;

use axum::extract::Request;
use axum::http::Method;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter};
use axum::Router;

use crate::api_error::ApiError;
use crate::state::AppState;

/// The whole API as a router; tests drive it without a socket. Layers run outermost
/// last: every request gets its id and log span, then is counted by route template.
pub fn app(state: AppState) -> Router {
    let assistants_api = Router::new()
        .merge(assistants::router())
        .merge(threads::router())
        .merge(messages::router())
        .merge(thread_runs::router())
        .merge(runs::router())
        .merge(steps::router())
        .route_layer(from_fn(crate::middleware::require_assistants_beta));
    let api = Router::new()
        .merge(assistants_api)
        // The file service needs no OpenAI-Beta header (recorded).
        .merge(files::router())
        .merge(uploads::router())
        // Vector stores need no OpenAI-Beta header either (the 2025 .NET SDK sent none).
        .merge(vector_stores::router())
        .merge(vector_store_files::router())
        .merge(vector_store_file_batches::router())
        .fallback(invalid_url)
        .method_not_allowed_fallback(invalid_url)
        .layer(from_fn_with_state(
            state.clone(),
            crate::middleware::authenticate,
        ))
        .layer(from_fn_with_state(
            state.clone(),
            crate::ops::metrics::exposition::on_main_address,
        ));
    Router::new()
        // Load balancers probe without an API key.
        .merge(crate::ops::health::routes())
        .merge(api)
        .layer(from_fn(crate::middleware::openai_headers))
        .layer(from_fn_with_state(
            state.clone(),
            crate::ops::metrics::http::record,
        ))
        .layer(from_fn(crate::ops::request::with_request_id))
        .with_state(state)
}

/// Routes every standard method a path does not serve to [`invalid_url`] as a plain
/// handler: axum's own method-not-allowed answer would add an `Allow` header that
/// OpenAI never sent.
pub fn serving_only(router: MethodRouter<AppState>, served: &[Method]) -> MethodRouter<AppState> {
    router.on(unserved_methods(served), invalid_url)
}

fn unserved_methods(served: &[Method]) -> MethodFilter {
    let mut all = vec![
        Method::DELETE,
        Method::GET,
        Method::PATCH,
        Method::POST,
        Method::PUT,
        Method::OPTIONS,
        Method::TRACE,
    ];
    if !served.contains(&Method::GET) {
        all.push(Method::HEAD);
    }
    all.into_iter()
        .filter(|method| !served.contains(method))
        .filter_map(|method| MethodFilter::try_from(method).ok())
        .reduce(MethodFilter::or)
        .expect("at least one method is unserved")
}

/// OpenAI's answer for any URL (or method) it does not serve.
async fn invalid_url(request: Request) -> Response {
    ApiError::invalid_url(request.method().as_str(), request.uri().path()).into_response()
}
