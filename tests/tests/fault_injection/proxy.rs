//! A loopback HTTP proxy between the harness and the reference server that applies one
//! [`Fault`] to the requests it forwards or the answers it returns, as a faulty implementation
//! would behave. Bodies are read whole (streams too: the harness judges a stream only at its
//! end), and an answer the fault leaves as it was goes back byte for byte.

use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;

use super::faults::Fault;

/// A request as the proxy forwards it: what a fault may change.
pub(super) struct Forwarded {
    /// Upper-case method.
    pub method: String,
    /// The path below the host, e.g. `/v1/threads/thread_1/runs`.
    pub path: String,
    /// The query string without `?`, empty when none.
    pub query: String,
    /// Request headers (lower-case names), without hop-by-hop ones.
    pub headers: Vec<(String, String)>,
    /// The request body.
    pub body: Vec<u8>,
}

/// An answer as the proxy returns it: what a fault may change.
pub(super) struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Response headers (lower-case names), without hop-by-hop ones.
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Vec<u8>,
}

impl Forwarded {
    /// The value of a header, if sent.
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

impl Answer {
    /// The value of a header, if sent.
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

struct Upstream {
    base: String,
    client: reqwest::Client,
    fault: &'static Fault,
}

/// A running proxy; the task ends when this is dropped.
pub(super) struct Proxy {
    /// The base URL (with `/v1`) the harness is pointed at.
    pub base_url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts a proxy on port 0 in front of `upstream_base_url` (including `/v1`).
pub(super) async fn start(upstream_base_url: &str, fault: &'static Fault) -> Proxy {
    let origin = upstream_base_url.trim_end_matches("/v1").to_owned();
    let state = Arc::new(Upstream {
        base: origin,
        client: reqwest::Client::new(),
        fault,
    });
    let app = Router::new().fallback(forward).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind port 0");
    let address = listener.local_addr().expect("local address");
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Proxy {
        base_url: format!("http://{address}/v1"),
        task,
    }
}

const HOP_BY_HOP: [&str; 5] = [
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
];

async fn forward(State(upstream): State<Arc<Upstream>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default()
        .to_vec();
    let mut forwarded = Forwarded {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or("").to_owned(),
        headers: kept_headers(parts.headers.iter()),
        body,
    };
    (upstream.fault.request)(&mut forwarded);
    let query = if forwarded.query.is_empty() {
        String::new()
    } else {
        format!("?{}", forwarded.query)
    };
    let url = format!("{}{}{query}", upstream.base, forwarded.path);
    let method = reqwest::Method::from_bytes(forwarded.method.as_bytes()).expect("method");
    let mut outgoing = upstream.client.request(method, url);
    for (name, value) in &forwarded.headers {
        outgoing = outgoing.header(name, value);
    }
    let answered = match outgoing.body(forwarded.body.clone()).send().await {
        Ok(answered) => answered,
        Err(err) => return (StatusCode::BAD_GATEWAY, err.to_string()).into_response(),
    };
    let status = answered.status().as_u16();
    let headers = kept_headers(answered.headers().iter());
    let body = answered.bytes().await.unwrap_or_default().to_vec();
    let mut answer = Answer {
        status,
        headers,
        body,
    };
    (upstream.fault.response)(&forwarded, &mut answer);
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() = StatusCode::from_u16(answer.status).expect("status");
    for (name, value) in answer.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

fn kept_headers<'a>(
    headers: impl Iterator<Item = (&'a HeaderName, &'a HeaderValue)>,
) -> Vec<(String, String)> {
    headers
        .filter(|(name, _)| !HOP_BY_HOP.contains(&name.as_str()))
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect()
}
