//! A fresh database per test on the backend of [`Backend::from_env`]: an in-memory SQLite
//! database or a file in a temporary folder, or a new schema in the PostgreSQL database of
//! the run. Tests never share state, so they stay parallel and deterministic on both.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use server::store::Store;
use server::Settings;

use crate::backend::{postgres_url, Backend};
use crate::postgres;

/// A database of one test, removed when dropped (the temporary folder; the schema, whose
/// remaining sessions are ended first).
#[derive(Debug)]
pub struct TestDatabase {
    /// What [`server::store::connect`] and `--database` take.
    url: String,
    /// The backend the URL points at.
    backend: Backend,
    /// Holds the SQLite file, if any, and the data directory of the test's file bytes.
    folder: tempfile::TempDir,
    /// The PostgreSQL schema to drop, with the URL of its database.
    schema: Option<(String, String)>,
}

impl TestDatabase {
    /// A fresh database. On SQLite it is in memory: fastest, but every connection opens a
    /// new one, so a test that reconnects (a restart) takes [`TestDatabase::reconnectable`].
    pub async fn new() -> Self {
        match Backend::from_env() {
            Backend::Sqlite => Self::sqlite("sqlite::memory:".to_owned()),
            Backend::Postgres => Self::postgres().await,
        }
    }

    /// A fresh database that a second connection (a restarted server, another store)
    /// reaches again: a file on SQLite, the same schema on PostgreSQL.
    pub async fn reconnectable() -> Self {
        match Backend::from_env() {
            Backend::Sqlite => Self::sqlite_file(),
            Backend::Postgres => Self::postgres().await,
        }
    }

    /// A fresh SQLite database file whatever the run's backend, for the tests that are
    /// about SQLite itself (each such test says why). The file's folder does not exist
    /// yet: the server creates it, as it does for a first `--database` on a new machine.
    pub fn sqlite_file() -> Self {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let file = folder.path().join("sqlite/assistants.db");
        let url = format!("sqlite://{}", file.display());
        Self {
            url,
            backend: Backend::Sqlite,
            folder,
            schema: None,
        }
    }

    /// A fresh PostgreSQL schema whatever the run's backend (a migration's target), or
    /// `None` with a loud note when PostgreSQL does not answer; under
    /// `ASSISTANTS_REQUIRE_POSTGRES=1` that is a failure instead.
    pub async fn postgres_if_reachable() -> Option<Self> {
        let base = postgres_url();
        if let Err(error) = postgres::connect(&base).await {
            if std::env::var("ASSISTANTS_REQUIRE_POSTGRES").as_deref() == Ok("1") {
                panic!("PostgreSQL is required but does not answer: {error}");
            }
            eprintln!("POSTGRESQL TEST SKIPPED: PostgreSQL does not answer: {error}");
            return None;
        }
        Some(Self::postgres().await)
    }

    fn sqlite(url: String) -> Self {
        Self {
            url,
            backend: Backend::Sqlite,
            folder: tempfile::tempdir().expect("a temporary folder"),
            schema: None,
        }
    }

    async fn postgres() -> Self {
        let base = postgres_url();
        let schema = postgres::unique_name("test");
        if let Err(error) = postgres::create_schema(&base, &schema).await {
            panic!("creating the test schema {schema} in {base}: {error}");
        }
        Self {
            url: postgres::schema_url(&base, &schema),
            backend: Backend::Postgres,
            folder: tempfile::tempdir().expect("a temporary folder"),
            schema: Some((base, schema)),
        }
    }

    /// The database URL, for [`server::store::connect`], [`Settings::new`] or `--database`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The backend the database lives on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The PostgreSQL schema of this test, if it runs on PostgreSQL.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_ref().map(|(_, schema)| schema.as_str())
    }

    /// Where the test's file bytes go: a folder removed with the database (never
    /// `./data`, which a PostgreSQL URL would otherwise default to).
    pub fn data_dir(&self) -> PathBuf {
        self.folder.path().join("data")
    }

    /// The temporary folder of this database, for a test's own files beside it.
    pub fn folder(&self) -> &Path {
        self.folder.path()
    }

    /// Default settings (offline model, no delay) on this database and its data directory.
    pub fn settings(&self) -> Settings {
        let mut settings = Settings::new(self.url.clone());
        settings.data_dir = self.data_dir();
        settings
    }

    /// A store on this database, migrated.
    pub async fn connect(&self) -> Arc<dyn Store> {
        server::store::connect(&self.url)
            .await
            .unwrap_or_else(|error| {
                panic!("connecting to the {} test database: {error}", self.backend)
            })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((base, schema)) = self.schema.take() else {
            return;
        };
        // The drop runs on a plain thread with its own runtime: this may be inside a test's
        // runtime, where blocking on a future could deadlock it. A failure only leaves the
        // schema to the run-level database drop of the postgres half.
        let dropped = postgres::try_run_detached(async move {
            let result = postgres::drop_schema(&base, &schema).await;
            (schema, result)
        });
        match dropped {
            Some((_, Ok(()))) => {}
            Some((schema, Err(error))) => {
                eprintln!("testkit: leaving schema {schema} behind: {error}");
            }
            None => eprintln!("testkit: leaving a schema behind: its drop panicked"),
        }
    }
}
