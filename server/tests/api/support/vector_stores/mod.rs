//! Helpers of the vector store tests: an app with a data directory whose state the
//! test keeps (for restart and cascade checks), text uploads, and polling that waits
//! for background ingestion with a bounded number of tries instead of fixed sleeps.

pub(crate) mod corpus;

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{json, Value};
use server::{AppState, Settings};

use crate::support::files::FilesApp;
use testkit::{TestApp, TestDatabase, KEY};

/// Polls at most this many times (2 ms apart: ten seconds in all) before failing.
const MAX_POLLS: usize = 5_000;

/// An app plus its state, on a database and data directory that outlive it.
pub(crate) struct VsApp {
    /// The app (with upload helpers).
    pub files: FilesApp,
    /// The state behind the app (store, ingestion queue).
    pub state: AppState,
}

impl VsApp {
    /// A fresh app on a fresh test database.
    pub(crate) async fn new() -> Self {
        Self::with(|s| s).await
    }

    /// A fresh app with adjusted settings.
    pub(crate) async fn with(configure: impl FnOnce(Settings) -> Settings) -> Self {
        let data = tempfile::tempdir().unwrap();
        let database = Arc::new(TestDatabase::new().await);
        let mut settings = database.settings();
        settings.data_dir = data.path().to_path_buf();
        Self::on(database, configure(settings), data).await
    }

    /// An app on `settings` (normally on `database`, which a restarted app may share)
    /// whose data directory is `data`.
    pub(crate) async fn on(
        database: Arc<TestDatabase>,
        settings: Settings,
        data: tempfile::TempDir,
    ) -> Self {
        let state = AppState::from_settings(&settings)
            .await
            .expect("store opens");
        Self {
            files: FilesApp {
                app: TestApp::from_state(database, state.clone()),
                data,
            },
            state,
        }
    }

    /// The app itself.
    pub(crate) fn app(&self) -> &TestApp {
        &self.files.app
    }

    /// Uploads a text file for `assistants` and returns its id.
    pub(crate) async fn upload_as(&self, key: &str, filename: &str, text: &str) -> String {
        let file = self
            .files
            .upload_as(key, filename, "assistants", text.as_bytes())
            .await;
        file["id"].as_str().unwrap().to_owned()
    }

    /// [`Self::upload_as`] with the default key.
    pub(crate) async fn upload(&self, filename: &str, text: &str) -> String {
        self.upload_as(KEY, filename, text).await
    }

    /// Creates a vector store from `body` and returns it.
    pub(crate) async fn create_store(&self, body: Value) -> Value {
        self.app().create("/v1/vector_stores", body).await
    }

    /// A store holding one text file per `(filename, text)`, fully ingested.
    pub(crate) async fn store_with(&self, documents: &[(&str, &str)]) -> (String, Vec<String>) {
        let mut ids = Vec::new();
        for (name, text) in documents {
            ids.push(self.upload(name, text).await);
        }
        let store = self.create_store(json!({"file_ids": ids})).await;
        let id = store["id"].as_str().unwrap().to_owned();
        let settled = self.settled_store(&id).await;
        assert_eq!(
            settled["file_counts"]["completed"],
            documents.len(),
            "{settled}"
        );
        (id, ids)
    }

    /// Polls `path` until `done` holds for its body, which it returns.
    pub(crate) async fn poll(&self, path: &str, done: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..MAX_POLLS {
            let response = self.app().get(path).await;
            assert_eq!(response.status, StatusCode::OK, "{}", response.text);
            let body = response.json();
            if done(&body) {
                return body;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        panic!("{path} never settled");
    }

    /// The store once no file is in progress.
    pub(crate) async fn settled_store(&self, id: &str) -> Value {
        self.poll(&format!("/v1/vector_stores/{id}"), |store| {
            store["file_counts"]["in_progress"] == 0
        })
        .await
    }

    /// Searches store `id` with `body` and returns the answer body.
    pub(crate) async fn search(&self, id: &str, body: Value) -> Value {
        self.app()
            .create(&format!("/v1/vector_stores/{id}/search"), body)
            .await
    }
}
