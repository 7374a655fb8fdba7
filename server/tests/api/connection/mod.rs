//! The connection layer over raw sockets: what a well-behaved HTTP client library would
//! never send (bodies that arrive late or never, trickled heads, unparsable requests,
//! more idle connections than the server serves) and what the server must do about it.

mod early_answers;
mod http;
mod parse_errors;
mod shutdown;
mod timeouts;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use server::Settings;
use testkit::{SpawnedApp, TestDatabase};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Generous bound on anything a test waits for, so a regression fails instead of hanging.
/// Never an assertion on speed: every wait ends as soon as its condition holds.
pub(crate) const HANG_GUARD: Duration = Duration::from_secs(60);

/// A server on port 0 (the kit's `spawn_app`) with adjusted settings.
pub(crate) struct Served {
    /// Where it listens.
    pub address: SocketAddr,
    /// The running server, its database and its data folder.
    app: SpawnedApp,
    /// The server's data directory (file bytes, temporary uploads).
    data_dir: PathBuf,
}

impl Served {
    /// Starts a server whose settings `configure` adjusts.
    pub(crate) async fn start(configure: impl FnOnce(&mut Settings)) -> Self {
        let database = TestDatabase::reconnectable().await;
        let mut settings = database.settings();
        configure(&mut settings);
        let data_dir = settings.data_dir.clone();
        let app = testkit::spawn_app_on(database, settings).await;
        Self {
            address: app.address,
            app,
            data_dir,
        }
    }

    /// Starts the graceful shutdown.
    pub(crate) fn begin_shutdown(&mut self) {
        self.app.begin_shutdown();
    }

    /// Whether `server::run` has returned.
    pub(crate) fn stopped(&self) -> bool {
        self.app.is_stopped()
    }

    /// A new raw connection.
    pub(crate) async fn connect(&self) -> TcpStream {
        TcpStream::connect(self.address).await.unwrap()
    }

    /// The base URL for HTTP clients.
    pub(crate) fn base_url(&self) -> String {
        format!("http://{}/v1", self.address)
    }

    /// Files in the temporary-upload folder right now.
    pub(crate) fn temporary_files(&self) -> usize {
        std::fs::read_dir(self.data_dir.join("tmp"))
            .map(|dir| dir.count())
            .unwrap_or(0)
    }
}

/// Fails the test if `future` takes longer than [`HANG_GUARD`].
pub(crate) async fn guarded<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(HANG_GUARD, future)
        .await
        .unwrap_or_else(|_| panic!("hung: {what}"))
}

/// Polls `condition` until it holds (under [`HANG_GUARD`]).
pub(crate) async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    guarded(what, async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}

/// An answer read off a raw socket.
#[derive(Debug)]
pub(crate) struct RawAnswer {
    /// The status code.
    pub status: u16,
    /// The head, lower-cased, for header checks.
    pub head: String,
    /// The body (by `content-length`).
    pub body: String,
}

impl RawAnswer {
    /// Whether the answer announced that the connection closes.
    pub(crate) fn says_close(&self) -> bool {
        self.head.contains("\r\nconnection: close\r\n")
    }

    /// The error envelope's fields, checking the shape on the way.
    pub(crate) fn error(&self) -> serde_json::Value {
        let value: serde_json::Value = serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body));
        let error = &value["error"];
        for key in ["message", "type", "param", "code"] {
            assert!(error.get(key).is_some(), "no error.{key}: {value}");
        }
        error.clone()
    }
}

/// Reads one answer with a `content-length` body from `stream`.
pub(crate) async fn read_answer(stream: &mut TcpStream) -> RawAnswer {
    guarded("reading an answer", async {
        let mut bytes = Vec::new();
        let mut chunk = [0u8; 8192];
        let head_end = loop {
            if let Some(at) = find(&bytes, b"\r\n\r\n") {
                break at + 4;
            }
            let read = stream.read(&mut chunk).await.expect("read");
            assert!(
                read > 0,
                "closed before an answer: {:?}",
                String::from_utf8_lossy(&bytes)
            );
            bytes.extend_from_slice(&chunk[..read]);
        };
        let head = String::from_utf8_lossy(&bytes[..head_end]).to_ascii_lowercase();
        let length: usize = head
            .split("\r\n")
            .find_map(|line| line.strip_prefix("content-length: "))
            .map(|value| value.trim().parse().unwrap())
            .unwrap_or(0);
        while bytes.len() < head_end + length {
            let read = stream.read(&mut chunk).await.expect("read");
            assert!(read > 0, "closed in the body");
            bytes.extend_from_slice(&chunk[..read]);
        }
        assert_eq!(bytes.len(), head_end + length, "more than one answer");
        let status = head[9..12].parse().unwrap();
        RawAnswer {
            status,
            head,
            body: String::from_utf8_lossy(&bytes[head_end..]).into_owned(),
        }
    })
    .await
}

/// Waits until the server closes `stream` (end of stream or reset), failing if it
/// answers anything instead.
pub(crate) async fn closed_by_server(stream: &mut TcpStream) {
    guarded("the server closing the connection", async {
        let mut chunk = [0u8; 1024];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => {}
            Ok(read) => panic!(
                "answered instead of closing: {:?}",
                String::from_utf8_lossy(&chunk[..read])
            ),
        }
    })
    .await;
}

/// Writes all of `bytes`, ignoring a failure (the server may have closed already).
pub(crate) async fn send(stream: &mut TcpStream, bytes: &[u8]) {
    let _ = stream.write_all(bytes).await;
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
