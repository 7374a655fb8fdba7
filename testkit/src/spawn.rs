//! The one way tests, end-to-end tests and benchmarks start a real server: `server::run`
//! (or a caller's variant of it) on 127.0.0.1:0 over a [`TestDatabase`], stopped gracefully
//! when dropped or by [`SpawnedApp::stop`].

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use server::{ServerError, Settings};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::database::TestDatabase;

/// The shutdown signal handed to a serving function: resolves when the app is dropped or
/// stopped.
pub type Shutdown = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A server listening on an ephemeral loopback port; its graceful shutdown starts when it
/// is dropped.
pub struct SpawnedApp {
    /// `http://127.0.0.1:PORT/v1`, as a client configures it.
    pub base_url: String,
    /// Where it listens, for raw sockets.
    pub address: SocketAddr,
    /// Starts the graceful shutdown when sent to or dropped.
    shutdown: Option<oneshot::Sender<()>>,
    /// The serving task: ends when the server has drained.
    task: JoinHandle<Result<(), ServerError>>,
    /// The server's database when the kit made it (dropped after the shutdown signal);
    /// `None` when the caller brought its own.
    database: Option<Arc<TestDatabase>>,
}

/// A server with default settings (offline model, no delay) on a fresh database that a
/// restart could reopen.
pub async fn spawn_app() -> SpawnedApp {
    spawn_app_with(|_| {}).await
}

/// [`spawn_app`] with the settings changed by `configure` first (keys, the model, limits).
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> SpawnedApp {
    let database = TestDatabase::reconnectable().await;
    let mut settings = database.settings();
    configure(&mut settings);
    spawn_app_on(database, settings).await
}

/// `server::run` with `settings` (normally on `database`), keeping `database` alive; a
/// shared database lets a second server reopen it, as a restart does.
pub async fn spawn_app_on(
    database: impl Into<Arc<TestDatabase>>,
    settings: Settings,
) -> SpawnedApp {
    spawn_serving(Some(database.into()), settings, server::run).await
}

/// Starts `serve` on a listener bound to 127.0.0.1:0: `server::run` for [`spawn_app_on`], or
/// a variant a benchmark compares with it, on `settings`' database (kept alive with the app
/// when it is a kit database; a benchmark may bring its own file). A serving error is
/// printed: a test's failing request then comes with the reason (e.g. a backend this build
/// lacks).
pub async fn spawn_serving<F, Fut>(
    database: Option<Arc<TestDatabase>>,
    settings: Settings,
    serve: F,
) -> SpawnedApp
where
    F: FnOnce(TcpListener, Settings, Shutdown) -> Fut,
    Fut: Future<Output = Result<(), ServerError>> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding 127.0.0.1:0");
    let address = listener.local_addr().expect("the listener's address");
    let (shutdown, stopped) = oneshot::channel::<()>();
    let signal: Shutdown = Box::pin(async {
        let _ = stopped.await;
    });
    let serving = serve(listener, settings, signal);
    let task = tokio::spawn(async move {
        let served = serving.await;
        if let Err(error) = &served {
            eprintln!("testkit: the server on {address} stopped: {error}");
        }
        served
    });
    SpawnedApp {
        base_url: format!("http://{address}/v1"),
        address,
        shutdown: Some(shutdown),
        task,
        database,
    }
}

impl SpawnedApp {
    /// The server's database when the kit made it (e.g. to start a second server on it).
    pub fn database(&self) -> Option<&Arc<TestDatabase>> {
        self.database.as_ref()
    }

    /// Starts the graceful shutdown without waiting for it.
    pub fn begin_shutdown(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }

    /// Whether the serving task has returned.
    pub fn is_stopped(&self) -> bool {
        self.task.is_finished()
    }

    /// Shuts the server down and waits until it has drained.
    pub async fn stop(mut self) -> Result<(), ServerError> {
        self.begin_shutdown();
        match (&mut self.task).await {
            Ok(served) => served,
            Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
            Err(join) => panic!("the server task was cancelled: {join}"),
        }
    }
}
