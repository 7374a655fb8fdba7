//! Where `/metrics` is served: always on the operator listener, and on the main address
//! only to a request carrying the operator's token (compared in constant time). Any
//! other `/metrics` request on the main address goes on to the API, which answers it as
//! the unknown URL it is there.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::state::AppState;

/// The exposition's content type (Prometheus negotiates and reads it).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The path metrics are served at.
pub const PATH: &str = "/metrics";

/// The token opening `/metrics` on the main address. Only its SHA-256 is kept, so the
/// token itself is in no struct a log line or a panic could print.
#[derive(Clone)]
pub struct MetricsToken([u8; 32]);

impl MetricsToken {
    /// The token `text`; `None` when it is empty (which would open metrics to anyone
    /// sending `Bearer ` with nothing after it).
    pub fn new(text: &str) -> Option<Self> {
        let text = text.trim();
        (!text.is_empty()).then(|| Self(Sha256::digest(text.as_bytes()).into()))
    }

    /// Whether `headers` carry `Authorization: Bearer TOKEN`. Digests of equal length
    /// are compared in constant time, so timing tells nothing about the token.
    pub fn admits(&self, headers: &HeaderMap) -> bool {
        let Some(given) = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
        else {
            return false;
        };
        let given: [u8; 32] = Sha256::digest(given.as_bytes()).into();
        self.0.ct_eq(&given).into()
    }
}

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken([hidden])")
    }
}

/// `GET /metrics` on the operator listener.
pub async fn scrape(State(state): State<AppState>) -> Response {
    render(&state)
}

fn render(state: &AppState) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
        state.ops.metrics.encode(),
    )
        .into_response()
}

/// Layer of the main app, outside authentication: answers `GET /metrics` with the
/// metrics when the operator's token came, and passes everything else on.
pub async fn on_main_address(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let asks = request.method() == Method::GET && request.uri().path() == PATH;
    match &state.ops.metrics_token {
        Some(token) if asks && token.admits(request.headers()) => render(&state),
        _ => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bearer(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn admits_only_its_own_bearer_token() {
        let token = MetricsToken::new("s3cret-token").unwrap();
        assert!(token.admits(&bearer("Bearer s3cret-token")));
        assert!(token.admits(&bearer("bearer  s3cret-token ")));
        assert!(!token.admits(&bearer("Bearer s3cret-toke")));
        assert!(!token.admits(&bearer("Basic s3cret-token")));
        assert!(!token.admits(&bearer("s3cret-token")));
        assert!(!token.admits(&HeaderMap::new()));
        assert!(MetricsToken::new("  ").is_none());
        assert!(!format!("{token:?}").contains("s3cret"));
    }
}
