//! Storage of vector stores, their files, file batches and the searchable chunks.
//! Counts, usage and statuses of stores and batches are computed from the file rows
//! on every read, so they can never disagree with the files.

use std::collections::HashMap;

use async_trait::async_trait;

use super::{LeaseHolder, Page, PageRequest, StoreResult, Tenant};
use crate::models::VectorStoreFileStatus;
use crate::vector_stores::model::{FileBatch, SimilarChunk, VectorStore, VectorStoreFile};

/// How an ingestion ended, written together with the chunks.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestedFile {
    /// The file as it now is (`completed` or `failed`, with usage).
    pub file: VectorStoreFile,
    /// The extracted text, when extraction worked.
    pub text: Option<String>,
    /// The chunks search will rank.
    pub chunks: Vec<String>,
}

/// The embeddings of an ingested file's chunks, written with them.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkVectors {
    /// The model that made them (the store's model).
    pub model: String,
    /// One unit-length vector per chunk, in chunk order.
    pub vectors: Vec<Vec<f32>>,
}

/// What a semantic search compares the chunks with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimilarityQuery<'a> {
    /// Only vectors of this model are compared.
    pub model: &'a str,
    /// Unit-length query vectors; a chunk's similarity is its best over them.
    pub vectors: &'a [Vec<f32>],
    /// How many of the most similar chunks to return.
    pub limit: usize,
    /// Chunks (by id) whose similarity is wanted even outside the best `limit`
    /// (the keyword hits, so fusion knows both of their scores).
    pub also: &'a [i64],
}

/// Which chunks a search may look at.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkScope<'a> {
    /// The stores searched.
    pub vector_store_ids: &'a [String],
    /// When attribute filters apply: the `(vector_store_id, file_id)` pairs that passed.
    pub files: Option<&'a [(String, String)]>,
}

/// What bm25 needs to know of the searched stores besides the matches: their size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeywordStats {
    /// Chunks in the stores (bm25's N, for idf).
    pub chunks: u64,
    /// Words in those chunks (with `chunks`, the average chunk length).
    pub words: u64,
}

/// A chunk holding a query term, with what bm25 needs of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermMatch {
    /// The chunk's id (shared with its vector and text).
    pub chunk_id: i64,
    /// The store the chunk belongs to.
    pub vector_store_id: String,
    /// The file the chunk came from (attribute filters select by it).
    pub file_id: String,
    /// How often the term occurs in the chunk (at least 1).
    pub tf: u32,
    /// The chunk's length, counted as `bm25::word_count` counts it.
    pub words: u32,
}

/// Which `in_progress` files an ingestion claim takes (see [`VectorStoreStore::claim_ingestion`]).
#[derive(Debug, Clone, Copy)]
pub enum IngestionClaim<'a> {
    /// These attachments of `tenant`, just written by the claiming instance, unless
    /// another instance claimed them first.
    Attached {
        /// Their tenant.
        tenant: &'a Tenant,
        /// The attachments (by store and file id).
        files: &'a [VectorStoreFile],
    },
    /// Up to `limit` files nobody ingests, of any tenant, oldest first.
    Oldest {
        /// How many at most (the claiming instance's free workers).
        limit: usize,
    },
}

/// One attachment, as leases name it: store ids are unique across tenants.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttachmentKey {
    /// The vector store.
    pub vector_store_id: String,
    /// The file.
    pub file_id: String,
}

impl AttachmentKey {
    /// The key of `file`'s attachment.
    pub fn of(file: &VectorStoreFile) -> Self {
        Self {
            vector_store_id: file.vector_store_id.clone(),
            file_id: file.id.clone(),
        }
    }
}

