//! A round-robin HTTP proxy in front of several instances, as a load balancer: each
//! request (not each connection) goes to the next instance, so consecutive requests of
//! one client, a create and the stream or poll that follows it, land on different
//! instances. Answers stream through as they come (Server-Sent Events included). An
//! instance that refuses the connection (it died) is skipped for the next one, as a
//! load balancer's health checks would; a request that reached an instance is never
//! sent again.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use futures::StreamExt;

/// Headers that belong to one connection, not to the request or answer.
const HOP_BY_HOP: [&str; 5] = [
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
];

struct Backends {
    origins: Vec<String>,
    next: AtomicUsize,
    client: reqwest::Client,
}

/// A running proxy; stopped when dropped.
pub(crate) struct Proxy {
    /// Its base URL with `/v1`.
    pub base_url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts a proxy on port 0 in front of `origins` (`http://host:port`, no path).
pub(crate) async fn start(origins: Vec<String>) -> Proxy {
    let backends = Arc::new(Backends {
        origins,
        next: AtomicUsize::new(0),
        client: reqwest::Client::new(),
    });
    let app = Router::new().fallback(forward).with_state(backends);
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

async fn forward(State(backends): State<Arc<Backends>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = to_bytes(body, usize::MAX).await else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let target = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let first = backends.next.fetch_add(1, Ordering::SeqCst);
    let count = backends.origins.len();
    for offset in 0..count {
        let origin = &backends.origins[(first + offset) % count];
        let mut outgoing = backends
            .client
            .request(parts.method.clone(), format!("{origin}{target}"))
            .body(body.clone());
        for (name, value) in &parts.headers {
            if !HOP_BY_HOP.contains(&name.as_str()) {
                outgoing = outgoing.header(name, value);
            }
        }
        match outgoing.send().await {
            Ok(answer) => return stream_back(answer),
            // Nothing reached that instance: the next one gets the request.
            Err(error) if error.is_connect() => continue,
            Err(error) => return (StatusCode::BAD_GATEWAY, error.to_string()).into_response(),
        }
    }
    (StatusCode::BAD_GATEWAY, "no instance answers").into_response()
}

/// The instance's answer, its body forwarded chunk by chunk as it arrives.
fn stream_back(answer: reqwest::Response) -> Response {
    let status = answer.status();
    let headers: Vec<(HeaderName, HeaderValue)> = answer
        .headers()
        .iter()
        .filter(|(name, _)| !HOP_BY_HOP.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let chunks = futures::stream::unfold(Some(answer), |state| async move {
        let mut answer = state?;
        match answer.chunk().await {
            Ok(Some(bytes)) => Some((Ok(bytes), Some(answer))),
            Ok(None) => None,
            // The instance died mid-answer: the client sees the body break.
            Err(error) => Some((Err(std::io::Error::other(error)), None)),
        }
    });
    let mut response = Response::new(Body::from_stream(chunks.boxed()));
    *response.status_mut() = status;
    for (name, value) in headers {
        response.headers_mut().append(name, value);
    }
    response
}
