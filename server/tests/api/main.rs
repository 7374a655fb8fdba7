//! The server's integration tests, one binary (one link instead of 33 on a 2-core CI). The
//! module tree mirrors the URL tree, as crates.io's `src/tests/` does: `assistants`,
//! `threads::{messages, runs::{steps, stream, submissions, ...}}`, `files`, `uploads`,
//! `vector_stores::{files, file_batches, search, ...}`, plus groups that are not URLs
//! (`auth`, `bad_input`, `blob_store`, `connection`, `llm`, `migrate`, `operations`, `recordings`,
//! `store`, `kit`) and the `support` helpers.
//!
//! Every test runs on the backend `ASSISTANTS_TEST_BACKEND` names (`sqlite` by default);
//! [`postgres_half`] runs the whole binary again on PostgreSQL (see `testkit::half`).

// Test code fails by panicking: unwrapping is how it says what broke.
#![allow(clippy::unwrap_used)]

mod assistants;
mod auth;
mod bad_input;
mod blob_store;
mod connection;
mod files;
mod kit;
mod llm;
mod migrate;
mod operations;
mod recordings;
mod store;
mod support;
mod threads;
mod uploads;
mod vector_stores;

/// This binary again on PostgreSQL, in a database made for the run and dropped after it;
/// skipped loudly when PostgreSQL is not reachable (a failure under
/// `ASSISTANTS_REQUIRE_POSTGRES=1`).
#[test]
fn postgres_half() {
    testkit::run_postgres_half();
}
