//! Fake Cohere and Bedrock services for the seed-example SDK test, answering in their
//! documented wire formats and deciding each answer from the request, as a model would:
//! a conversation ending in a tool result is answered with text quoting it, one whose
//! tools include `file_search` calls it with the user's question, any other gets a
//! greeting. Cohere v2: `POST /cohere/v2/chat` streams `message-start`,
//! `content-delta`, `tool-call-start`/`-delta`/`-end`, `message-end`
//! (<https://docs.cohere.com/docs/streaming>, <https://docs.cohere.com/docs/tool-use-streaming>);
//! `POST /cohere/v2/embed` answers `{"embeddings": {"float": [...]}}`
//! (<https://docs.cohere.com/reference/embed>). Bedrock: `POST
//! /bedrock/model/{id}/converse-stream` answers ConverseStream events in the
//! `application/vnd.amazon.eventstream` framing
//! (<https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html>);
//! `POST /bedrock/model/{id}/invoke` answers Titan's `{"embedding", "inputTextTokenCount"}`
//! (<https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-embed-text.html>).
//! Every request is recorded (path, headers, raw body) for the test's checks.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use axum::Router;
use serde_json::{json, Value};
use server::llm::providers::bedrock::eventstream::encode_event;

/// One request the fakes received.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    /// Path and query.
    pub path: String,
    /// Its headers.
    pub headers: HeaderMap,
    /// Its body as sent.
    pub body: Bytes,
}

