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

/// Serves the API on `listener` until `shutdown` resolves, then drains open requests.
pub async fn run(
    listener: tokio::net::TcpListener,
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let state = AppState::from_settings(&settings).await?;
    state.runs.recover_unfinished().await?;
    state.ingest.resume().await?;
    let housekeeping = files::housekeeping::spawn(
        state.store.clone(),
        state.data.clone(),
        settings.housekeeping_interval,
    );
    tracing::info!(address = %listener.local_addr()?, "listening");
    let store = state.store.clone();
    serve::serve(listener, app(state), settings.connections.clone(), shutdown).await;
    if let Some(task) = housekeeping {
        task.abort();
    }
    store.close().await;
    Ok(())
}
