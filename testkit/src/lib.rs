//! The test kit shared by the server's tests, the end-to-end tests and the benchmarks: one
//! [`spawn_app`] (a real server on 127.0.0.1:0), [`TestApp`] (the router driven in-process),
//! [`TestDatabase`] (a fresh database per test on the backend `ASSISTANTS_TEST_BACKEND`
//! names), insta redactions that check a value's shape before hiding it, and the
//! [`run_postgres_half`] that runs a whole test binary again on PostgreSQL.

// Test code fails by panicking: unwrapping is how it says what broke.
#![allow(clippy::unwrap_used)]

pub mod app;
pub mod assertions;
pub mod backend;
pub mod database;
pub mod documents;
pub mod half;
pub mod postgres;
pub mod spawn;

pub use app::{TestApp, TestResponse};
pub use assertions::{assert_error, id_redaction, timestamp_redaction};
pub use backend::Backend;
pub use database::TestDatabase;
pub use half::run_postgres_half;
pub use spawn::{spawn_app, spawn_app_on, spawn_app_with, spawn_serving, SpawnedApp};

/// The key most tests use; any key is accepted unless `api_keys` is set.
pub const KEY: &str = "sk-test-tenant-a-0123456789";
/// A second tenant's key.
pub const OTHER_KEY: &str = "sk-test-tenant-b-0123456789";
