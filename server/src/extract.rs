//! Request extractors that fail with OpenAI's envelope instead of axum's plain-text
//! rejections: the tenant, the JSON body, path ids and list query parameters.

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde_json::Value;

use crate::api_error::ApiError;
use crate::ids::IdKind;
use crate::models::JsonMap;
use crate::state::AppState;
use crate::store::page::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::store::{Order, PageRequest, Tenant};
use crate::validation::json_type_name;

impl<S: Send + Sync> FromRequestParts<S> for Tenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // `middleware::authenticate` always runs first; without it nobody is let in.
        parts
            .extensions
            .get::<Tenant>()
            .cloned()
            .ok_or_else(ApiError::missing_api_key)
    }
}

/// The request body as a JSON object. An empty body counts as `{}`: OpenAI accepted
/// `POST /v1/threads` with no body at all. The content type is not checked, as
/// clients send JSON under many labels.
#[derive(Debug, Clone, Default)]
pub struct JsonObject(pub JsonMap);

impl FromRequest<AppState> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(
        request: Request<Body>,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let limit = state.max_body_bytes;
        let bytes = axum::body::to_bytes(request.into_body(), limit)
            .await
            .map_err(|_| ApiError::body_too_large(limit))?;
        parse_object(&bytes).map(JsonObject)
    }
}

/// Parses a request body into a JSON object with OpenAI's errors.
pub fn parse_object(bytes: &[u8]) -> Result<JsonMap, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(JsonMap::new());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(ApiError::body_not_object(json_type_name(&other))),
        Err(_) => Err(ApiError::unparsable_json()),
    }
}

/// Path parameters; a path that cannot be decoded (e.g. bad percent-encoding) is
/// answered like any other unknown URL.
#[derive(Debug, Clone)]
pub struct PathParams<T>(pub T);

impl<T, S> FromRequestParts<S> for PathParams<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(PathParams(value)),
            Err(_) => Err(ApiError::invalid_url(
                parts.method.as_str(),
                parts.uri.path(),
            )),
        }
    }
}

/// Checks that a path id has its kind's prefix, as OpenAI did before looking it up.
pub fn check_id(kind: IdKind, param: &str, id: &str) -> Result<(), ApiError> {
    if id.starts_with(kind.stem()) {
        Ok(())
    } else {
        Err(ApiError::id_prefix(param, id, kind.stem()))
    }
}

/// Validated list parameters: the page plus the optional `run_id` filter of messages.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// limit / order / after / before.
    pub page: PageRequest,
    /// `run_id` filter (list messages only).
    pub run_id: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for ListQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parse_list_query(parts.uri.query().unwrap_or_default())
    }
}

/// Parses `limit`, `order`, `after`, `before` and `run_id`; other parameters are ignored
/// (SDKs add e.g. `include[]`).
pub fn parse_list_query(query: &str) -> Result<ListQuery, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    let mut list = ListQuery::default();
    for (key, value) in pairs {
        match key.as_str() {
            "limit" => list.page.limit = parse_limit(&value)?,
            "order" => {
                list.page.order = match value.as_str() {
                    "asc" => Order::Asc,
                    "desc" => Order::Desc,
                    _ => return Err(ApiError::invalid_value("order", &value, &["asc", "desc"])),
                }
            }
            "after" if !value.is_empty() => list.page.after = Some(value),
            "before" if !value.is_empty() => list.page.before = Some(value),
            "run_id" if !value.is_empty() => list.run_id = Some(value),
            _ => {}
        }
    }
    Ok(list)
}

fn parse_limit(value: &str) -> Result<u32, ApiError> {
    let Ok(limit) = value.trim().parse::<i64>() else {
        return Err(ApiError::invalid_type("limit", "an integer", "a string"));
    };
    if limit < 1 {
        return Err(ApiError::integer_below_min("limit", 1, value));
    }
    if limit > i64::from(MAX_LIMIT) {
        return Err(ApiError::integer_above_max(
            "limit",
            i64::from(MAX_LIMIT),
            value,
        ));
    }
    Ok(u32::try_from(limit).unwrap_or(DEFAULT_LIMIT))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("", 20, Order::Desc)]
    #[case("limit=1", 1, Order::Desc)]
    #[case("limit=100&order=asc", 100, Order::Asc)]
    #[case("order=desc&include[]=x", 20, Order::Desc)]
    fn accepts_valid_queries(#[case] query: &str, #[case] limit: u32, #[case] order: Order) {
        let list = parse_list_query(query).unwrap();
        assert_eq!((list.page.limit, list.page.order), (limit, order));
    }

    #[rstest]
    #[case("limit=0", "integer_below_min_value")]
    #[case("limit=101", "integer_above_max_value")]
    #[case("limit=abc", "invalid_type")]
    #[case("order=sideways", "invalid_value")]
    fn rejects_bad_queries(#[case] query: &str, #[case] code: &str) {
        let error = parse_list_query(query).unwrap_err();
        assert_eq!(error.code, Some(code));
        assert_eq!(error.status, 400);
    }

    #[test]
    fn cursors_are_read() {
        let list = parse_list_query("after=asst_a&before=asst_b").unwrap();
        assert_eq!(list.page.after.as_deref(), Some("asst_a"));
        assert_eq!(list.page.before.as_deref(), Some("asst_b"));
    }

    #[rstest]
    #[case(b"", true)]
    #[case(b"  \n", true)]
    #[case(b"{\"a\":1}", true)]
    #[case(b"[1]", false)]
    #[case(b"{", false)]
    #[case(b"\xff\xfe", false)]
    fn parses_bodies(#[case] body: &[u8], #[case] ok: bool) {
        assert_eq!(parse_object(body).is_ok(), ok);
    }
}
