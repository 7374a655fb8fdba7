//! Plain HTTP transport: the reqwest client, a request ready to send, what came back, and how
//! both are recorded in the results (the Authorization secret masked). Knows nothing of
//! fixtures: turning a step into a request is [`crate::exec::request`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::results::{RequestRecord, ResponseRecord};

/// Bytes of a response body kept in the results; longer bodies are cut (and marked so).
pub const MAX_RECORDED_BODY: usize = 64 * 1024;
/// Time to establish a connection before the step is an ERROR.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Time for a whole exchange before the step is an ERROR.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// The HTTP client every step uses: rustls, timeouts, and no redirects (a redirect is an answer
/// the implementation gave, to be judged, not followed).
pub fn build_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!(
            "assistants-conformance/",
            env!("CARGO_PKG_VERSION")
        ))
        .build()
        .expect("the TLS backend initialises")
}

/// A request ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedRequest {
    /// Upper-case method.
    pub method: String,
    /// Full URL with query.
    pub url: String,
    /// Headers in sending order.
    pub headers: Vec<(String, String)>,
    /// Body text, if any (for a multipart body: its bytes as lossy UTF-8, for the results).
    pub body: Option<String>,
    /// The exact bytes to send when they are not `body`'s text (a multipart body, whose file
    /// parts may be binary).
    pub wire_body: Option<Vec<u8>>,
}

/// What came back.
#[derive(Debug, Clone)]
pub struct Received {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: reqwest::header::HeaderMap,
    /// Whole body.
    pub body: Vec<u8>,
    /// Unix seconds when the response arrived, for `$timestamp`.
    pub received_at: i64,
}

/// The headers every request starts with, before a step's overrides: Authorization (when an API
/// key is known) and the user's `--header`s.
pub fn base_headers(api_key: Option<&str>, extra: &[(String, String)]) -> Vec<(String, String)> {
    let mut headers = Vec::new();
    if let Some(key) = api_key {
        set_header(&mut headers, "Authorization", Some(format!("Bearer {key}")));
    }
    for (name, value) in extra {
        set_header(&mut headers, name, Some(value.clone()));
    }
    headers
}

/// Replaces (case-insensitively) or appends a header; `None` removes it.
pub fn set_header(headers: &mut Vec<(String, String)>, name: &str, value: Option<String>) {
    let position = headers
        .iter()
        .position(|(existing, _)| existing.eq_ignore_ascii_case(name));
    match (position, value) {
        (Some(index), Some(value)) => headers[index].1 = value,
        (Some(index), None) => {
            headers.remove(index);
        }
        (None, Some(value)) => headers.push((name.to_owned(), value)),
        (None, None) => {}
    }
}

/// The reqwest request for a prepared one; the error is an unusable method in words.
pub fn build_request(
    client: &reqwest::Client,
    request: &PreparedRequest,
) -> Result<reqwest::RequestBuilder, String> {
    let method =
        reqwest::Method::from_bytes(request.method.as_bytes()).map_err(|err| err.to_string())?;
    let mut builder = client.request(method, &request.url);
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    if let Some(bytes) = &request.wire_body {
        builder = builder.body(bytes.clone());
    } else if let Some(body) = &request.body {
        builder = builder.body(body.clone());
    }
    Ok(builder)
}

/// The current unix time in seconds (what `$timestamp` is judged against).
pub fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Sends a prepared request; the error is a transport problem in words.
pub async fn send(client: &reqwest::Client, request: &PreparedRequest) -> Result<Received, String> {
    let response = build_request(client, request)?
        .send()
        .await
        .map_err(|err| describe_transport_error(&err))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .bytes()
        .await
        .map_err(|err| describe_transport_error(&err))?
        .to_vec();
    Ok(Received {
        status,
        headers,
        body,
        received_at: now_unix(),
    })
}

/// A transport error with its whole cause chain (reqwest's top-level message alone says little).
pub fn describe_transport_error(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The request as the results record it: the Authorization secret masked.
pub fn record_request(request: &PreparedRequest) -> RequestRecord {
    let headers = request
        .headers
        .iter()
        .map(|(name, value)| {
            if name.eq_ignore_ascii_case("authorization") {
                (name.clone(), mask_authorization(value))
            } else {
                (name.clone(), value.clone())
            }
        })
        .collect();
    RequestRecord {
        method: request.method.clone(),
        url: request.url.clone(),
        headers,
        body: request.body.clone(),
    }
}

/// `Bearer sk-...` becomes `Bearer ****` (with the last 4 characters when the key is long enough
/// to tell keys apart without revealing them).
pub fn mask_authorization(value: &str) -> String {
    let (scheme, secret) = value.split_once(' ').unwrap_or(("", value));
    let tail = if secret.chars().count() >= 20 {
        secret
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect()
    } else {
        String::new()
    };
    if scheme.is_empty() {
        format!("****{tail}")
    } else {
        format!("{scheme} ****{tail}")
    }
}

/// The response as the results record it, the body cut at [`MAX_RECORDED_BODY`].
pub fn record_response(received: &Received) -> ResponseRecord {
    let content_type = received
        .headers
        .get(reqwest::header::CONTENT_TYPE)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
    let truncated = received.body.len() > MAX_RECORDED_BODY;
    let kept = &received.body[..received.body.len().min(MAX_RECORDED_BODY)];
    ResponseRecord {
        status: received.status,
        content_type,
        body: String::from_utf8_lossy(kept).into_owned(),
        body_truncated: truncated,
    }
}
