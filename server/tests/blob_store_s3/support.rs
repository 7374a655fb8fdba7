//! An S3-compatible service for the object-storage tests: moto in server mode, installed
//! at the version pinned in `requirements.txt` beside this file into a virtual
//! environment under the build directory (as `tests/src/python.rs` installs the Python
//! SDK) and started once per test binary on a free port. It exits when the test binary
//! does (it waits for its standard input to close). Without python3 the tests say loudly
//! that they were skipped; under CI (`CI` set) that is a failure instead.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::{Body, Bytes};
use axum::http::{Method, Request, StatusCode};
use axum::Router;
use futures::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::ObjectStore;
use server::files::s3::{S3Location, S3Options};
use server::files::ObjectBlobs;
use server::{AppState, Settings};
use tower::ServiceExt;

/// The API key of these tests.
pub const KEY: &str = "sk-test-s3-tenant-0123456789";
/// Boundary of the hand-written multipart bodies.
pub const BOUNDARY: &str = "s3-test-boundary-9fQ2x";
/// The smallest multipart part S3 (and moto) accept; tests use it so that a blob of a
/// few MiB already goes up in several parts.
pub const PART_SIZE: usize = 5 * 1024 * 1024;

/// Python that starts moto on a free port, prints the port and serves until its
/// standard input closes (the test binary exited, however it ended).
const MOTO_SCRIPT: &str = "
import sys
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address='127.0.0.1', port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()
";

/// The running emulator.
pub struct Moto {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// Kept so its standard input stays open as long as this process lives.
    _child: Mutex<Child>,
}

static MOTO: OnceLock<Option<Moto>> = OnceLock::new();

/// The emulator, started on first use; `None` (after saying so) without python3.
fn moto() -> Option<&'static Moto> {
    MOTO.get_or_init(start_moto).as_ref()
}

fn start_moto() -> Option<Moto> {
    if Command::new("python3").arg("--version").output().is_err() {
        let message = "python3 is missing: the object storage (S3) tests need it for moto";
        assert!(std::env::var_os("CI").is_none(), "{message}");
        // Straight to the process's stderr: the test harness hides what `eprintln!`
        // prints for tests that pass.
        let _ = writeln!(
            std::io::stderr(),
            "\n==== SKIPPED: {message}; the S3 half of the blob store tests did not run ====\n"
        );
        return None;
    }
    let python = moto_python(Path::new(env!("CARGO_TARGET_TMPDIR")));
    let mut child = Command::new(python)
        .args(["-c", MOTO_SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("moto's stdout"))
        .read_line(&mut line)
        .expect("moto prints its port");
    let port: u16 = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("moto did not start: {line:?}"));
    Some(Moto {
        endpoint: format!("http://127.0.0.1:{port}"),
        _child: Mutex::new(child),
    })
}

/// The venv's python with moto installed, (re)creating the venv when the pins change.
fn moto_python(build_dir: &Path) -> PathBuf {
    let requirements =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/blob_store_s3/requirements.txt");
    let wanted = std::fs::read_to_string(&requirements).expect("requirements.txt");
    let venv = build_dir.join("moto-venv");
    let stamp = venv.join("requirements.installed");
    let python = venv.join("bin/python");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) && python.exists() {
        return python;
    }
    let _ = std::fs::remove_dir_all(&venv);
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv));
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(&requirements));
    std::fs::write(&stamp, wanted).expect("write stamp");
    python
}

fn run(command: &mut Command) {
    let status = command
        .status()
        .unwrap_or_else(|err| panic!("cannot run {command:?}: {err}"));
    assert!(status.success(), "{command:?} failed with {status}");
}

/// A fresh bucket of the emulator, for one test.
pub struct Bucket {
    /// The emulator's URL.
    pub endpoint: String,
    /// The bucket's name.
    pub name: String,
}

impl Bucket {
    /// A new, empty bucket; `None` when the emulator cannot run here (skipped loudly).
    pub async fn new() -> Option<Self> {
        let moto = tokio::task::spawn_blocking(moto)
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
    pub fn options(&self, prefix: &str) -> S3Options {
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
    pub fn blobs(&self, prefix: &str) -> ObjectBlobs {
        self.options(prefix)
            .connect_with(AmazonS3Builder::new())
            .expect("S3 client")
    }

    /// How many multipart uploads the bucket has begun and neither completed nor
    /// aborted (parts S3 would keep, and bill, until a lifecycle rule removes them).
    pub async fn multipart_uploads(&self) -> usize {
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
    pub async fn objects(&self) -> Vec<String> {
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
pub struct Instance {
    /// The state behind the routes.
    pub state: AppState,
    /// The whole API.
    pub router: Router,
}

/// A response with its body read.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: StatusCode,
    /// The body, as sent.
    pub body: Bytes,
}

impl Answer {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
}

impl Instance {
    /// An instance on the SQLite file `database` (shared by instances of one test)
    /// keeping bytes in `bucket` below `prefix`; `configure` adjusts the settings.
    pub async fn start(
        database: &Path,
        bucket: &Bucket,
        prefix: &str,
        configure: impl FnOnce(Settings) -> Settings,
    ) -> Self {
        let mut settings = Settings::new(format!("sqlite://{}", database.display()));
        // A data directory that must stay empty: every byte goes to the bucket.
        settings.data_dir = database.with_extension("unused-data-dir");
        settings.blob_store = Some(Arc::new(bucket.blobs(prefix)));
        let state = AppState::from_settings(&configure(settings))
            .await
            .expect("state on S3");
        Self {
            router: server::app(state.clone()),
            state,
        }
    }

    /// Sends a request with the test key.
    pub async fn send(&self, method: Method, path: &str, content_type: &str, body: Body) -> Answer {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {KEY}"))
            .header("openai-beta", "assistants=v2")
            .header("content-type", content_type)
            .body(body)
            .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        Answer { status, body }
    }

    /// GET.
    pub async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, "application/json", Body::empty())
            .await
    }

    /// DELETE.
    pub async fn delete(&self, path: &str) -> Answer {
        self.send(Method::DELETE, path, "application/json", Body::empty())
            .await
    }

    /// POST a JSON body.
    pub async fn post(&self, path: &str, body: serde_json::Value) -> Answer {
        let body = Body::from(body.to_string());
        self.send(Method::POST, path, "application/json", body)
            .await
    }

    /// POST a multipart form, arriving in 64 KiB chunks with pauses as over a network
    /// (the multipart parser takes whatever is ready at once: a body all ready would be
    /// one chunk, refused whole before any of it was written).
    pub async fn post_form(&self, path: &str, form: Vec<u8>) -> Answer {
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
    pub async fn upload(&self, filename: &str, bytes: &[u8]) -> Answer {
        let form = form(
            &[("purpose", "assistants")],
            Some(("file", filename, bytes)),
        );
        self.post_form("/v1/files", form).await
    }
}

/// A `multipart/form-data` body with text `fields` and an optional file field
/// `(name, filename, bytes)`.
pub fn form(fields: &[(&str, &str)], file: Option<(&str, &str, &[u8])>) -> Vec<u8> {
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
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u64).wrapping_mul(2_654_435_761).rotate_left(7) as u8 ^ seed)
        .collect()
}
