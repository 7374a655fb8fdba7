//! A fake OpenAI-compatible `/embeddings` upstream for the hybrid search tests: axum on
//! 127.0.0.1:0, deterministic vectors (a hashed bag of words after a small synonym
//! table, seeded by the model name so every model has its own vector space; the model
//! `tiny-embed` answers in fewer dimensions), every call recorded, and a switch that
//! makes it answer 500.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use server::embeddings::EmbeddingsConfig;
use server::llm::retry::RetryPolicy;

/// The model of stores created without an `embedding-model` header in these tests.
pub(crate) const DEFAULT_MODEL: &str = "fake-embed";
/// The key the server is configured with.
pub(crate) const UPSTREAM_KEY: &str = "sk-embeddings-upstream";

/// Words that mean the same to the fake model (the first of each pair is replaced).
const SYNONYMS: &[(&str, &str)] = &[
    ("car", "automobile"),
    ("cars", "automobile"),
    ("vehicle", "automobile"),
    ("fix", "repair"),
    ("mend", "repair"),
    ("physician", "doctor"),
    ("medic", "doctor"),
    ("puppy", "dog"),
    ("hound", "dog"),
];
/// Words the fake model ignores, so unrelated texts are nearly orthogonal.
const STOPWORDS: &[&str] = &[
    "the", "a", "an", "my", "your", "of", "and", "to", "for", "at", "in", "on", "is", "how", "do",
    "i", "what", "who", "will",
];

/// One call the upstream received.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    /// The `model` of the body.
    pub model: String,
    /// The `input` strings.
    pub inputs: Vec<String>,
    /// The `authorization` header as received.
    pub authorization: Option<String>,
}

/// The running fake.
#[derive(Clone)]
pub(crate) struct FakeEmbeddings {
    /// `http://127.0.0.1:PORT/v1`.
    pub base_url: String,
    /// Every call, oldest first.
    pub calls: Arc<Mutex<Vec<Call>>>,
    /// While set, every call answers HTTP 500.
    pub failing: Arc<AtomicBool>,
}

#[derive(Clone)]
struct Shared {
    calls: Arc<Mutex<Vec<Call>>>,
    failing: Arc<AtomicBool>,
}

impl FakeEmbeddings {
    /// Starts the fake; it lives as long as the test's runtime.
    pub(crate) async fn start() -> Self {
        let shared = Shared {
            calls: Arc::default(),
            failing: Arc::default(),
        };
        let router = Router::new()
            .route("/v1/embeddings", post(answer))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Self {
            base_url: format!("http://{address}/v1"),
            calls: shared.calls,
            failing: shared.failing,
        }
    }

    /// The server's settings for this upstream: fast retries, one retry.
    pub(crate) fn config(&self) -> EmbeddingsConfig {
        let mut config = EmbeddingsConfig::new(self.base_url.clone());
        config.api_key = Some(UPSTREAM_KEY.to_owned());
        config.default_model = DEFAULT_MODEL.to_owned();
        config.batch_size = 4;
        config.timeout = Duration::from_secs(10);
        config.retry = RetryPolicy {
            max_retries: 1,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
            max_retry_after: Duration::from_millis(2),
        };
        config
    }

    /// Makes every following call fail (or succeed again).
    pub(crate) fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    /// A copy of the calls so far.
    pub(crate) fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }
}

async fn answer(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let model = body["model"].as_str().unwrap_or_default().to_owned();
    let inputs: Vec<String> = match &body["input"] {
        Value::String(text) => vec![text.clone()],
        Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().unwrap_or_default().to_owned())
            .collect(),
        _ => Vec::new(),
    };
    shared.calls.lock().unwrap().push(Call {
        model: model.clone(),
        inputs: inputs.clone(),
        authorization: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    });
    if shared.failing.load(Ordering::SeqCst) {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(
                json!({"error": {"message": "the fake embedder is down", "type": "server_error"}}),
            ),
        );
    }
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(index, text)| json!({"object": "embedding", "index": index, "embedding": embed(&model, text)}))
        .collect();
    (
        StatusCode::OK,
        Json(json!({"object": "list", "data": data, "model": model,
            "usage": {"prompt_tokens": 0, "total_tokens": 0}})),
    )
}

/// The fake model's vector of `text`: each meaningful word (after synonyms) adds 1 at a
/// position hashed from the model and the word, plus a small constant so no vector is zero.
pub(crate) fn embed(model: &str, text: &str) -> Vec<f32> {
    let dimensions = if model == "tiny-embed" { 32 } else { 96 };
    let mut vector = vec![0.0_f32; dimensions];
    vector[0] = 0.05;
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|word| !word.is_empty() && !STOPWORDS.contains(&word.as_str()))
    {
        let word = SYNONYMS
            .iter()
            .find(|(from, _)| *from == word)
            .map_or(word.as_str(), |(_, to)| to);
        vector[1 + (fnv(model, word) % (dimensions as u64 - 1)) as usize] += 1.0;
    }
    vector
}

fn fnv(model: &str, word: &str) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    for byte in model.bytes().chain([0]).chain(word.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}
