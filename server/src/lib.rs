//! Reference implementation of OpenAI's Assistants API v2 (assistants, threads,
//! messages, runs and run steps), answering byte for byte as the real service did. `main` only parses
//! flags; everything else (router, store, validation) lives in this library so
//! tests can drive it without a socket.

pub mod api_error;
pub mod embeddings;
pub mod extract;
pub mod files;
pub mod ids;
pub mod json;
pub mod llm;
pub mod middleware;
pub mod models;
pub mod ops;
pub mod routes;
pub mod runs;
pub mod serve;
pub mod settings;
pub mod state;
pub mod store;
pub mod validation;
pub mod vector_stores;

pub use api_error::ApiError;
pub use routes::app;
pub use settings::Settings;
pub use state::AppState;

use std::future::Future;

/// Why the server could not start or keep serving.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Store(#[from] store::StoreError),
    /// The listener failed.
    #[error("serving: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves the API on `listener` until `shutdown` resolves, then drains open requests and
/// hands the runs it still works on back to the other instances.
pub async fn run(
    listener: tokio::net::TcpListener,
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    run_listeners(Listeners::api_only(listener), settings, shutdown).await
}

/// The sockets the server answers on.
#[derive(Debug)]
pub struct Listeners {
    /// The API (and the probes, and `/metrics` behind `--metrics-token`).
    pub api: tokio::net::TcpListener,
    /// The operator's `/metrics`, `/healthz` and `/readyz`, without an API key.
    pub operator: Option<tokio::net::TcpListener>,
}

impl Listeners {
    /// The API listener alone.
    pub fn api_only(api: tokio::net::TcpListener) -> Self {
        Self {
            api,
            operator: None,
        }
    }
}

/// Serves the API (and the operator listener, when there is one) until `shutdown`
/// resolves. Then `/readyz` fails while open API requests drain (streams finish their
/// runs), so load balancers stop sending traffic, and the instance claims no more runs;
/// then the runs it still works on are handed back to the other instances, and the
/// operator listener closes last.
pub async fn run_listeners(
    listeners: Listeners,
    mut settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    if settings.instance_id.is_none() {
        let port = listeners.api.local_addr()?.port();
        settings.instance_id = Some(runs::instance::default_instance_id(port));
    }
    let state = AppState::from_settings(&settings).await?;
    let keeper = state.runs.join_instances().await?;
    tracing::info!(instance = %state.runs.instance().holder.instance, "joined the instances on the database");
    let ingestion = state.ingest.join_instances().await?;
    let housekeeping = files::housekeeping::spawn(
        state.store.clone(),
        state.data.clone(),
        settings.housekeeping_interval,
    );
    tracing::info!(address = %listeners.api.local_addr()?, "listening");
    let operator = match listeners.operator {
        Some(listener) => {
            tracing::info!(address = %listener.local_addr()?, "operator listening");
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let serving = tokio::spawn(serve::serve(
                listener,
                ops::operator_app(state.clone()),
                settings.connections.clone(),
                async {
                    let _ = stopped.await;
                },
            ));
            Some((stop, serving))
        }
        None => None,
    };
    let store = state.store.clone();
    let ops = state.ops.clone();
    let engine = state.runs.clone();
    let ingest = state.ingest.clone();
    let draining = {
        let engine = engine.clone();
        async move {
            shutdown.await;
            ops.start_draining();
            engine.stop_claiming();
        }
    };
    serve::serve(
        listeners.api,
        app(state),
        settings.connections.clone(),
        draining,
    )
    .await;
    // Open streams have finished their runs; the runs still worked on here go to the
    // other instances now rather than when their leases run out.
    if let Err(error) = engine.hand_back().await {
        tracing::error!(%error, "handing runs back failed; they are taken over when their leases run out");
    }
    keeper.abort();
    // Files being ingested here go to the other instances now too (an instance started
    // again with the same id would take them at once anyway).
    ingestion.abort();
    if let Err(error) = ingest.hand_back().await {
        tracing::error!(%error, "handing ingestion back failed; files are taken over when their leases run out");
    }
    if let Some((stop, serving)) = operator {
        let _ = stop.send(());
        let _ = serving.await;
    }
    if let Some(task) = housekeeping {
        task.abort();
    }
    store.close().await;
    Ok(())
}
