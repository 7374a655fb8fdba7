//! Background ingestion: attached files wait `in_progress` while a bounded pool of
//! tokio tasks reads their bytes, extracts text, chunks it and stores the chunks.
//! Requests never wait for it. With an embeddings upstream and a store that has an
//! embedding model, the chunks are embedded (in batches) before anything is written;
//! chunks and vectors are then written in one transaction, and an upstream that fails
//! after its retries fails the file with `server_error`, so a `completed` file always
//! has all of its vectors.
//!
//! Several instances on one database share the files as they share runs: a file is
//! ingested by the one process holding its ingestion lease ([`leases`]). The instance
//! that attaches files claims them right after the attaching write, renews the leases
//! while it works, and the write that records the ingestion's end releases the lease,
//! only if this process still holds it. Files nobody holds (attached while no instance
//! had workers, left by an instance that died) are claimed at start and by a sweep.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::Semaphore;
use tracing::Instrument;

mod leases;

use super::chunking::{chunk_text, usage_bytes, Chunking};
use super::extract::extract_text;
use super::model::{LastError, VectorStoreFile};
use crate::embeddings::{EmbedAccess, EmbeddingsClient};
use crate::files::{BlobKey, BlobStore};
use crate::models::VectorStoreFileStatus;
use crate::ops::metrics::IngestMetrics;
use crate::runs::instance::InstanceConfig;
use crate::store::vector_stores::{AttachmentKey, ChunkVectors, IngestedFile, IngestionClaim};
use crate::store::{LeaseHolder, Store, StoreError, StoreResult, Tenant};
use leases::Held;

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
    /// How many ingestions run at once: claims take no more files than this leaves room
    /// for, so files wait where a worker is free rather than queued here.
    workers: usize,
    /// The embeddings upstream, when one is configured.
    embeddings: Option<Arc<EmbeddingsClient>>,
    /// Files being ingested and waiting for a worker.
    metrics: IngestMetrics,
    /// The lease holder this process writes, and the lease length and sweep period.
    instance: InstanceConfig,
    /// The files this process holds leases on (queued or being ingested).
    held: Arc<Held>,
    /// Set once the process stopped ingesting (it died, or handed its files back).
    stopped: AtomicBool,
}

