//! An instance in this test process: its own store connection pool, run engine,
//! ingestion queue and HTTP listener on a shared database (a SQLite file, or a
//! PostgreSQL schema). To the database it is one more instance; its model is any
//! [`ChatModel`], so a test decides how its turns behave.

use std::sync::Arc;
use std::time::Duration;

use server::llm::ChatModel;
use server::store::{LeaseHolder, Tenant, VersionedRun};
use server::{AppState, Settings};
use testkit::TestDatabase;
use tokio::task::JoinHandle;

use crate::client::{Api, KEY};

/// One running instance.
pub(crate) struct Node {
    /// A client of its listener.
    pub api: Api,
    /// Its state (engine, store).
    pub state: AppState,
    keeper: Option<JoinHandle<()>>,
    /// The ingestion queue's keeper (lease renewals and sweeps).
    ingestion: Option<JoinHandle<()>>,
    server: JoinHandle<()>,
}

impl Drop for Node {
    fn drop(&mut self) {
        self.die();
    }
}

impl Node {
    /// Instance `id` on `database`, answered by `model`, with leases of `lease`: takes
    /// over the runs and files nobody works on and keeps its own (the keeper tasks).
    pub(crate) async fn start(
        database: &TestDatabase,
        id: &str,
        model: Arc<dyn ChatModel>,
        lease: Duration,
    ) -> Self {
        Self::start_with(database, id, model, lease, |_| {}).await
    }

    /// [`Self::start`] with `configure` applied to its settings first.
    pub(crate) async fn start_with(
        database: &TestDatabase,
        id: &str,
        model: Arc<dyn ChatModel>,
        lease: Duration,
        configure: impl FnOnce(&mut Settings),
    ) -> Self {
        let mut node = Self::configured(database, id, model, lease, configure).await;
        let keeper = node.state.runs.join_instances().await.expect("joins");
        node.keeper = Some(keeper);
        let ingestion = node.state.ingest.join_instances().await.expect("joins");
        node.ingestion = Some(ingestion);
        node
    }

    /// The same without the keeper task: it renews no lease, notices no cancel written
    /// elsewhere and claims nothing, as an instance that is about to die.
    pub(crate) async fn without_keeper(
        database: &TestDatabase,
        id: &str,
        model: Arc<dyn ChatModel>,
        lease: Duration,
    ) -> Self {
        Self::configured(database, id, model, lease, |_| {}).await
    }

    async fn configured(
        database: &TestDatabase,
        id: &str,
        model: Arc<dyn ChatModel>,
        lease: Duration,
        configure: impl FnOnce(&mut Settings),
    ) -> Self {
        let store = database.connect().await;
        let mut settings = database.settings();
        settings.instance_id = Some(id.to_owned());
        settings.run_lease = lease;
        configure(&mut settings);
        let state = AppState::with_parts(store, model, &settings);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind port 0");
        let address = listener.local_addr().expect("local address");
        let app = server::app(state.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            api: Api::new(&format!("http://{address}/v1")),
            state,
            keeper: None,
            ingestion: None,
            server,
        }
    }

    /// Stops answering and keeping leases (its run tasks stay, but on a model that
    /// never finishes a turn they write nothing more) and ingesting files: the
    /// instance died.
    pub(crate) fn die(&mut self) {
        if let Some(keeper) = self.keeper.take() {
            keeper.abort();
        }
        if let Some(ingestion) = self.ingestion.take() {
            ingestion.abort();
        }
        self.state.ingest.stop();
        self.server.abort();
    }

    /// The run as stored, with its version and lease holder.
    pub(crate) async fn stored_run(&self, thread_id: &str, run_id: &str) -> VersionedRun {
        self.state
            .store
            .get_versioned_run(&Tenant::from_api_key(KEY), thread_id, run_id)
            .await
            .expect("the run is stored")
    }

    /// This instance's lease holder.
    pub(crate) fn holder(&self) -> LeaseHolder {
        self.state.runs.instance().holder.clone()
    }
}
