//! The vector store objects as they travel on the wire (2025 key order, recorded by
//! the .NET SDK tests): `vector_store`, `vector_store.file`, the shorter items of a
//! batch's file list, and `vector_store.file_batch`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::models::{FileBatchStatus, JsonMap, VectorStoreFileStatus, VectorStoreStatus};

/// How many files of a store or batch are in each state.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileCounts {
    /// Files still being ingested.
    pub in_progress: i64,
    /// Files ready for search.
    pub completed: i64,
    /// Files whose ingestion failed.
    pub failed: i64,
    /// Files whose ingestion was cancelled (batch cancel).
    pub cancelled: i64,
    /// All files.
    pub total: i64,
}

/// `expires_after` of a vector store: `days` after `last_active_at`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ExpiresAfter {
    /// Always `last_active_at`.
    pub anchor: String,
    /// Days of inactivity before the store expires (1-365).
    pub days: i64,
}

/// A vector store, keys in the recorded 2025 order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VectorStore {
    /// `vs_` + 32 hex.
    pub id: String,
    /// Always `vector_store`.
    pub object: String,
    /// Unix seconds of creation.
    pub created_at: i64,
    /// Optional name.
    pub name: Option<String>,
    /// Optional description.
    pub description: Option<String>,
    /// Sum of its files' usage (computed on read).
    pub usage_bytes: i64,
    /// Its files by state (computed on read).
    pub file_counts: FileCounts,
    /// `expired`, `in_progress` while any file is, else `completed` (computed on read).
    pub status: VectorStoreStatus,
    /// Expiry policy, null when the store never expires.
    pub expires_after: Option<ExpiresAfter>,
    /// When it expires: `last_active_at + days`.
    pub expires_at: Option<i64>,
    /// Last creation, change, attach or search.
    pub last_active_at: i64,
    /// Up to 16 string pairs.
    pub metadata: JsonMap,
}

impl VectorStore {
    /// Recomputes `expires_at` from the policy and `last_active_at`.
    pub fn refresh_expiry(&mut self) {
        self.expires_at = self
            .expires_after
            .as_ref()
            .map(|policy| self.last_active_at + policy.days * 86_400);
    }

    /// Fills the computed fields from the store's files at time `now`.
    pub fn with_counts(mut self, counts: FileCounts, usage_bytes: i64, now: i64) -> Self {
        self.file_counts = counts;
        self.usage_bytes = usage_bytes;
        self.status = if self.expires_at.is_some_and(|at| at <= now) {
            VectorStoreStatus::Expired
        } else if counts.in_progress > 0 {
            VectorStoreStatus::InProgress
        } else {
            VectorStoreStatus::Completed
        };
        self
    }
}

/// Why ingesting a file failed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LastError {
    /// `server_error`, `unsupported_file` or `invalid_file`.
    pub code: String,
    /// Human-readable reason.
    pub message: String,
}

/// A file attached to a vector store; its `id` is the file's id.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VectorStoreFile {
    /// The file's id.
    pub id: String,
    /// Always `vector_store.file`.
    pub object: String,
    /// Bytes the file's chunks take (0 until ingested).
    pub usage_bytes: i64,
    /// Unix seconds of attachment.
    pub created_at: i64,
    /// The store it is attached to.
    pub vector_store_id: String,
    /// Where its ingestion is.
    pub status: VectorStoreFileStatus,
    /// Why it failed, else null.
    pub last_error: Option<LastError>,
    /// The chunking used, always echoed as `static` (auto → 800/400).
    pub chunking_strategy: Value,
    /// Up to 16 string, number or boolean values that search filters read.
    pub attributes: JsonMap,
}

/// An item of a batch's file list: shorter than a [`VectorStoreFile`] (recorded).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BatchFileItem {
    /// The file's id.
    pub id: String,
    /// Always `vector_store.file`.
    pub object: String,
    /// Unix seconds of attachment.
    pub created_at: i64,
    /// The store it is attached to.
    pub vector_store_id: String,
    /// Its ingestion state.
    pub status: VectorStoreFileStatus,
    /// Why it failed, else null.
    pub last_error: Option<LastError>,
}

impl From<VectorStoreFile> for BatchFileItem {
    fn from(file: VectorStoreFile) -> Self {
        Self {
            id: file.id,
            object: file.object,
            created_at: file.created_at,
            vector_store_id: file.vector_store_id,
            status: file.status,
            last_error: file.last_error,
        }
    }
}

/// A file batch; `status` and `file_counts` follow its files.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileBatch {
    /// `vsfb_` + 32 hex.
    pub id: String,
    /// Always `vector_store.file_batch`.
    pub object: String,
    /// Unix seconds of creation.
    pub created_at: i64,
    /// Follows its files, unless cancelled.
    pub status: FileBatchStatus,
    /// The store the batch adds to.
    pub vector_store_id: String,
    /// Its files by state (computed on read).
    pub file_counts: FileCounts,
}

impl FileBatch {
    /// Fills the computed fields; a cancelled batch stays cancelled.
    pub fn with_counts(mut self, counts: FileCounts) -> Self {
        self.file_counts = counts;
        if self.status != FileBatchStatus::Cancelled {
            self.status = if counts.in_progress > 0 {
                FileBatchStatus::InProgress
            } else if counts.total > 0 && counts.failed == counts.total {
                FileBatchStatus::Failed
            } else {
                FileBatchStatus::Completed
            };
        }
        self
    }
}

/// One ranked chunk found by search, before it becomes a result item.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkHit {
    /// The chunk's row id, shared with its vector (fusion joins on it).
    pub chunk_id: i64,
    /// The store the chunk belongs to.
    pub vector_store_id: String,
    /// The file the chunk came from.
    pub file_id: String,
    /// The chunk's text.
    pub text: String,
    /// The bm25 rank from the searched stores' statistics (`vector_stores::bm25`),
    /// negative as FTS5's: lower is better.
    pub bm25: f64,
}

/// One chunk found by its embedding's similarity to a query.
#[derive(Debug, Clone, PartialEq)]
pub struct SimilarChunk {
    /// The chunk's row id, shared with its keyword hit.
    pub chunk_id: i64,
    /// The store the chunk belongs to.
    pub vector_store_id: String,
    /// The file the chunk came from.
    pub file_id: String,
    /// The chunk's text.
    pub text: String,
    /// Cosine similarity to the closest query vector, in [-1, 1].
    pub similarity: f64,
}
