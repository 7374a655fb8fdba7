//! Background ingestion: attached files wait `in_progress` while a bounded pool of
//! tokio tasks reads their bytes, extracts text, chunks it and stores the chunks.
//! Requests never wait for it; a restart re-queues whatever was left `in_progress`.
//! With an embeddings upstream and a store that has an embedding model, the chunks are
//! embedded (in batches) before anything is written; chunks and vectors are then
//! written in one transaction, and an upstream that fails after its retries fails the
//! file with `server_error`, so a `completed` file always has all of its vectors.

use std::sync::Arc;

use tokio::sync::Semaphore;
use tracing::Instrument;

use super::chunking::{chunk_text, usage_bytes, Chunking};
use super::extract::extract_text;
use super::model::{LastError, VectorStoreFile};
use crate::embeddings::{EmbedAccess, EmbeddingsClient};
use crate::files::{BlobKey, BlobStore};
use crate::models::VectorStoreFileStatus;
use crate::ops::metrics::IngestMetrics;
use crate::store::vector_stores::{ChunkVectors, IngestedFile};
use crate::store::{Store, StoreError, StoreResult, Tenant};

/// Largest file read for ingestion: the whole text is held in memory while it is
/// chunked, so bigger files fail instead (OpenAI capped files at 5M tokens).
pub const MAX_INGEST_BYTES: u64 = 64 * 1024 * 1024;

/// The ingestion queue.
pub struct Ingestor {
    store: Arc<dyn Store>,
    /// Where the files' bytes are read from.
    data: Arc<dyn BlobStore>,
    /// One permit per concurrent ingestion; `None` when ingestion is paused.
    limit: Option<Arc<Semaphore>>,
    /// The embeddings upstream, when one is configured.
    embeddings: Option<Arc<EmbeddingsClient>>,
    /// Files being ingested and waiting for a worker.
    metrics: IngestMetrics,
}

impl Ingestor {
    /// A queue running up to `workers` ingestions at once; 0 pauses ingestion (files
    /// stay `in_progress` until a server with workers starts on the database).
    pub fn new(store: Arc<dyn Store>, data: Arc<dyn BlobStore>, workers: usize) -> Self {
        Self {
            store,
            data,
            limit: (workers > 0).then(|| Arc::new(Semaphore::new(workers))),
            embeddings: None,
            metrics: IngestMetrics::default(),
        }
    }

