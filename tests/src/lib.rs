//! Support for the end-to-end tests: a reference server started in-process on port 0 with a
//! fresh SQLite file, and the paths the tests share (workspace root, recordings, fixtures).
//!
//! The harness side of these tests talks to the server only over HTTP, exactly as it would to
//! any other implementation.

pub mod node;
pub mod python;

use std::path::{Path, PathBuf};

use tokio::sync::oneshot;

/// A reference server listening on an ephemeral loopback port, stopped when dropped.
pub struct TestServer {
    /// Base URL including `/v1`, as a client would configure it.
    pub base_url: String,
    /// Holds the database file; removed when the server is dropped.
    _data: tempfile::TempDir,
    /// Dropping the sender triggers the server's graceful shutdown.
    _shutdown: oneshot::Sender<()>,
}

/// Starts the reference server with a fresh database and returns once it accepts connections.
pub async fn spawn_server() -> TestServer {
    spawn_server_with(|settings| settings).await
}

/// Like [`spawn_server`], with the settings adjusted by `configure` first (e.g. the LLM).
pub async fn spawn_server_with(
    configure: impl FnOnce(server::Settings) -> server::Settings,
) -> TestServer {
    let data = tempfile::tempdir().expect("temporary directory");
    let database_url = format!("sqlite://{}", data.path().join("assistants.db").display());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind port 0");
    let address = listener.local_addr().expect("local address");
    let (shutdown, stopped) = oneshot::channel::<()>();
    let settings = configure(server::Settings::new(database_url));
    tokio::spawn(async move {
        let shutdown_signal = async {
            let _ = stopped.await;
        };
        server::run(listener, settings, shutdown_signal)
            .await
            .expect("server runs");
    });
    TestServer {
        base_url: format!("http://{address}/v1"),
        _data: data,
        _shutdown: shutdown,
    }
}

/// The workspace root (the folder holding `Cargo.toml`, `fixtures/` and `coverage.md`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// `../shared/recordings` beside the checkout, when this machine has it.
pub fn shared_recordings() -> Option<PathBuf> {
    let path = workspace_root().join("../shared/recordings");
    path.is_dir().then_some(path)
}
