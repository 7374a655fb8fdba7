//! Builds the benchmark database through the `Store` trait, in the order ingestion
//! writes: file records, then vector stores with their files `in_progress`, then one
//! `finish_ingestion` per file with its chunks (completed, with usage bytes); for the
//! hybrid cases, stores with an embedding model and `finish_ingestion_with_vectors`.
//!
//! Layout at N chunks: files of 10 to 90 chunks (50 on average). The first half of the
//! chunks belong to one large store (the "searched at scale" case); the rest sit in
//! stores of 20 files (about 1,000 chunks each), alternately owned by a second tenant,
//! so every search shares the FTS5 index with other stores and another tenant.
//! All stores and files are attached before any chunk is written: attaching used to
//! scan the chunk table (fixed by migration 0012, see the README), which made attaching
//! into a full table quadratic; the order is kept so figures stay comparable.

use serde_json::{json, Value};
use server::models::file::FileObject;
use server::models::{FileStatus, VectorStoreFileStatus, VectorStoreStatus};
use server::store::vector_stores::{ChunkVectors, IngestedFile};
use server::store::{Store, StoreResult, Tenant};
use server::vector_stores::chunking::{usage_bytes, Chunking};
use server::vector_stores::model::{FileCounts, VectorStore, VectorStoreFile};

use crate::corpus::{file_text, prose, Rng, Vocabulary};
use crate::upstream::{Vectors, MODEL};

/// Files per small store.
const SMALL_STORE_FILES: usize = 20;
/// Values of the `department` attribute (a filter picks one).
pub(crate) const DEPARTMENTS: &[&str] = &[
    "legal",
    "finance",
    "sales",
    "engineering",
    "support",
    "marketing",
    "hr",
    "research",
];
/// Unix seconds every object is stamped with (fixed: the corpus is deterministic).
const CREATED_AT: i64 = 1_764_000_000;

/// One file to write.
pub(crate) struct FilePlan {
    /// `file-` + 22 characters, numbered.
    pub id: String,
    /// How many chunks it has.
    pub chunks: usize,
    /// Its attributes in its store.
    pub attributes: serde_json::Map<String, Value>,
}

/// One vector store to write.
pub(crate) struct StorePlan {
    /// `vs_` + 32 hex, numbered.
    pub id: String,
    /// 0 = the benchmark's own tenant, 1 = the other tenant.
    pub tenant: usize,
    /// Its files.
    pub files: Vec<FilePlan>,
}

impl StorePlan {
    /// Chunks in the store.
    pub(crate) fn chunks(&self) -> usize {
        self.files.iter().map(|f| f.chunks).sum()
    }
}

/// Chunk sizes in words: windows of `size` words stepping by `size - overlap`, the
/// word-level counterpart of token chunking (see `chunk_words` in the README).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChunkWords {
    /// Words per chunk.
    pub size: usize,
    /// Words shared by neighbouring chunks.
    pub overlap: usize,
}

/// The stores and files of a corpus of `total_chunks` chunks.
pub(crate) fn plan(total_chunks: usize, seed: u64) -> Vec<StorePlan> {
    let mut rng = Rng::new(seed);
    let mut stores = vec![StorePlan {
        id: store_id(0),
        tenant: 0,
        files: Vec::new(),
    }];
    let mut written = 0;
    let mut file_number = 0;
    while written < total_chunks {
        let chunks = rng.below(10..91).min(total_chunks - written);
        let file = FilePlan {
            id: format!("file-Bench{:017}", file_number),
            chunks,
            attributes: attributes(&mut rng),
        };
        let into_large = written < total_chunks / 2;
        let last = stores.len() - 1;
        if into_large || (last > 0 && stores[last].files.len() < SMALL_STORE_FILES) {
            stores[last].files.push(file);
        } else {
            stores.push(StorePlan {
                id: store_id(stores.len()),
                tenant: stores.len() % 2,
                files: vec![file],
            });
        }
        written += chunks;
        file_number += 1;
    }
    stores
}

fn store_id(number: usize) -> String {
    format!("vs_{number:032x}")
}