/// Vector stores, their files and batches.
#[async_trait]
pub trait VectorStoreStore: Send + Sync {
    /// Stores a new vector store with the files it starts with, all or nothing, keyword
    /// search only.
    async fn insert_vector_store(
        &self,
        tenant: &Tenant,
        store: &VectorStore,
        files: &[VectorStoreFile],
    ) -> StoreResult<()> {
        self.insert_vector_store_embedded(tenant, store, files, None)
            .await
    }
    /// [`Self::insert_vector_store`] recording the store's embedding model (kept
    /// beside the document, never on the wire); `None` means keyword search only.
    async fn insert_vector_store_embedded(
        &self,
        tenant: &Tenant,
        store: &VectorStore,
        files: &[VectorStoreFile],
        embedding_model: Option<&str>,
    ) -> StoreResult<()>;
    /// The embedding model of each of the tenant's `ids` that exists (`None`: the store
    /// ranks by keywords only); other tenants' and unknown ids are absent.
    async fn embedding_models(
        &self,
        tenant: &Tenant,
        ids: &[String],
    ) -> StoreResult<HashMap<String, Option<String>>>;
    /// One store with its computed fields at `now`; `NotFound` if absent.
    async fn get_vector_store(
        &self,
        tenant: &Tenant,
        id: &str,
        now: i64,
    ) -> StoreResult<VectorStore>;
    /// Replaces a store's own fields (name, metadata, activity...); `NotFound` if absent.
    async fn update_vector_store(&self, tenant: &Tenant, store: &VectorStore) -> StoreResult<()>;
    /// Deletes a store with its files, batches and chunks; `NotFound` if absent.
    async fn delete_vector_store(&self, tenant: &Tenant, id: &str) -> StoreResult<()>;
    /// One page of the tenant's stores with computed fields at `now`.
    async fn list_vector_stores(
        &self,
        tenant: &Tenant,
        page: &PageRequest,
        now: i64,
    ) -> StoreResult<Page<VectorStore>>;

    /// Attaches files (re-attaching replaces the old attachment and its chunks), with
    /// the batch that attaches them if any, all or nothing.
    async fn attach_files(
        &self,
        tenant: &Tenant,
        files: &[VectorStoreFile],
        batch: Option<&FileBatch>,
    ) -> StoreResult<()>;
    /// One attached file; `NotFound` if absent.
    async fn get_vector_store_file(
        &self,
        tenant: &Tenant,
        vector_store_id: &str,
        file_id: &str,
    ) -> StoreResult<VectorStoreFile>;
    /// Replaces an attached file's document (attributes); `NotFound` if absent.
    async fn update_vector_store_file(
        &self,
        tenant: &Tenant,
        file: &VectorStoreFile,
    ) -> StoreResult<()>;
    /// Records an ingestion's end and its chunks, only if the file is still
    /// `in_progress` (not cancelled, deleted or re-attached meanwhile); whether it was.
    async fn finish_ingestion(&self, tenant: &Tenant, done: &IngestedFile) -> StoreResult<bool> {
        self.finish_ingestion_with_vectors(tenant, done, None).await
    }
    /// [`Self::finish_ingestion`] writing the chunks' vectors in the same transaction.
    /// The first vectors written to a store record its dimension; vectors of another
    /// dimension are refused with `Conflict` (nothing written), so a store never mixes
    /// vector spaces.
    async fn finish_ingestion_with_vectors(
        &self,
        tenant: &Tenant,
        done: &IngestedFile,
        vectors: Option<&ChunkVectors>,
    ) -> StoreResult<bool> {
        self.finish_held_ingestion(tenant, done, vectors, None)
            .await
    }
    /// [`Self::finish_ingestion_with_vectors`] by the instance ingesting the file:
    /// with `Some(holder)`, only while `holder` still holds the file's ingestion lease
    /// (an instance that took the file over does the writing instead). Releases the
    /// lease in the same write.
    async fn finish_held_ingestion(
        &self,
        tenant: &Tenant,
        done: &IngestedFile,
        vectors: Option<&ChunkVectors>,
        holder: Option<&LeaseHolder>,
    ) -> StoreResult<bool>;
    /// Takes the ingestion lease of the `in_progress` files in `claim` that nobody
    /// ingests (no lease, a lease that ran out, or one of an earlier life of `holder`'s
    /// instance) for `lease_ms`, atomically: of instances claiming at once, each file
    /// goes to one. Returns the files taken as they are now stored.
    async fn claim_ingestion(
        &self,
        holder: &LeaseHolder,
        lease_ms: i64,
        claim: IngestionClaim<'_>,
    ) -> StoreResult<Vec<(Tenant, VectorStoreFile)>>;
    /// Extends the ingestion leases `holder` holds on `files` (still `in_progress`) to
    /// `lease_ms` from now; how many it extended.
    async fn renew_ingestion(
        &self,
        holder: &LeaseHolder,
        files: &[AttachmentKey],
        lease_ms: i64,
    ) -> StoreResult<u64>;
    /// Releases every ingestion lease `holder` holds, so other instances claim those
    /// files at once (graceful shutdown); how many.
    async fn release_ingestion(&self, holder: &LeaseHolder) -> StoreResult<u64>;
    /// Detaches a file and drops its chunks; `NotFound` if absent.
    async fn delete_vector_store_file(
        &self,
        tenant: &Tenant,
        vector_store_id: &str,
        file_id: &str,
    ) -> StoreResult<()>;
    /// One page of a store's files, optionally of one batch and/or one status.
    async fn list_vector_store_files(
        &self,
        tenant: &Tenant,
        vector_store_id: &str,
        batch_id: Option<&str>,
        status: Option<VectorStoreFileStatus>,
        page: &PageRequest,
    ) -> StoreResult<Page<VectorStoreFile>>;
    /// Every completed file of the given stores (search filters read their attributes).
    async fn completed_files(
        &self,
        tenant: &Tenant,
        vector_store_ids: &[String],
    ) -> StoreResult<Vec<VectorStoreFile>>;
    /// The extracted text of an attached file (None until ingested).
    async fn vector_store_file_text(
        &self,
        tenant: &Tenant,
        vector_store_id: &str,
        file_id: &str,
    ) -> StoreResult<Option<String>>;
    /// Every file of any tenant still waiting for ingestion, whoever ingests it.
    async fn files_in_progress(&self) -> StoreResult<Vec<(Tenant, VectorStoreFile)>>;

