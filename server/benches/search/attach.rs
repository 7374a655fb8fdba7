//! Attaching and detaching files in a full database: how long one file's
//! `attach_files` (a file never attached before, and the re-attachment of an ingested
//! file of 50 chunks) and `delete_vector_store_file` hold the write lock. Both drop the
//! file's old chunks first, so their cost shows whether that drop is proportional to
//! the file or to the whole chunk table.

use std::time::{Duration, Instant};

use server::models::VectorStoreFileStatus;
use server::store::vector_stores::IngestedFile;
use server::store::{Store, StoreResult, Tenant};
use server::vector_stores::chunking::{usage_bytes, Chunking};
use server::vector_stores::model::VectorStoreFile;

use crate::corpus::{file_text, prose, Rng, Vocabulary};
use crate::stats::Summary;

/// Chunks of each file the bench ingests and re-attaches (the corpus's mean).
const FILE_CHUNKS: usize = 50;

/// The three timings, one sample per round each.
pub(crate) struct Measured {
    /// Attaching a file id the store never had.
    pub attach_new: Summary,
    /// Attaching again a file that has `FILE_CHUNKS` chunks.
    pub reattach: Summary,
    /// Detaching a file that has `FILE_CHUNKS` chunks.
    pub detach: Summary,
}

/// Runs `rounds` rounds on `store_id` of `tenant`: attach a new file, ingest it,
/// re-attach it, ingest it again, detach it.
pub(crate) async fn measure(
    store: &dyn Store,
    tenant: &Tenant,
    store_id: &str,
    rounds: usize,
    seed: u64,
) -> StoreResult<Measured> {
    let vocabulary = Vocabulary::new();
    let mut rng = Rng::new(seed ^ 0xA77AC4);
    let words: Vec<&str> = file_text(&vocabulary, &mut rng, 400 * FILE_CHUNKS);
    let chunks: Vec<String> = words.chunks(400).map(|w| prose(w, &mut rng)).collect();
    let (mut attach_new, mut reattach, mut detach) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let file = in_progress(store_id, &format!("file-BenchAttach{round:011}"));
        attach_new
            .push(timed(store.attach_files(tenant, std::slice::from_ref(&file), None)).await?);
        ingest(store, tenant, &file, &chunks).await?;
        reattach.push(timed(store.attach_files(tenant, std::slice::from_ref(&file), None)).await?);
        ingest(store, tenant, &file, &chunks).await?;
        detach.push(timed(store.delete_vector_store_file(tenant, store_id, &file.id)).await?);
    }
    let summary = |samples: &[Duration]| Summary::of(samples).expect("at least one round");
    Ok(Measured {
        attach_new: summary(&attach_new),
        reattach: summary(&reattach),
        detach: summary(&detach),
    })
}

async fn timed(work: impl std::future::Future<Output = StoreResult<()>>) -> StoreResult<Duration> {
    let start = Instant::now();
    work.await?;
    Ok(start.elapsed())
}

fn in_progress(store_id: &str, file_id: &str) -> VectorStoreFile {
    VectorStoreFile {
        id: file_id.to_owned(),
        object: "vector_store.file".to_owned(),
        usage_bytes: 0,
        created_at: 1_764_000_000,
        vector_store_id: store_id.to_owned(),
        status: VectorStoreFileStatus::InProgress,
        last_error: None,
        chunking_strategy: Chunking::default().to_json(),
        attributes: Default::default(),
    }
}

async fn ingest(
    store: &dyn Store,
    tenant: &Tenant,
    file: &VectorStoreFile,
    chunks: &[String],
) -> StoreResult<()> {
    let mut done = file.clone();
    done.status = VectorStoreFileStatus::Completed;
    done.usage_bytes = usage_bytes(chunks);
    let ingested = IngestedFile {
        file: done,
        text: Some(chunks.join(" ")),
        chunks: chunks.to_vec(),
    };
    assert!(store.finish_ingestion(tenant, &ingested).await?);
    Ok(())
}
