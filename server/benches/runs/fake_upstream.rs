//! A stand-in Chat Completions upstream (axum on 127.0.0.1:0): every
//! `POST /v1/chat/completions` gets the same short streamed answer in OpenAI's SSE
//! format, all chunks written at once, so the first content delta leaves immediately.

use axum::body::{Body, Bytes};
use axum::response::Response;
use axum::Router;
use futures::stream;
use serde_json::json;

use crate::BenchResult;

/// The answer's words, one content chunk each.
const WORDS: &[&str] = &["Sunny", " with", " a", " light", " breeze."];

/// Starts the fake upstream and returns its base URL (`http://127.0.0.1:PORT/v1`).
pub(crate) async fn start() -> BenchResult<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base_url = format!("http://{}/v1", listener.local_addr()?);
    let app = Router::new().route("/v1/chat/completions", axum::routing::post(answer));
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(base_url)
}

/// The streamed answer, whatever was asked.
async fn answer(_request: Bytes) -> Response {
    let chunks: Vec<Result<Bytes, std::io::Error>> = streamed_answer()
        .into_iter()
        .map(|chunk| Ok(Bytes::from(chunk)))
        .collect();
    Response::builder()
        .header("content-type", "text/event-stream; charset=utf-8")
        .body(Body::from_stream(stream::iter(chunks)))
        .expect("static response parts are valid")
}

/// The SSE frames: a role chunk with the first word, the other words, the finish
/// reason, usage, then `[DONE]`.
fn streamed_answer() -> Vec<String> {
    let chunk = |delta: serde_json::Value, finish: Option<&str>| {
        let body = json!({"id": "chatcmpl-bench", "object": "chat.completion.chunk",
            "created": 1_700_000_000, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
        format!("data: {body}\n\n")
    };
    let mut frames = vec![chunk(
        json!({"role": "assistant", "content": WORDS[0]}),
        None,
    )];
    frames.extend(
        WORDS[1..]
            .iter()
            .map(|word| chunk(json!({"content": word}), None)),
    );
    frames.push(chunk(json!({}), Some("stop")));
    let usage = json!({"id": "chatcmpl-bench", "object": "chat.completion.chunk",
        "created": 1_700_000_000, "model": "gpt-4o-mini", "choices": [],
        "usage": {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25}});
    frames.push(format!("data: {usage}\n\n"));
    frames.push("data: [DONE]\n\n".to_owned());
    frames
}