impl Ingestor {
    /// A queue running up to `workers` ingestions at once; 0 pauses ingestion (files
    /// stay `in_progress` until a server with workers starts on the database).
    pub fn new(store: Arc<dyn Store>, data: Arc<dyn BlobStore>, workers: usize) -> Self {
        Self {
            store,
            data,
            limit: (workers > 0).then(|| Arc::new(Semaphore::new(workers))),
            workers,
            embeddings: None,
            metrics: IngestMetrics::default(),
            instance: InstanceConfig::default(),
            held: Arc::new(Held::default()),
            stopped: AtomicBool::new(false),
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

    /// The same queue leasing files as `instance` (the process's run engine's: one
    /// holder per process), with its lease length (`--run-lease-secs`) and sweep period.
    pub fn with_instance(mut self, instance: InstanceConfig) -> Self {
        self.instance = instance;
        self
    }

    /// Claims and queues `files` (just attached, `in_progress`) of `tenant`, embedded
    /// with the operator's keys only; their tasks log in the span of the request that
    /// attached them.
    pub async fn enqueue(&self, tenant: &Tenant, files: Vec<VectorStoreFile>) {
        self.enqueue_with(tenant, files, &EmbedAccess::default())
            .await;
    }

    /// [`Self::enqueue`] with the attaching request's embedding credentials, held in
    /// memory by the queued tasks only. Called right after the write that attached the
    /// files: it takes their leases, so no other instance ingests them too (one that
    /// claimed a file in between ingests it instead). A claim that fails is logged, and
    /// the files are left to the sweeps of the instances.
    pub async fn enqueue_with(
        &self,
        tenant: &Tenant,
        files: Vec<VectorStoreFile>,
        access: &EmbedAccess,
    ) {
        if self.limit.is_none() || files.is_empty() || self.stopped.load(Ordering::SeqCst) {
            return;
        }
        let claim = IngestionClaim::Attached {
            tenant,
            files: &files,
        };
        let claimed = match self
            .store
            .claim_ingestion(&self.instance.holder, self.instance.lease_ms(), claim)
            .await
        {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::error!(%error, "claiming attached files for ingestion; left to the sweeps");
                return;
            }
        };
        let embeddings = match (&self.embeddings, *access == EmbedAccess::default()) {
            (Some(client), false) => Some(Arc::new(client.with_access(access.clone()))),
            (client, _) => client.clone(),
        };
        for (tenant, file) in claimed {
            self.spawn(tenant, file, embeddings.clone());
        }
    }

    /// Claims files nobody ingests (left `in_progress` by a server that stopped or
    /// died, or attached while no instance had workers), as many as there are free
    /// workers, and queues them; how many.
    pub async fn resume(&self) -> StoreResult<usize> {
        let free = self.free_workers();
        if free == 0 {
            return Ok(0);
        }
        let claim = IngestionClaim::Oldest { limit: free };
        let claimed = self
            .store
            .claim_ingestion(&self.instance.holder, self.instance.lease_ms(), claim)
            .await?;
        let mut queued = 0;
        for (tenant, file) in claimed {
            // A file ingested here whose lease ran out (renewals failed) and was claimed
            // back: its task goes on.
            if !self.held.contains(&file) {
                self.spawn(tenant, file, self.embeddings.clone());
                queued += 1;
            }
        }
        Ok(queued)
    }

    /// Workers no held file waits for (0 when paused or stopped).
    fn free_workers(&self) -> usize {
        if self.limit.is_none() || self.stopped.load(Ordering::SeqCst) {
            return 0;
        }
        self.workers.saturating_sub(self.held.len())
    }

    /// Starts the task ingesting `file`, which this process holds the lease of.
    fn spawn(
        &self,
        tenant: Tenant,
        file: VectorStoreFile,
        embeddings: Option<Arc<EmbeddingsClient>>,
    ) {
        let Some(limit) = &self.limit else { return };
        let (store, data, limit) = (self.store.clone(), self.data.clone(), limit.clone());
        let holder = self.instance.holder.clone();
        let waiting = self.metrics.waiting();
        let metrics = self.metrics.clone();
        let (key, created_at) = (AttachmentKey::of(&file), file.created_at);
        self.held.hold(key, created_at, move |guard| {
            let task = async move {
                let _held = guard;
                let Ok(_permit) = limit.acquire_owned().await else {
                    return;
                };
                drop(waiting);
                let _active = metrics.active();
                let embeddings = embeddings.as_deref();
                let leased = Leased {
                    tenant: &tenant,
                    holder: &holder,
                };
                if let Err(error) =
                    ingest(store.as_ref(), data.as_ref(), embeddings, leased, file).await
                {
                    tracing::error!(%error, "ingesting a vector store file");
                }
            };
            tokio::spawn(task.in_current_span())
        });
    }
}

/// Whose file an ingestion works on, and who holds its lease.
#[derive(Clone, Copy)]
struct Leased<'a> {
    tenant: &'a Tenant,
    holder: &'a LeaseHolder,
}

/// Ingests one file; a file cancelled, detached, re-attached or taken over by another
/// instance meanwhile is left alone.
async fn ingest(
    store: &dyn Store,
    data: &dyn BlobStore,
    embeddings: Option<&EmbeddingsClient>,
    leased: Leased<'_>,
    file: VectorStoreFile,
) -> StoreResult<()> {
    let Leased { tenant, holder } = leased;
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
        .finish_held_ingestion(tenant, &done, vectors.as_ref(), Some(holder))
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
            store
                .finish_held_ingestion(tenant, &done, None, Some(holder))
                .await?;
            Ok(())
        }
        Ok(false) => {
            tracing::debug!(
                file = %done.file.id,
                "the file changed or was taken over meanwhile; this ingestion was dropped"
            );
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