    /// One batch with its computed fields; `NotFound` if absent.
    async fn get_file_batch(
        &self,
        tenant: &Tenant,
        vector_store_id: &str,
        batch_id: &str,
    ) -> StoreResult<FileBatch>;
    /// Marks the batch cancelled and its pending files `cancelled`; `NotFound` if absent.
    async fn cancel_file_batch(
        &self,
        tenant: &Tenant,
        vector_store_id: &str,
        batch_id: &str,
    ) -> StoreResult<()>;

    /// The number of chunks and words in the tenant's `vector_store_ids` (bm25's
    /// statistics, from those stores alone).
    async fn keyword_stats(
        &self,
        tenant: &Tenant,
        vector_store_ids: &[String],
    ) -> StoreResult<KeywordStats>;
    /// Every chunk of the tenant's `vector_store_ids` holding `word` (as the backend's
    /// full-text index matches it: stemmed, case-folded), with its frequency there.
    async fn term_matches(
        &self,
        tenant: &Tenant,
        vector_store_ids: &[String],
        word: &str,
    ) -> StoreResult<Vec<TermMatch>>;
    /// The text of each of the tenant's chunks `chunk_ids` (other tenants' are absent).
    async fn chunk_texts(
        &self,
        tenant: &Tenant,
        chunk_ids: &[i64],
    ) -> StoreResult<HashMap<i64, String>>;

    /// The chunks within `scope` whose `query.model` vectors are most similar to the
    /// query, best first (at most `query.limit`, plus any of `query.also` that have a
    /// vector); compared by brute force over the scoped vectors.
    async fn similar_chunks(
        &self,
        tenant: &Tenant,
        scope: &ChunkScope<'_>,
        query: &SimilarityQuery<'_>,
    ) -> StoreResult<Vec<SimilarChunk>>;
}

#[cfg(test)]
#[path = "ingestion_lease_tests.rs"]
mod ingestion_lease_tests;
