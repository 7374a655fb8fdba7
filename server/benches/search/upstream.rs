//! Hybrid search's moving parts for the bench: the seeded unit vectors written for
//! every chunk, and a local OpenAI-compatible `/embeddings` server (axum on
//! 127.0.0.1:0 in this process) that answers every input with one fixed seeded
//! vector, so the timed call is the real `search_with` path: query embedded over
//! loopback HTTP by `EmbeddingsClient`, then compared by brute force with the stored
//! vectors.

use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use server::embeddings::{EmbeddingsClient, EmbeddingsConfig};
use tokio::sync::oneshot;

use crate::corpus::Rng;

/// The model every benchmark store records (OpenAI's default, 1536 dimensions).
pub(crate) const MODEL: &str = "text-embedding-3-small";

/// What the hybrid cases need: the vectors' size and the seed they come from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Vectors {
    /// Dimensions of every vector (`BENCH_HYBRID_DIMS`; 1536 as the model's).
    pub dimensions: usize,
    /// Seed of the chunk vectors and of the query vector.
    pub seed: u64,
}

impl Vectors {
    /// A seeded unit vector: components uniform in [-1, 1), scaled to length 1.
    pub(crate) fn unit(&self, rng: &mut Rng) -> Vec<f32> {
        let raw: Vec<f64> = (0..self.dimensions)
            .map(|_| rng.unit() * 2.0 - 1.0)
            .collect();
        let norm = raw
            .iter()
            .map(|x| x * x)
            .sum::<f64>()
            .sqrt()
            .max(f64::MIN_POSITIVE);
        raw.iter().map(|x| (x / norm) as f32).collect()
    }

    /// The fixed vector the fake upstream answers with.
    fn query(&self) -> Vec<f32> {
        self.unit(&mut Rng::new(self.seed ^ 0x0E3B_ED00))
    }
}

/// A running fake upstream and the client pointed at it; stops when dropped.
pub(crate) struct FakeUpstream {
    /// The server's own client, as search uses it.
    pub client: EmbeddingsClient,
    /// Dropping it shuts the server down.
    _stop: oneshot::Sender<()>,
}

/// Starts the fake `/embeddings` server on a free loopback port.
pub(crate) async fn start(
    vectors: Vectors,
) -> Result<FakeUpstream, Box<dyn std::error::Error + Send + Sync>> {
    let embedding = json!(vectors.query());
    let app = Router::new().route(
        "/v1/embeddings",
        post(move |Json(body): Json<Value>| {
            let embedding = embedding.clone();
            async move {
                let inputs = match &body["input"] {
                    Value::Array(items) => items.len(),
                    _ => 1,
                };
                let data: Vec<Value> = (0..inputs)
                    .map(|index| json!({"object": "embedding", "index": index, "embedding": embedding}))
                    .collect();
                Json(json!({
                    "object": "list",
                    "data": data,
                    "model": body["model"],
                    "usage": {"prompt_tokens": 0, "total_tokens": 0}
                }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    let client = EmbeddingsClient::new(EmbeddingsConfig::new(format!("http://{address}/v1")))
        .map_err(|error| error.message)?;
    Ok(FakeUpstream {
        client,
        _stop: stop,
    })
}
