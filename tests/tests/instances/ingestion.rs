//! Vector store file ingestion shared by instances in this process: a file is ingested
//! by the instance holding its lease (the one that attached it), a starting instance
//! leaves it alone while that lease lives, and takes it over once the holder died and
//! the lease ran out, ingesting it exactly once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::{json, Value};
use server::files::blobs::{BlobArea, BlobWriter, ByteStream, StoredBlob};
use server::files::{BlobError, BlobKey, BlobStore, DataDir};
use server::store::Tenant;
use server::vector_stores::chunking::{chunk_text, Chunking};
use testkit::TestDatabase;

use crate::client::{Api, KEY};
use crate::models::offline;
use crate::node::Node;
use crate::serial;

/// Leases in this test: short, so the takeover comes quickly.
const LEASE: Duration = Duration::from_secs(2);
/// Small chunks, so the file has several and a duplicate would show.
const CHUNKING: &str =
    r#"{"type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 0}}"#;

/// The shared data directory, counting reads of file bytes; with `blocked`, those
/// reads never finish (an ingestion held on its instance, say by slow storage).
#[derive(Debug)]
struct CountedBlobs {
    inner: DataDir,
    blocked: bool,
    reads: Arc<AtomicUsize>,
}

impl CountedBlobs {
    fn new(database: &TestDatabase, blocked: bool) -> (Arc<Self>, Arc<AtomicUsize>) {
        let reads = Arc::new(AtomicUsize::new(0));
        let blobs = Self {
            inner: DataDir::new(database.data_dir()),
            blocked,
            reads: Arc::clone(&reads),
        };
        (Arc::new(blobs), reads)
    }
}

#[async_trait]
impl BlobStore for CountedBlobs {
    async fn create(&self, key: &BlobKey) -> Result<Box<dyn BlobWriter>, BlobError> {
        self.inner.create(key).await
    }

    async fn open(&self, key: &BlobKey) -> Result<ByteStream, BlobError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        if self.blocked {
            futures::future::pending::<()>().await;
        }
        self.inner.open(key).await
    }

    async fn remove(&self, key: &BlobKey) -> Result<(), BlobError> {
        self.inner.remove(key).await
    }

    async fn remove_upload(&self, tenant: &Tenant, upload_id: &str) -> Result<(), BlobError> {
        self.inner.remove_upload(tenant, upload_id).await
    }

    async fn list(&self, area: BlobArea) -> Result<Vec<StoredBlob>, BlobError> {
        self.inner.list(area).await
    }

    async fn sweep_temporary(&self, grace: Duration) -> Result<usize, BlobError> {
        self.inner.sweep_temporary(grace).await
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}

/// A text of many sentences: several chunks of [`CHUNKING`].
fn text() -> String {
    (0..120)
        .map(|n| format!("Sentence {n} tells of lighthouse keeper number {n}."))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Uploads `text` as an `assistants` file on `api` (a multipart body written by hand:
/// the test's HTTP client has no multipart support); its id.
async fn upload(api: &Api, text: &str) -> String {
    let boundary = "ingestion-test-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nassistants\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"keepers.txt\"\r\n\
         Content-Type: text/plain\r\n\r\n{text}\r\n--{boundary}--\r\n"
    );
    let response = reqwest::Client::new()
        .post(format!("{}/files", api.base))
        .bearer_auth(KEY)
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .expect("the upload is sent");
    assert_eq!(response.status().as_u16(), 200, "upload");
    let file: Value = response.json().await.expect("a file object");
    file["id"].as_str().expect("a file id").to_owned()
}

/// Polls until `reads` reached `count`, for at most ten seconds.
async fn until_read(reads: &AtomicUsize, count: usize) {
    let start = Instant::now();
    while reads.load(Ordering::SeqCst) < count {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no ingestion read the file"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_is_ingested_once_by_its_holder_or_after_its_lease_by_another() {
    let _one = serial().await;
    let database = TestDatabase::reconnectable().await;
    let (held, reads_a) = CountedBlobs::new(&database, true);
    let mut a = Node::start_with(&database, "a", offline(), LEASE, |settings| {
        settings.blob_store = Some(held);
    })
    .await;
    let file_id = upload(&a.api, &text()).await;
    let chunking: Value = serde_json::from_str(CHUNKING).unwrap();
    let store = a
        .api
        .post(
            "/vector_stores",
            json!({"file_ids": [file_id], "chunking_strategy": chunking}),
        )
        .await;
    let store_id = store["id"].as_str().unwrap().to_owned();
    assert_eq!(store["file_counts"]["in_progress"], 1, "{store}");
    // A is ingesting the file: its read of the bytes waits.
    until_read(&reads_a, 1).await;

    // B starts on the same database while A holds the file's lease, renewing it: two
    // whole leases later B has not touched the file.
    let (counted, reads_b) = CountedBlobs::new(&database, false);
    let b = Node::start_with(&database, "b", offline(), LEASE, |settings| {
        settings.blob_store = Some(counted);
    })
    .await;
    tokio::time::sleep(LEASE * 2).await;
    assert_eq!(reads_b.load(Ordering::SeqCst), 0, "B left A's file alone");
    let path = format!("/vector_stores/{store_id}/files/{file_id}");
    assert_eq!(b.api.get(&path).await["status"], "in_progress");

    // A dies: B takes the file over once A's lease ran out, and ingests it once.
    a.die();
    let died = Instant::now();
    let done = b
        .api
        .wait_for(&path, |file| file["status"] != "in_progress")
        .await;
    println!(
        "ingestion taken over {:.1} s after the holder died (lease {LEASE:?})",
        died.elapsed().as_secs_f64()
    );
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(reads_b.load(Ordering::SeqCst), 1, "B read the file once");
    assert_eq!(reads_a.load(Ordering::SeqCst), 1, "A never started again");
    let expected = chunk_text(&text(), Chunking::from_json(&chunking)).len();
    assert!(expected > 1, "the file makes several chunks");
    let stats = b
        .state
        .store
        .keyword_stats(&Tenant::from_api_key(KEY), std::slice::from_ref(&store_id))
        .await
        .expect("stats");
    assert_eq!(stats.chunks, expected as u64, "each chunk stored once");
    let settled = b.api.get(&format!("/vector_stores/{store_id}")).await;
    assert_eq!(settled["file_counts"]["completed"], 1, "{settled}");
    assert_eq!(settled["status"], "completed", "{settled}");
}
