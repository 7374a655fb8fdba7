//! Which store backend the tests of this process run on, read once from the environment, so
//! one test binary can run its whole suite on SQLite or on PostgreSQL without a rebuild.

use std::fmt;

/// Names the backend: `sqlite` (the default) or `postgres`.
pub const BACKEND_VAR: &str = "ASSISTANTS_TEST_BACKEND";
/// The PostgreSQL database (or server) the postgres tests use.
pub const POSTGRES_URL_VAR: &str = "ASSISTANTS_TEST_POSTGRES_URL";
/// Set to `1` (CI does) to turn a skipped PostgreSQL half into a failure.
pub const REQUIRE_POSTGRES_VAR: &str = "ASSISTANTS_REQUIRE_POSTGRES";
/// The machine's PostgreSQL as these machines run it (trust auth, user `postgres`).
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A store backend the tests can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default: an in-memory database or a file in a temporary folder.
    Sqlite,
    /// A fresh schema per test inside the database named by [`POSTGRES_URL_VAR`].
    Postgres,
}

impl Backend {
    /// The backend [`BACKEND_VAR`] names; SQLite when it is unset or empty.
    ///
    /// # Panics
    /// On any other value, so a typo never silently runs the SQLite suite twice.
    pub fn from_env() -> Self {
        match std::env::var(BACKEND_VAR) {
            Err(_) => Backend::Sqlite,
            Ok(value) => Self::parse(&value).unwrap_or_else(|| {
                panic!("{BACKEND_VAR}={value:?}: expected `sqlite` or `postgres`")
            }),
        }
    }

    /// Whether [`BACKEND_VAR`] names a backend explicitly (a child run, or a developer's
    /// choice), in which case the postgres half does not run.
    pub fn chosen_explicitly() -> bool {
        std::env::var_os(BACKEND_VAR).is_some_and(|value| !value.is_empty())
    }

    /// Parses a backend name; `None` for an unknown one.
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim() {
            "" | "sqlite" => Some(Backend::Sqlite),
            "postgres" | "postgresql" => Some(Backend::Postgres),
            _ => None,
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        })
    }
}

/// The PostgreSQL URL of [`POSTGRES_URL_VAR`], or [`DEFAULT_POSTGRES_URL`].
pub fn postgres_url() -> String {
    std::env::var(POSTGRES_URL_VAR)
        .ok()
        .filter(|url| !url.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_POSTGRES_URL.to_owned())
}
