//! The optional embeddings upstream behind hybrid vector store search.
//!
//! With `--embeddings-base-url` (or `--embeddings-api-key`) set, every vector store
//! created from then on records an embedding model (the request's `embedding-model`
//! header, else `--embeddings-model`); ingestion embeds its chunks with that model
//! and search embeds the query with it, so one store never mixes vector spaces.
//! Without it nothing here runs and retrieval is keyword-only, with no network. With a
//! routing table ([`routing`]), a store's model may name another provider
//! (`cohere/embed-english-v3.0`, `amazon.titan-embed-text-v2:0`).

pub mod access;
pub mod bedrock;
pub mod client;
pub mod config;
pub mod routing;
pub mod vectors;

pub use access::EmbedAccess;
pub use client::EmbeddingsClient;
pub use config::{EmbeddingsArgs, EmbeddingsConfig, DEFAULT_EMBEDDING_MODEL};
pub use routing::Purpose;

/// The request header naming a store's embedding model (the seed service's name).
pub const EMBEDDING_MODEL_HEADER: &str = "embedding-model";
/// Longest model name accepted from the header.
pub const MAX_MODEL_NAME_CHARS: usize = 256;
