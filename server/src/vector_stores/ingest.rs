//! Background ingestion: attached files wait `in_progress` while a bounded pool of
//! tokio tasks reads their bytes, extracts text, chunks it and stores the chunks.
//! Requests never wait for it; a restart re-queues whatever was left `in_progress`.

use std::sync::Arc;

use tokio::sync::Semaphore;

use super::chunking::{chunk_text, usage_bytes, Chunking};
use super::extract::extract_text;
use super::model::{LastError, VectorStoreFile};
use crate::files::DataDir;
use crate::store::vector_stores::IngestedFile;
use crate::store::{Store, StoreError, StoreResult, Tenant};

/// Largest file read for ingestion: the whole text is held in memory while it is
/// chunked, so bigger files fail instead (OpenAI capped files at 5M tokens).
pub const MAX_INGEST_BYTES: u64 = 64 * 1024 * 1024;

/// The ingestion queue.
pub struct Ingestor {
    store: Arc<dyn Store>,
    data: Arc<DataDir>,
    /// One permit per concurrent ingestion; `None` when ingestion is paused.
    limit: Option<Arc<Semaphore>>,
}

impl Ingestor {
    /// A queue running up to `workers` ingestions at once; 0 pauses ingestion (files
    /// stay `in_progress` until a server with workers starts on the database).
    pub fn new(store: Arc<dyn Store>, data: Arc<DataDir>, workers: usize) -> Self {
        Self {
            store,
            data,
            limit: (workers > 0).then(|| Arc::new(Semaphore::new(workers))),
        }
    }

    /// Queues `files` (just attached, `in_progress`) of `tenant`.
    pub fn enqueue(&self, tenant: &Tenant, files: Vec<VectorStoreFile>) {
        let Some(limit) = &self.limit else { return };
        for file in files {
            let (store, data, limit) = (self.store.clone(), self.data.clone(), limit.clone());
            let tenant = tenant.clone();
            tokio::spawn(async move {
                let Ok(_permit) = limit.acquire_owned().await else {
                    return;
                };
                if let Err(error) = ingest(store.as_ref(), &data, &tenant, file).await {
                    tracing::error!(%error, "ingesting a vector store file");
                }
            });
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
    data: &DataDir,
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
        Ok(record) => match tokio::fs::read(data.file_path(tenant, &record.id)).await {
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
    let mut done = IngestedFile {
        file,
        text: None,
        chunks: Vec::new(),
    };
    match outcome {
        Ok((text, chunks)) => {
            done.file.status = "completed".to_owned();
            done.file.usage_bytes = usage_bytes(&chunks);
            done.text = Some(text);
            done.chunks = chunks;
        }
        Err(error) => {
            done.file.status = "failed".to_owned();
            done.file.last_error = Some(error);
        }
    }
    store.finish_ingestion(tenant, &done).await?;
    Ok(())
}

fn server_error() -> LastError {
    LastError {
        code: "server_error".to_owned(),
        message: "An internal error occurred while processing the file.".to_owned(),
    }
}
