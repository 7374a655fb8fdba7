//! Request layers every answer passes through: OpenAI's response headers,
//! Bearer authentication (which decides the tenant) and the `OpenAI-Beta` check.

use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::api_error::ApiError;
use crate::state::AppState;
use crate::store::Tenant;

/// Adds `openai-version` and `openai-processing-ms` to every answer (`x-request-id`
/// comes from [`crate::ops::request::with_request_id`]).
pub async fn openai_headers(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert("openai-version", HeaderValue::from_static("2020-10-01"));
    headers.insert(
        "openai-processing-ms",
        HeaderValue::from(started.elapsed().as_millis() as u64),
    );
    response
}

/// Requires `Authorization: Bearer KEY`; with a key list, only listed keys pass.
/// The key's tenant goes into the request extensions for the handlers. When no usable
/// bearer key came (none, `NONE` as apps of the seed service send, or one the key list
/// refuses), an `astra-api-token` header is the key instead, under the same rules.
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(bearer_key)
        .filter(|key| !key.eq_ignore_ascii_case("none"));
    let accepted = |key: &str| {
        state
            .api_keys
            .as_ref()
            .is_none_or(|allowed| allowed.contains(key))
    };
    let astra = headers
        .get(ASTRA_TOKEN_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|key| !key.is_empty());
    let key = match (bearer, astra) {
        (Some(bearer), Some(astra)) if !accepted(bearer) => Some(astra),
        (Some(bearer), _) => Some(bearer),
        (None, astra) => astra,
    }
    .map(str::to_owned);
    let Some(key) = key else {
        return ApiError::missing_api_key().into_response();
    };
    if let Some(allowed) = &state.api_keys {
        if !allowed.contains(&key) {
            return ApiError::incorrect_api_key(&key).into_response();
        }
    }
    request.extensions_mut().insert(Tenant::from_api_key(&key));
    next.run(request).await
}

/// The seed service's tenant header, read when no usable bearer key was sent.
pub const ASTRA_TOKEN_HEADER: &str = "astra-api-token";

/// The key of a `Bearer KEY` header value; `None` when absent or empty.
fn bearer_key(value: &str) -> Option<&str> {
    let (scheme, key) = value.trim().split_once(' ')?;
    let key = key.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !key.is_empty()).then_some(key)
}

/// Requires `OpenAI-Beta: assistants=v2` on the Assistants API routes.
pub async fn require_assistants_beta(request: Request, next: Next) -> Response {
    let versions: Vec<String> = request
        .headers()
        .get_all("openai-beta")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|item| item.trim().to_ascii_lowercase())
        .collect();
    if versions.iter().any(|v| v == "assistants=v2") {
        next.run(request).await
    } else if versions.iter().any(|v| v == "assistants=v1") {
        ApiError::deprecated_beta_v1().into_response()
    } else {
        ApiError::missing_beta_header().into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::bearer_key;
    use rstest::rstest;

    #[rstest]
    #[case("Bearer sk-1", Some("sk-1"))]
    #[case("bearer  sk-1 ", Some("sk-1"))]
    #[case("Bearer ", None)]
    #[case("Basic abc", None)]
    #[case("sk-1", None)]
    fn parses_bearer_keys(#[case] header: &str, #[case] key: Option<&str>) {
        assert_eq!(bearer_key(header), key);
    }
}
