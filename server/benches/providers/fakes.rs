//! One loopback server speaking each provider family's streamed answer, written whole
//! at once so the measured time is the client's: Chat Completions chunks
//! (`/openai/v1/chat/completions`), Anthropic Messages events (`/anthropic/v1/messages`),
//! Gemini `streamGenerateContent` chunks (`/gemini/v1beta/models/…`), Cohere v2 chat
//! events (`/cohere/v2/chat`) and Bedrock ConverseStream event-stream frames
//! (`/bedrock/model/…`). Each answer is "Hello world" in two deltas.

use axum::body::Body;
use axum::response::Response;
use axum::routing::MethodRouter;
use axum::Router;
use serde_json::{json, Value};
use server::llm::providers::bedrock::eventstream::encode_event;

/// Starts the fakes; their origin, `http://127.0.0.1:PORT`.
pub(crate) async fn start() -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let origin = format!("http://{}", listener.local_addr()?);
    let sse = "text/event-stream";
    let app = Router::new()
        .route("/openai/v1/chat/completions", reply(sse, openai_body()))
        .route("/anthropic/v1/messages", reply(sse, anthropic_body()))
        .route("/gemini/v1beta/models/{*method}", reply(sse, gemini_body()))
        .route("/cohere/v2/chat", reply(sse, cohere_body()))
        .route(
            "/bedrock/model/{*method}",
            reply("application/vnd.amazon.eventstream", bedrock_body()),
        );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(origin)
}

/// A POST route answering `body` as `content_type`.
fn reply<B>(content_type: &'static str, body: B) -> MethodRouter
where
    B: Into<Body> + Clone + Send + Sync + 'static,
{
    axum::routing::post(move || {
        let body = body.clone();
        async move {
            Response::builder()
                .header("content-type", content_type)
                .body(body.into())
                .unwrap()
        }
    })
}

fn data(events: &[Value]) -> String {
    events.iter().map(|e| format!("data: {e}\n\n")).collect()
}

fn typed(events: &[Value]) -> String {
    events
        .iter()
        .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap()))
        .collect()
}

fn openai_body() -> String {
    let delta = |text: &str| {
        json!({"id": "c", "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]})
    };
    let finish = json!({"id": "c", "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]});
    data(&[delta("Hello"), delta(" world"), finish]) + "data: [DONE]\n\n"
}

fn anthropic_body() -> String {
    let delta = |text: &str| {
        json!({"type": "content_block_delta", "index": 0,
            "delta": {"type": "text_delta", "text": text}})
    };
    typed(&[
        json!({"type": "message_start", "message": {"id": "msg_1", "type": "message",
            "role": "assistant", "content": [], "usage": {"input_tokens": 9, "output_tokens": 1}}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        delta("Hello"),
        delta(" world"),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 2}}),
        json!({"type": "message_stop"}),
    ])
}

fn gemini_body() -> String {
    let chunk = |text: &str, finish: Option<&str>| {
        let mut candidate =
            json!({"content": {"parts": [{"text": text}], "role": "model"}, "index": 0});
        if let Some(reason) = finish {
            candidate["finishReason"] = json!(reason);
        }
        json!({"candidates": [candidate], "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 2}})
    };
    data(&[chunk("Hello", None), chunk(" world", Some("STOP"))])
}

fn cohere_body() -> String {
    let delta = |text: &str| {
        json!({"type": "content-delta", "index": 0,
            "delta": {"message": {"content": {"text": text}}}})
    };
    typed(&[
        json!({"type": "message-start", "id": "m1", "delta": {"message": {"role": "assistant"}}}),
        delta("Hello"),
        delta(" world"),
        json!({"type": "message-end", "delta": {"finish_reason": "COMPLETE",
            "usage": {"tokens": {"input_tokens": 9, "output_tokens": 2}}}}),
    ])
}

/// A Bedrock event frame.
fn frame(kind: &str, payload: Value) -> Vec<u8> {
    encode_event(kind, &payload)
}

fn bedrock_body() -> Vec<u8> {
    let delta = |text: &str| {
        frame(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": text}}),
        )
    };
    [
        frame("messageStart", json!({"role": "assistant"})),
        delta("Hello"),
        delta(" world"),
        frame("messageStop", json!({"stopReason": "end_turn"})),
        frame(
            "metadata",
            json!({"usage": {"inputTokens": 9, "outputTokens": 2, "totalTokens": 11}}),
        ),
    ]
    .concat()
}
