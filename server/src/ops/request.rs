//! Each request's id and log context: a fresh `req_<32 hex>` (OpenAI's shape) answered
//! in `x-request-id` and carried by a tracing span around everything the request does,
//! including the run or ingestion tasks it starts, so every log line of a request names
//! it; and one access line per request when its answer's head is ready.

use std::time::Instant;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::ids::new_request_id;

/// The target of access lines, so an operator can filter them (`RUST_LOG=info,access=off`).
pub const ACCESS_TARGET: &str = "access";

/// The request's id, in the request's extensions for handlers that want it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// Outermost layer of the main app: names the request, logs inside its span, answers
/// with its id.
pub async fn with_request_id(mut request: Request, next: Next) -> Response {
    let id = new_request_id();
    // An error-level span is enabled whenever any line is: a quieter filter
    // (`RUST_LOG=warn`) must not drop the request id from the warnings it keeps.
    let span = tracing::error_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path(),
    );
    request.extensions_mut().insert(RequestId(id.clone()));
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    let millis = started.elapsed().as_millis() as u64;
    span.in_scope(|| {
        if status >= 500 {
            tracing::error!(target: ACCESS_TARGET, status, millis, "answered");
        } else {
            tracing::info!(target: ACCESS_TARGET, status, millis, "answered");
        }
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}
