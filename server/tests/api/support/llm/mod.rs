//! A scripted fake Chat Completions upstream (axum on port 0; `/v1/messages`,
//! `/v1/chat`, `/v1/models/…`, `/v1/model/…`, `/v1/embed` and `/v1/embeddings` answer
//! the same script, for the native adapters and embeddings routing) for the LLM client
//! tests: each request gets the next scripted [`Reply`] (the last one repeats), and
//! every request body and header is recorded for inspection.

pub(crate) mod offline;
pub(crate) mod recorded;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Router;
use futures::stream::{self, StreamExt};
use serde_json::Value;
use server::llm::retry::RetryPolicy;
use server::llm::{
    ChatEvent, ChatMessage, ChatModel, ChatRequest, LlmError, UpstreamConfig, UpstreamModel,
};
use tokio::sync::Notify;

/// One scripted answer of the fake upstream.
#[derive(Debug, Clone)]
pub(crate) enum Reply {
    /// A status with headers and a body (content type `application/json`).
    Status(u16, Vec<(&'static str, String)>, String),
    /// A 200 `text/event-stream` body sent as these network chunks.
    Sse(Vec<String>),
    /// These chunks, then the connection is cut (no end of the chunked body).
    SseThenCut(Vec<String>),
    /// These chunks, then the connection is cut once the test calls
    /// [`FakeUpstream::cut_now`] (so the client surely received them first).
    SseThenCutOnSignal(Vec<String>),
    /// These chunks, then silence forever.
    SseThenStall(Vec<String>),
    /// These chunks, then a keep-alive comment every 5 ms forever; when the client goes
    /// away and the body is dropped, [`FakeUpstream::closed`] is signalled.
    SseForever(Vec<String>),
    /// A 200 `text/html` page (a base URL pointing at a website).
    Html(String),
    /// A 200 with this content type and these binary network chunks (Bedrock's
    /// event-stream framing).
    Bytes(&'static str, Vec<Vec<u8>>),
    /// No answer at all (not even headers).
    Silence,
}

/// A running fake upstream.
#[derive(Clone)]
pub(crate) struct FakeUpstream {
    /// `http://127.0.0.1:PORT/v1`.
    pub base_url: String,
    /// Requests received so far (headers and parsed JSON body).
    pub requests: Arc<Mutex<Vec<(HeaderMap, Value)>>>,
    /// The path and query of each request, in the same order.
    pub paths: Arc<Mutex<Vec<String>>>,
    /// Signalled when a [`Reply::SseForever`] body is dropped (the client disconnected).
    pub closed: Arc<Notify>,
    /// Set together with `closed`.
    pub was_closed: Arc<AtomicBool>,
    cut: Arc<Notify>,
    script: Arc<Vec<Reply>>,
    served: Arc<AtomicUsize>,
}

impl FakeUpstream {
    /// Starts a fake upstream answering with `script`.
    pub(crate) async fn start(script: Vec<Reply>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let fake = FakeUpstream {
            base_url: format!("http://{address}/v1"),
            requests: Arc::default(),
            paths: Arc::default(),
            closed: Arc::default(),
            was_closed: Arc::default(),
            cut: Arc::default(),
            script: Arc::new(script),
            served: Arc::default(),
        };
        let app = Router::new()
            .route("/v1/chat/completions", axum::routing::post(answer))
            .route("/v1/messages", axum::routing::post(answer))
            .route("/v1/chat", axum::routing::post(answer))
            .route("/v1/embed", axum::routing::post(answer))
            .route("/v1/embeddings", axum::routing::post(answer))
            .route("/v1/models/{*method}", axum::routing::post(answer))
            .route("/v1/model/{*method}", axum::routing::post(answer))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        fake
    }

    /// Cuts a [`Reply::SseThenCutOnSignal`] connection.
    pub(crate) fn cut_now(&self) {
        self.cut.notify_one();
    }

    /// How many requests arrived.
    pub(crate) fn hits(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    /// The JSON body of request `n` (from 0).
    pub(crate) fn body(&self, n: usize) -> Value {
        self.requests.lock().unwrap()[n].1.clone()
    }

    /// A header of request `n`.
    pub(crate) fn header(&self, n: usize, name: &str) -> Option<String> {
        let requests = self.requests.lock().unwrap();
        requests[n]
            .0
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }

    /// Client settings for this upstream: tiny backoff, generous timeouts.
    pub(crate) fn config(&self) -> UpstreamConfig {
        UpstreamConfig {
            base_url: self.base_url.clone(),
            api_key: Some("sk-test".into()),
            retry: RetryPolicy {
                max_retries: 2,
                initial_backoff: Duration::from_millis(1),
                max_backoff: Duration::from_millis(5),
                max_retry_after: Duration::from_secs(5),
            },
            idle_timeout: Duration::from_secs(30),
            overall_timeout: Duration::from_secs(60),
            ..UpstreamConfig::default()
        }
    }
}

/// Signals the fake when a forever-body is dropped.
struct DropSignal(Arc<Notify>, Arc<AtomicBool>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        self.1.store(true, Ordering::SeqCst);
        self.0.notify_one();
    }
}

async fn answer(
    State(fake): State<FakeUpstream>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    fake.paths.lock().unwrap().push(uri.to_string());
    fake.requests.lock().unwrap().push((headers, json));
    let n = fake.served.fetch_add(1, Ordering::SeqCst);
    let reply = fake.script[n.min(fake.script.len() - 1)].clone();
    let sse = |body: Body| {
        Response::builder()
            .header("content-type", "text/event-stream; charset=utf-8")
            .body(body)
            .unwrap()
    };
    let chunks =
        |chunks: Vec<String>| stream::iter(chunks).map(|c| Ok::<_, std::io::Error>(Bytes::from(c)));
    match reply {
        Reply::Status(status, extra, text) => {
            let mut response = Response::builder()
                .status(StatusCode::from_u16(status).unwrap())
                .header("content-type", "application/json");
            for (name, value) in extra {
                response = response.header(name, value);
            }
            response.body(Body::from(text)).unwrap()
        }
        Reply::Sse(parts) => sse(Body::from_stream(chunks(parts))),
        Reply::SseThenCut(parts) => {
            let cut = stream::once(async { Err(std::io::Error::other("cut")) });
            sse(Body::from_stream(chunks(parts).chain(cut)))
        }
        Reply::SseThenCutOnSignal(parts) => {
            let signal = fake.cut.clone();
            let cut = stream::once(async move {
                signal.notified().await;
                Err(std::io::Error::other("cut"))
            });
            sse(Body::from_stream(chunks(parts).chain(cut)))
        }
        Reply::SseThenStall(parts) => {
            sse(Body::from_stream(chunks(parts).chain(stream::pending())))
        }
        Reply::SseForever(parts) => {
            let guard = Arc::new(DropSignal(fake.closed.clone(), fake.was_closed.clone()));
            let keep_alive = stream::unfold(guard, |guard| async move {
                tokio::time::sleep(Duration::from_millis(5)).await;
                Some((
                    Ok::<_, std::io::Error>(Bytes::from_static(b": keep-alive\n\n")),
                    guard,
                ))
            });
            sse(Body::from_stream(chunks(parts).chain(keep_alive)))
        }
        Reply::Bytes(content_type, parts) => {
            let parts = stream::iter(parts).map(|c| Ok::<_, std::io::Error>(Bytes::from(c)));
            Response::builder()
                .header("content-type", content_type)
                .body(Body::from_stream(parts))
                .unwrap()
        }
        Reply::Html(page) => Response::builder()
            .header("content-type", "text/html; charset=utf-8")
            .body(Body::from(page))
            .unwrap(),
        Reply::Silence => {
            std::future::pending::<()>().await;
            unreachable!()
        }
    }
}

/// A streamed chunk with a text delta, OpenAI style.
pub(crate) fn text_chunk(text: &str) -> String {
    let chunk = serde_json::json!({"id": "chatcmpl-x", "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]});
    format!("data: {chunk}\n\n")
}

/// The chunk carrying a finish reason.
pub(crate) fn finish_chunk(reason: &str) -> String {
    let chunk = serde_json::json!({"id": "chatcmpl-x", "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {}, "finish_reason": reason}]});
    format!("data: {chunk}\n\n")
}

/// The usage chunk.
pub(crate) fn usage_chunk(prompt: u32, completion: u32) -> String {
    let chunk = serde_json::json!({"id": "chatcmpl-x", "object": "chat.completion.chunk", "choices": [],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                  "total_tokens": prompt + completion,
                  "prompt_tokens_details": {"cached_tokens": 2},
                  "completion_tokens_details": {"reasoning_tokens": 1}}});
    format!("data: {chunk}\n\n")
}

/// A complete streamed answer `Hello world` with usage 5/2.
pub(crate) fn hello_stream() -> Vec<String> {
    vec![
        text_chunk("Hello"),
        text_chunk(" world"),
        finish_chunk("stop"),
        usage_chunk(5, 2),
        "data: [DONE]\n\n".into(),
    ]
}

/// A small plain conversation.
pub(crate) fn hello_request() -> ChatRequest {
    ChatRequest {
        model: "gpt-4o-mini".into(),
        messages: vec![
            ChatMessage::system("Be brief."),
            ChatMessage::user("Hello, world!"),
        ],
        ..ChatRequest::default()
    }
}

/// A client for `config`.
pub(crate) fn model(config: UpstreamConfig) -> UpstreamModel {
    UpstreamModel::new(config).unwrap()
}

/// Every item of one streamed call.
pub(crate) async fn events_of(
    model: &UpstreamModel,
    request: ChatRequest,
) -> Vec<Result<ChatEvent, LlmError>> {
    model.stream(request).await.unwrap().collect().await
}
