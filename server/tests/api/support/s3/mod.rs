//! Object storage for the blob store tests: a fresh bucket of [`moto`] per test, and
//! server instances keeping their bytes in it on the test database of the run's backend
//! (instances of one test may share a database, as several behind a load balancer do).

pub(crate) mod moto;

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{Method, Request, StatusCode};
use futures::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::ObjectStore;
use server::files::s3::{S3Location, S3Options};
use server::files::ObjectBlobs;
use server::{AppState, Settings};
use testkit::{TestApp, TestDatabase};
use tower::ServiceExt;

/// The API key of these tests.
pub(crate) const KEY: &str = "sk-test-s3-tenant-0123456789";
/// Boundary of the hand-written multipart bodies.
pub(crate) const BOUNDARY: &str = "s3-test-boundary-9fQ2x";
/// The smallest multipart part S3 (and moto) accept; tests use it so that a blob of a
/// few MiB already goes up in several parts.
pub(crate) const PART_SIZE: usize = 5 * 1024 * 1024;

/// A fresh bucket of the emulator, for one test.
pub(crate) struct Bucket {
    /// The emulator's URL.
    pub endpoint: String,
    /// The bucket's name.
    pub name: String,
}

impl Bucket {
    /// A new, empty bucket; `None` when the emulator cannot run here (skipped loudly).
    pub(crate) async fn new() -> Option<Self> {
        let moto = tokio::task::spawn_blocking(moto::moto)
            .await
            .expect("moto start-up")?;
        let name = format!("test-{:016x}", rand::random::<u64>());
        // moto does not check signatures: a bare PUT creates the bucket.
        let created = reqwest::Client::new()
            .put(format!("{}/{name}", moto.endpoint))
            .send()
            .await
            .expect("moto answers");
        assert!(created.status().is_success(), "{:?}", created.text().await);
        Some(Self {
            endpoint: moto.endpoint.clone(),
            name,
        })
    }

    /// Options reaching this bucket below `prefix` (none of the environment's AWS
    /// settings apply).
    pub(crate) fn options(&self, prefix: &str) -> S3Options {
        S3Options {
            location: S3Location::parse(&format!("s3://{}/{prefix}", self.name)).unwrap(),
            endpoint: Some(self.endpoint.clone()),
            region: Some("us-east-1".into()),
            access_key_id: Some("testing".into()),
            secret_access_key: Some("testing".into()),
            part_size: PART_SIZE,
        }
    }

    /// The blob store on this bucket below `prefix`.
    pub(crate) fn blobs(&self, prefix: &str) -> ObjectBlobs {
        self.options(prefix)
            .connect_with(AmazonS3Builder::new())
            .expect("S3 client")
    }

    /// How many multipart uploads the bucket has begun and neither completed nor
    /// aborted (parts S3 would keep, and bill, until a lifecycle rule removes them).
    pub(crate) async fn multipart_uploads(&self) -> usize {
        let listing = reqwest::Client::new()
            .get(format!("{}/{}?uploads", self.endpoint, self.name))
            .send()
            .await
            .expect("moto answers");
        assert!(listing.status().is_success());
        let text = listing.text().await.unwrap();
        assert!(text.contains("ListMultipartUploadsResult"), "{text}");
        text.matches("<UploadId>").count()
    }

    /// Every object name in the bucket, sorted.
    pub(crate) async fn objects(&self) -> Vec<String> {
        let store = self.blobs("");
        let mut names: Vec<String> = store
            .object_store()
            .list(None)
            .map_ok(|meta| meta.location.to_string())
            .try_collect()
            .await
            .expect("list the bucket");
        names.sort();
        names
    }
}

/// One server instance: its state (for reaching the store directly) and its routes.
#[derive(Clone)]
pub(crate) struct Instance {
    /// The state behind the routes.
    pub state: AppState,
    /// The whole API; it keeps the test database alive.
    pub app: TestApp,
}

/// A response with its body read.
#[derive(Debug)]
pub(crate) struct Answer {
    /// HTTP status.
    pub status: StatusCode,
    /// The body, as sent.
    pub body: Bytes,
}

impl Answer {
    /// The body as JSON.
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
}

impl Instance {
    /// An instance on `database` (shared by the instances of one test: take
    /// [`TestDatabase::reconnectable`] for more than one) keeping bytes in `bucket` below
    /// `prefix`; `configure` adjusts the settings.
    pub(crate) async fn start(
        database: &Arc<TestDatabase>,
        bucket: &Bucket,
        prefix: &str,
        configure: impl FnOnce(Settings) -> Settings,
    ) -> Self {
        let mut settings = database.settings();
        // The database's data directory must stay empty: every byte goes to the bucket.
        settings.blob_store = Some(Arc::new(bucket.blobs(prefix)));
        let state = AppState::from_settings(&configure(settings))
            .await
            .expect("state on S3");
        Self {
            app: TestApp::from_state(Arc::clone(database), state.clone()),
            state,
        }
    }

    /// Sends a request with the test key.
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Body,
    ) -> Answer {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {KEY}"))
            .header("openai-beta", "assistants=v2")
            .header("content-type", content_type)
            .body(body)
            .unwrap();
        let response = self.app.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        Answer { status, body }
    }

    /// GET.
    pub(crate) async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, "application/json", Body::empty())
            .await
    }

    /// DELETE.
    pub(crate) async fn delete(&self, path: &str) -> Answer {
        self.send(Method::DELETE, path, "application/json", Body::empty())
            .await
    }

    /// POST a JSON body.
    pub(crate) async fn post(&self, path: &str, body: serde_json::Value) -> Answer {
        let body = Body::from(body.to_string());
        self.send(Method::POST, path, "application/json", body)
            .await
    }

    /// POST a multipart form, arriving in 64 KiB chunks with pauses as over a network
    /// (the multipart parser takes whatever is ready at once: a body all ready would be
    /// one chunk, refused whole before any of it was written).
    pub(crate) async fn post_form(&self, path: &str, form: Vec<u8>) -> Answer {
        let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
        let chunks: Vec<Result<Bytes, std::io::Error>> = form
            .chunks(64 * 1024)
            .map(|chunk| Ok(Bytes::copy_from_slice(chunk)))
            .collect();
        // A pause before every chunk but the first (a pause before the first one as
        // well makes the parser report an incomplete stream in this in-process setup).
        let arriving = futures::stream::iter(chunks.into_iter().enumerate()).then(
            |(index, chunk)| async move {
                if index > 0 {
                    tokio::task::yield_now().await;
                }
                chunk
            },
        );
        let body = Body::from_stream(arriving);
        self.send(Method::POST, path, &content_type, body).await
    }

    /// Uploads `bytes` through `POST /v1/files`; the answer as sent.
    pub(crate) async fn upload(&self, filename: &str, bytes: &[u8]) -> Answer {
        let form = form(
            &[("purpose", "assistants")],
            Some(("file", filename, bytes)),
        );
        self.post_form("/v1/files", form).await
    }
}

/// A `multipart/form-data` body with text `fields` and an optional file field
/// `(name, filename, bytes)`.
pub(crate) fn form(fields: &[(&str, &str)], file: Option<(&str, &str, &[u8])>) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    if let Some((name, filename, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// `len` bytes that differ from offset to offset (so a misplaced part shows).
pub(crate) fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u64).wrapping_mul(2_654_435_761).rotate_left(7) as u8 ^ seed)
        .collect()
}
