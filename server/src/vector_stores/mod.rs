//! Vector stores: the wire objects, ids, ingestion (text extraction, token chunking,
//! a background queue) and retrieval (bm25 from the searched stores' statistics over
//! FTS5's matches, with attribute filters, fused with semantic ranking when an
//! embeddings upstream is configured).

pub mod bm25;
pub mod chunking;
pub mod errors;
pub mod extract;
pub mod filters;
pub mod hybrid;
pub mod ids;
pub mod ingest;
pub mod model;
pub mod search;
pub mod stopwords;
pub mod tokenize;

pub use ingest::Ingestor;
pub use search::{search, search_with, SearchOptions, SearchResult};
