//! The small, cloneable state every handler receives.

use std::collections::HashSet;
use std::sync::Arc;

use crate::settings::Settings;
use crate::store::{self, Store, StoreResult};

/// Shared handles; cheap to clone (everything behind `Arc`).
#[derive(Clone)]
pub struct AppState {
    /// The storage backend.
    pub store: Arc<dyn Store>,
    /// Accepted API keys, or `None` to accept any key.
    pub api_keys: Option<Arc<HashSet<String>>>,
    /// Largest accepted request body in bytes.
    pub max_body_bytes: usize,
}

impl AppState {
    /// Connects the store named by `settings.database_url` and migrates it.
    pub async fn from_settings(settings: &Settings) -> StoreResult<Self> {
        let store = store::connect(&settings.database_url).await?;
        Ok(Self::with_store(store, settings))
    }

    /// State around an existing store (tests, other backends).
    pub fn with_store(store: Arc<dyn Store>, settings: &Settings) -> Self {
        Self {
            store,
            api_keys: settings.api_keys.clone().map(Arc::new),
            max_body_bytes: settings.max_body_bytes,
        }
    }
}
