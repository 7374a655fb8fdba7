//! Vector stores: the wire objects, ids, ingestion (text extraction, token chunking,
//! a background queue) and offline retrieval (FTS5 bm25 with attribute filters).

pub mod chunking;
pub mod errors;
pub mod extract;
pub mod filters;
pub mod ids;
pub mod ingest;
pub mod model;
pub mod search;

pub use ingest::Ingestor;
pub use search::{search, SearchOptions, SearchResult};
