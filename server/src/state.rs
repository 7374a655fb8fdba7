//! The small, cloneable state every handler receives.

use std::collections::HashSet;
use std::sync::Arc;

use crate::embeddings::EmbeddingsClient;
use crate::files::{BlobStore, DataDir};
use crate::llm::ChatModel;
use crate::ops::metrics::MeteredModel;
use crate::ops::OpsState;
use crate::runs::{InstanceConfig, RunEngine};
use crate::settings::Settings;
use crate::store::{self, Store, StoreError, StoreResult};

/// Shared handles; cheap to clone (everything behind `Arc`).
#[derive(Clone)]
pub struct AppState {
    /// The storage backend.
    pub store: Arc<dyn Store>,
    /// The run executor (model, event channels, background tasks).
    pub runs: Arc<RunEngine>,
    /// Accepted API keys, or `None` to accept any key.
    pub api_keys: Option<Arc<HashSet<String>>>,
    /// Largest accepted request body in bytes.
    pub max_body_bytes: usize,
    /// Where file and upload bytes are kept: the data directory, or the object storage
    /// every instance shares.
    pub data: Arc<dyn BlobStore>,
    /// Largest file `POST /v1/files` accepts.
    pub max_file_bytes: u64,
    /// Most bytes one tenant may store, when a quota is set.
    pub storage_quota: Option<u64>,
    /// The background ingestion queue of vector store files.
    pub ingest: Arc<crate::vector_stores::Ingestor>,
    /// The embeddings upstream behind hybrid search, when one is configured.
    pub embeddings: Option<Arc<EmbeddingsClient>>,
    /// Metrics, the metrics token and whether shutdown began (probes read it).
    pub ops: Arc<OpsState>,
}

impl AppState {
    /// Connects the store named by `settings.database_url`, migrates it and builds the
    /// model `settings.llm` names.
    pub async fn from_settings(settings: &Settings) -> StoreResult<Self> {
        let store = store::connect(&settings.database_url).await?;
        let model = settings
            .llm
            .build_model()
            .map_err(|e| StoreError::Unsupported(format!("configuring the model: {e}")))?;
        if let Some(config) = &settings.embeddings {
            EmbeddingsClient::new(config.clone()).map_err(|e| {
                StoreError::Unsupported(format!("configuring the embeddings upstream: {e}"))
            })?;
        }
        let state = Self::with_parts(store, model, settings);
        crate::files::expiry::clean_up_at_startup(state.store.as_ref(), state.data.as_ref())
            .await?;
        Ok(state)
    }

    /// State around an existing store and model (tests, other backends). An unusable
    /// embeddings configuration is logged and left out ([`Self::from_settings`]
    /// refuses it instead).
    pub fn with_parts(
        store: Arc<dyn Store>,
        model: Arc<dyn ChatModel>,
        settings: &Settings,
    ) -> Self {
        let ops = Arc::new(OpsState::new(settings.metrics_token.clone()));
        let metrics = &ops.metrics;
        let model: Arc<dyn ChatModel> =
            Arc::new(MeteredModel::new(model, metrics.upstream.clone()));
        let embeddings = settings.embeddings.as_ref().and_then(|config| {
            match EmbeddingsClient::new(config.clone()) {
                Ok(client) => Some(Arc::new(with_embedding_routes(client, settings))),
                Err(error) => {
                    tracing::error!(%error, "the embeddings upstream is unusable; keyword search only");
                    None
                }
            }
        });
        let runs = Arc::new(
            RunEngine::new(
                Arc::clone(&store),
                model,
                settings.run_expiry,
                settings.max_concurrent_runs,
            )
            .with_instance(instance_config(settings))
            .with_embeddings(embeddings.clone())
            .with_metrics(metrics.runs.clone()),
        );
        let data = match &settings.blob_store {
            Some(shared) => Arc::clone(shared),
            None => Arc::new(DataDir::new(&settings.data_dir)) as Arc<dyn BlobStore>,
        };
        let ingest = Arc::new(
            crate::vector_stores::Ingestor::new(
                Arc::clone(&store),
                Arc::clone(&data),
                settings.ingest_workers,
            )
            .with_embeddings(embeddings.clone())
            .with_metrics(metrics.ingest.clone())
            .with_instance(runs.instance().clone()),
        );
        Self {
            store,
            runs,
            api_keys: settings.api_keys.clone().map(Arc::new),
            max_body_bytes: settings.max_body_bytes,
            data,
            max_file_bytes: settings.max_file_bytes,
            storage_quota: settings.storage_quota,
            ingest,
            embeddings,
            ops,
        }
    }
}

/// The embeddings client routing store models through the providers table (built-in,
/// plus `--llm-providers`); an unreadable providers file is logged and leaves every
/// model on the configured embeddings upstream.
fn with_embedding_routes(client: EmbeddingsClient, settings: &Settings) -> EmbeddingsClient {
    match crate::llm::providers::load_table(settings.llm.llm_providers.as_deref()) {
        Ok(table) => client.with_routes(Arc::new(table)),
        Err(error) => {
            tracing::error!(%error, "embedding models are not routed to providers");
            client
        }
    }
}

/// The instance id and lease length `settings` give (a random id when none is set).
fn instance_config(settings: &Settings) -> InstanceConfig {
    let mut config = InstanceConfig::default();
    if let Some(id) = &settings.instance_id {
        config = InstanceConfig::new(id.clone(), settings.run_lease);
    }
    config.lease = settings.run_lease;
    config
}