impl Seen {
    /// The body as JSON.
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// A header as text.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The running fakes.
#[derive(Clone)]
pub(crate) struct Fakes {
    /// `http://127.0.0.1:PORT`.
    pub origin: String,
    /// Everything received, in order.
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl Fakes {
    /// Starts both fakes on one loopback port.
    pub(crate) async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let fakes = Fakes {
            origin: format!("http://{}", listener.local_addr().unwrap()),
            seen: Arc::default(),
        };
        let app = Router::new()
            .route("/cohere/v2/chat", axum::routing::post(cohere_chat))
            .route("/cohere/v2/embed", axum::routing::post(cohere_embed))
            .route("/bedrock/model/{*rest}", axum::routing::post(bedrock))
            .with_state(fakes.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        fakes
    }

    /// The requests whose path starts with `prefix`.
    pub(crate) fn seen(&self, prefix: &str) -> Vec<Seen> {
        let seen = self.seen.lock().unwrap();
        seen.iter()
            .filter(|s| s.path.starts_with(prefix))
            .cloned()
            .collect()
    }

    fn record(&self, uri: &Uri, headers: HeaderMap, body: Bytes) -> Value {
        let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let path = uri.to_string();
        self.seen.lock().unwrap().push(Seen {
            path,
            headers,
            body,
        });
        json
    }
}

/// What the model does next.
enum Turn {
    /// Answers with this text.
    Say(String),
    /// Calls `file_search` with this question.
    Search(String),
}

/// A deterministic unit-free vector of `text`: letter counts folded into 8 slots.
fn vector_of(text: &str) -> Vec<f32> {
    let mut vector = vec![1.0_f32; 8];
    for byte in text
        .to_ascii_lowercase()
        .bytes()
        .filter(u8::is_ascii_lowercase)
    {
        vector[usize::from(byte % 8)] += 1.0;
    }
    vector
}

/// At most 200 characters of a tool result, quoted in the answer.
fn quote(result: &str) -> String {
    let cut: String = result.chars().take(200).collect();
    format!("From your files: {cut}")
}

async fn cohere_chat(
    State(fakes): State<Fakes>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body = fakes.record(&uri, headers, body);
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let last = messages.last().cloned().unwrap_or(Value::Null);
    let offers_search = body["tools"]
        .as_array()
        .is_some_and(|tools| tools.iter().any(|t| t["function"]["name"] == "file_search"));
    let turn = if last["role"] == "tool" {
        Turn::Say(quote(last["content"].as_str().unwrap_or_default()))
    } else if offers_search {
        Turn::Search(last["content"][0]["text"].as_str().unwrap_or("").to_owned())
    } else {
        Turn::Say("Hello from Command R.".to_owned())
    };
    let mut events = vec![
        json!({"type": "message-start", "id": "m1", "delta": {"message": {"role": "assistant"}}}),
    ];
    let reason = match turn {
        Turn::Say(text) => {
            for piece in text.split_inclusive(' ') {
                events.push(json!({"type": "content-delta", "index": 0,
                    "delta": {"message": {"content": {"text": piece}}}}));
            }
            "COMPLETE"
        }
        Turn::Search(question) => {
            let arguments = json!({"queries": [question]}).to_string();
            events.push(
                json!({"type": "tool-call-start", "index": 0, "delta": {"message":
                {"tool_calls": {"id": "file_search_1", "type": "function",
                "function": {"name": "file_search", "arguments": ""}}}}}),
            );
            events.push(
                json!({"type": "tool-call-delta", "index": 0, "delta": {"message":
                {"tool_calls": {"function": {"arguments": arguments}}}}}),
            );
            events.push(json!({"type": "tool-call-end", "index": 0}));
            "TOOL_CALL"
        }
    };
    events.push(
        json!({"type": "message-end", "delta": {"finish_reason": reason,
        "usage": {"tokens": {"input_tokens": 20, "output_tokens": 8}}}}),
    );
    let text: String = events
        .iter()
        .map(|event| {
            format!(
                "event: {}\ndata: {event}\n\n",
                event["type"].as_str().unwrap()
            )
        })
        .collect();
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(text.into())
        .unwrap()
}

async fn cohere_embed(
    State(fakes): State<Fakes>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body = fakes.record(&uri, headers, body);
    let texts: Vec<&str> = body["texts"]
        .as_array()
        .map(|texts| texts.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let vectors: Vec<Vec<f32>> = texts.iter().map(|text| vector_of(text)).collect();
    let answer = json!({"id": "e1", "embeddings": {"float": vectors}, "texts": texts,
        "meta": {"api_version": {"version": "2"}}});
    json_response(&answer)
}

async fn bedrock(
    State(fakes): State<Fakes>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let body = fakes.record(&uri, headers, body);
    if path.ends_with("/invoke") {
        let text = body["inputText"].as_str().unwrap_or_default();
        return json_response(&json!({"embedding": vector_of(text), "inputTextTokenCount": 5}));
    }
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let last = messages.last().cloned().unwrap_or(Value::Null);
    let result = &last["content"][0]["toolResult"];
    let offers_search = body["toolConfig"]["tools"]
        .as_array()
        .is_some_and(|tools| tools.iter().any(|t| t["toolSpec"]["name"] == "file_search"));
    let turn = if !result.is_null() {
        Turn::Say(quote(
            result["content"][0]["text"].as_str().unwrap_or_default(),
        ))
    } else if offers_search {
        Turn::Search(last["content"][0]["text"].as_str().unwrap_or("").to_owned())
    } else {
        Turn::Say("Hello from Llama 2.".to_owned())
    };
    let mut frames = vec![event("messageStart", json!({"role": "assistant"}))];
    let stop = match turn {
        Turn::Say(text) => {
            for piece in text.split_inclusive(' ') {
                frames.push(event(
                    "contentBlockDelta",
                    json!({"contentBlockIndex": 0, "delta": {"text": piece}}),
                ));
            }
            "end_turn"
        }
        Turn::Search(question) => {
            frames.push(event(
                "contentBlockStart",
                json!({"contentBlockIndex": 0,
                "start": {"toolUse": {"toolUseId": "tooluse_fs1", "name": "file_search"}}}),
            ));
            let input = json!({"queries": [question]}).to_string();
            frames.push(event(
                "contentBlockDelta",
                json!({"contentBlockIndex": 0, "delta": {"toolUse": {"input": input}}}),
            ));
            frames.push(event("contentBlockStop", json!({"contentBlockIndex": 0})));
            "tool_use"
        }
    };
    frames.push(event("messageStop", json!({"stopReason": stop})));
    frames.push(event(
        "metadata",
        json!({"usage": {"inputTokens": 20, "outputTokens": 8, "totalTokens": 28}}),
    ));
    Response::builder()
        .header("content-type", "application/vnd.amazon.eventstream")
        .body(frames.concat().into())
        .unwrap()
}

/// A Bedrock event frame.
fn event(kind: &str, payload: Value) -> Vec<u8> {
    encode_event(kind, &payload)
}

fn json_response(value: &Value) -> Response {
    Response::builder()
        .header("content-type", "application/json")
        .body(value.to_string().into())
        .unwrap()
}
