//! How `/v1/files*` and `/v1/uploads*` answers differed from the Assistants API's: each
//! JSON body ends with one `\n`, and an error envelope has a `detail` sibling
//! `{message, code}` (the May 2026 recordings of `/v1/files` errors).

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::api_error::ApiError;
use crate::json::render_pretty;

/// Largest JSON answer this layer rewrites (a full page of 10,000 files fits easily).
const MAX_REWRITTEN_BYTES: usize = 64 * 1024 * 1024;

/// Middleware giving JSON answers the file service's shape.
pub async fn file_service_format(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    if !is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_REWRITTEN_BYTES).await else {
        return ApiError::internal("").into_response();
    };
    let mut out = if parts.status.is_success() {
        bytes.to_vec()
    } else {
        with_detail(&bytes).unwrap_or_else(|| bytes.to_vec())
    };
    out.push(b'\n');
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(out.len()));
    Response::from_parts(parts, Body::from(out))
}

/// The envelope re-rendered with `detail: {message, code}` after `error`.
fn with_detail(bytes: &[u8]) -> Option<Vec<u8>> {
    let Value::Object(mut envelope) = serde_json::from_slice::<Value>(bytes).ok()? else {
        return None;
    };
    let error = envelope.get("error")?.as_object()?;
    let detail = json!({"message": error.get("message")?, "code": error.get("code")?});
    envelope.insert("detail".to_owned(), detail);
    Some(render_pretty(&envelope))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_gain_a_detail_sibling() {
        let body = render_pretty(
            &json!({"error": {"message": "m", "type": "t", "param": "id", "code": null}}),
        );
        let text = String::from_utf8(with_detail(&body).unwrap()).unwrap();
        assert_eq!(
            text,
            "{\n  \"error\": {\n    \"message\": \"m\",\n    \"type\": \"t\",\n    \"param\": \"id\",\n    \"code\": null\n  },\n  \"detail\": {\n    \"message\": \"m\",\n    \"code\": null\n  }\n}"
        );
    }
}
