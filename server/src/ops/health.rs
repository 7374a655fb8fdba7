//! The probes: `/healthz` answers while the process serves at all (a liveness check that
//! touches nothing), `/readyz` only while the database answers with every migration this
//! build embeds applied and shutdown has not begun (load balancers route by it).

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::api_error::ApiError;
use crate::routes::serving_only;
use crate::state::AppState;

/// Longest `/readyz` waits for the database: a hung database makes the instance
/// unready rather than the probe hang.
pub const READY_TIMEOUT: Duration = Duration::from_secs(5);

/// The probes as routes of the main app (no API key; other methods are unknown URLs).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", serving_only(get(healthz), &[Method::GET]))
        .route("/readyz", serving_only(get(readyz), &[Method::GET]))
}

/// `GET /healthz`: 200 `{"status":"ok"}` while the process serves requests.
pub async fn healthz() -> Response {
    Json(json!({"status": "ok"})).into_response()
}

/// `GET /readyz`: 200 `{"status":"ready"}`, or 503 `{"status":"unavailable","reason":…}`.
pub async fn readyz(State(state): State<AppState>) -> Response {
    match not_ready_because(&state).await {
        None => Json(json!({"status": "ready"})).into_response(),
        Some(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable", "reason": reason})),
        )
            .into_response(),
    }
}

/// Why the instance should get no traffic, if it should not.
async fn not_ready_because(state: &AppState) -> Option<String> {
    if state.ops.is_draining() {
        return Some("shutting down".to_owned());
    }
    match tokio::time::timeout(READY_TIMEOUT, state.store.check_ready()).await {
        Ok(Ok(())) => None,
        Ok(Err(error)) => Some(error.to_string()),
        Err(_) => Some(format!(
            "the database did not answer within {} s",
            READY_TIMEOUT.as_secs()
        )),
    }
}

/// Any other URL of the operator listener: OpenAI's unknown-URL answer.
pub async fn not_found(request: Request) -> Response {
    ApiError::invalid_url(request.method().as_str(), request.uri().path()).into_response()
}