fn attributes(rng: &mut Rng) -> serde_json::Map<String, Value> {
    let value = json!({
        "department": DEPARTMENTS[rng.below(0..DEPARTMENTS.len())],
        "year": 2015 + rng.below(0..11) as i64,
        "confidential": rng.below(0..4) == 0,
        "author": format!("author-{}", rng.below(0..200)),
    });
    value.as_object().cloned().unwrap_or_default()
}

/// Writes `stores` into `store` for `tenants`; returns the bytes of chunk text written.
/// With `vectors`, every store records [`MODEL`] as its embedding model and every
/// chunk gets a seeded unit vector, written with it as ingestion writes them.
pub(crate) async fn write(
    store: &dyn Store,
    tenants: &[Tenant; 2],
    stores: &[StorePlan],
    words: ChunkWords,
    seed: u64,
    vectors: Option<Vectors>,
) -> StoreResult<u64> {
    let model = vectors.map(|_| MODEL);
    let chunking = Chunking::default().to_json();
    for plan in stores {
        let tenant = &tenants[plan.tenant];
        let mut attached = Vec::with_capacity(plan.files.len());
        for file in &plan.files {
            store
                .insert_file(tenant, &file_object(&file.id, file.chunks))
                .await?;
            attached.push(VectorStoreFile {
                id: file.id.clone(),
                object: "vector_store.file".to_owned(),
                usage_bytes: 0,
                created_at: CREATED_AT,
                vector_store_id: plan.id.clone(),
                status: VectorStoreFileStatus::InProgress,
                last_error: None,
                chunking_strategy: chunking.clone(),
                attributes: file.attributes.clone(),
            });
        }
        store
            .insert_vector_store_embedded(tenant, &vector_store(&plan.id), &attached, model)
            .await?;
    }
    let vocabulary = Vocabulary::new();
    let mut rng = Rng::new(seed ^ 0x5EED);
    // A generator of its own, so the text is the same with and without vectors.
    let mut vector_rng = Rng::new(vectors.map_or(seed, |v| v.seed) ^ 0xE3BED);
    let mut text_bytes = 0;
    for plan in stores {
        let tenant = &tenants[plan.tenant];
        for file in &plan.files {
            let step = words.size - words.overlap;
            let all_words = file_text(&vocabulary, &mut rng, step * (file.chunks - 1) + words.size);
            let chunks: Vec<String> = (0..file.chunks)
                .map(|i| prose(&all_words[i * step..i * step + words.size], &mut rng))
                .collect();
            text_bytes += chunks.iter().map(|c| c.len() as u64).sum::<u64>();
            let mut done = store
                .get_vector_store_file(tenant, &plan.id, &file.id)
                .await?;
            done.status = VectorStoreFileStatus::Completed;
            done.usage_bytes = usage_bytes(&chunks);
            let ingested = IngestedFile {
                file: done,
                text: Some(prose(&all_words, &mut rng)),
                chunks,
            };
            let chunk_vectors = vectors.map(|v| ChunkVectors {
                model: MODEL.to_owned(),
                vectors: (0..file.chunks).map(|_| v.unit(&mut vector_rng)).collect(),
            });
            assert!(
                store
                    .finish_ingestion_with_vectors(tenant, &ingested, chunk_vectors.as_ref())
                    .await?
            );
        }
    }
    Ok(text_bytes)
}

fn file_object(id: &str, chunks: usize) -> FileObject {
    FileObject {
        object: "file".to_owned(),
        id: id.to_owned(),
        purpose: "assistants".to_owned(),
        filename: format!("{id}-report-{chunks}.txt"),
        bytes: 0,
        created_at: CREATED_AT,
        expires_at: None,
        status: FileStatus::Processed,
        status_details: None,
    }
}

/// A store as `createVectorStore` writes it (counts are computed on read).
pub(crate) fn vector_store(id: &str) -> VectorStore {
    VectorStore {
        id: id.to_owned(),
        object: "vector_store".to_owned(),
        created_at: CREATED_AT,
        name: Some(format!("bench {id}")),
        description: None,
        usage_bytes: 0,
        file_counts: FileCounts::default(),
        status: VectorStoreStatus::Completed,
        expires_after: None,
        expires_at: None,
        last_active_at: CREATED_AT,
        metadata: Default::default(),
    }
}