    /// The same queue counting its files into `metrics`.
    pub fn with_metrics(mut self, metrics: IngestMetrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// The same queue embedding the chunks of stores that have an embedding model.
    pub fn with_embeddings(mut self, embeddings: Option<Arc<EmbeddingsClient>>) -> Self {
        self.embeddings = embeddings;
        self
    }

    /// Queues `files` (just attached, `in_progress`) of `tenant`, embedded with the
    /// operator's keys only; their tasks log in the span of the request that attached
    /// them.
    pub fn enqueue(&self, tenant: &Tenant, files: Vec<VectorStoreFile>) {
        self.enqueue_with(tenant, files, &EmbedAccess::default());
    }

    /// [`Self::enqueue`] with the attaching request's embedding credentials, held in
    /// memory by the queued tasks only.
    pub fn enqueue_with(&self, tenant: &Tenant, files: Vec<VectorStoreFile>, access: &EmbedAccess) {
        let Some(limit) = &self.limit else { return };
        let embeddings = match (&self.embeddings, *access == EmbedAccess::default()) {
            (Some(client), false) => Some(Arc::new(client.with_access(access.clone()))),
            (client, _) => client.clone(),
        };
        for file in files {
            let (store, data, limit) = (self.store.clone(), self.data.clone(), limit.clone());
            let (tenant, embeddings) = (tenant.clone(), embeddings.clone());
            let waiting = self.metrics.waiting();
            let metrics = self.metrics.clone();
            let task = async move {
                let Ok(_permit) = limit.acquire_owned().await else {
                    return;
                };
                drop(waiting);
                let _active = metrics.active();
                let embeddings = embeddings.as_deref();
                if let Err(error) =
                    ingest(store.as_ref(), data.as_ref(), embeddings, &tenant, file).await
                {
                    tracing::error!(%error, "ingesting a vector store file");
                }
            };
            tokio::spawn(task.in_current_span());
        }
    }

    /// Re-queues every file left `in_progress` (by a server that stopped); how many.
    pub async fn resume(&self) -> StoreResult<usize> {
        let pending = self.store.files_in_progress().await?;
        let count = pending.len();
        for (tenant, file) in pending {
            self.enqueue(&tenant, vec![file]);
        }
        Ok(count)
    }
}

/// Ingests one file; a file cancelled, detached or re-attached meanwhile is left alone.
async fn ingest(
    store: &dyn Store,
    data: &dyn BlobStore,
    embeddings: Option<&EmbeddingsClient>,
    tenant: &Tenant,
    file: VectorStoreFile,
) -> StoreResult<()> {
    let chunking = Chunking::from_json(&file.chunking_strategy);
    let outcome = match store.get_file(tenant, &file.id).await {
        Ok(record) if record.bytes > MAX_INGEST_BYTES => Err(LastError {
            code: "invalid_file".to_owned(),
            message: format!(
                "The file is too large to process: {} bytes, at most {MAX_INGEST_BYTES}.",
                record.bytes
            ),
        }),
        Ok(record) => match data
            .read_all(&BlobKey::file(tenant, &record.id), MAX_INGEST_BYTES)
            .await
        {
            Ok(bytes) => tokio::task::spawn_blocking(move || {
                let text = extract_text(&record.filename, &bytes)?;
                let chunks = chunk_text(&text, chunking);
                Ok((text, chunks))
            })
            .await
            .unwrap_or_else(|_| Err(server_error())),
            Err(error) => {
                tracing::error!(%error, file = %file.id, "reading a file to ingest");
                Err(server_error())
            }
        },
        Err(StoreError::NotFound) => Err(LastError {
            code: "invalid_file".to_owned(),
            message: "The file was deleted before it could be processed.".to_owned(),
        }),
        Err(other) => return Err(other),
    };
    let mut vectors = None;
    let outcome = match outcome {
        Ok((text, chunks)) => {
            match embed_chunks(store, embeddings, tenant, &file, &chunks).await? {
                Ok(embedded) => {
                    vectors = embedded;
                    Ok((text, chunks))
                }
                Err(error) => Err(error),
            }
        }
        Err(error) => Err(error),
    };
    let mut done = IngestedFile {
        file,
        text: None,
        chunks: Vec::new(),
    };
    match outcome {
        Ok((text, chunks)) => {
            done.file.status = VectorStoreFileStatus::Completed;
            done.file.usage_bytes = usage_bytes(&chunks);
            done.text = Some(text);
            done.chunks = chunks;
        }
        Err(error) => {
            done.file.status = VectorStoreFileStatus::Failed;
            done.file.last_error = Some(error);
        }
    }
    match store
        .finish_ingestion_with_vectors(tenant, &done, vectors.as_ref())
        .await
    {
        // Vectors the store refuses (another dimension than its own): the file fails
        // saying so, with nothing written.
        Err(StoreError::Conflict(why)) if vectors.is_some() => {
            tracing::error!(file = %done.file.id, "the store refused the file's vectors: {why}");
            done.file.status = VectorStoreFileStatus::Failed;
            done.file.usage_bytes = 0;
            done.file.last_error = Some(LastError {
                code: "server_error".to_owned(),
                message: format!(
                    "Embedding the file's chunks failed: {why}. A vector store holds vectors \
                     of one model and dimension; create a new vector store for these."
                ),
            });
            done.text = None;
            done.chunks = Vec::new();
            store.finish_ingestion(tenant, &done).await?;
            Ok(())
        }
        other => other.map(|_| ()),
    }
}

/// The vectors of `chunks` when the file's store has an embedding model (`Ok(None)`
/// when it has none, or when no upstream is configured any more: the file is then
/// searched by keywords only); the file's `last_error` when the upstream failed.
async fn embed_chunks(
    store: &dyn Store,
    embeddings: Option<&EmbeddingsClient>,
    tenant: &Tenant,
    file: &VectorStoreFile,
    chunks: &[String],
) -> StoreResult<Result<Option<ChunkVectors>, LastError>> {
    let models = store
        .embedding_models(tenant, std::slice::from_ref(&file.vector_store_id))
        .await?;
    let Some(Some(model)) = models.get(&file.vector_store_id).cloned() else {
        return Ok(Ok(None));
    };
    let Some(embeddings) = embeddings else {
        tracing::warn!(
            file = %file.id,
            %model,
            "no embeddings upstream is configured: the file is ingested for keyword search only"
        );
        return Ok(Ok(None));
    };
    if chunks.is_empty() {
        return Ok(Ok(Some(ChunkVectors {
            model,
            vectors: Vec::new(),
        })));
    }
    match embeddings.embed(&model, chunks.to_vec()).await {
        Ok(vectors) => Ok(Ok(Some(ChunkVectors { model, vectors }))),
        Err(error) => {
            tracing::error!(file = %file.id, %model, "embedding a file's chunks: {}", error.message);
            Ok(Err(LastError {
                code: "server_error".to_owned(),
                message: format!("Embedding the file's chunks failed: {}", error.message),
            }))
        }
    }
}

fn server_error() -> LastError {
    LastError {
        code: "server_error".to_owned(),
        message: "An internal error occurred while processing the file.".to_owned(),
    }
}
