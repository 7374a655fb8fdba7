//! Many instances, one server: several server instances on one database answer as one
//! server. Every test runs on the backend `ASSISTANTS_TEST_BACKEND` names (SQLite by
//! default), and `postgres_half` runs them all again on PostgreSQL.
//!
//! - `engines`: instances in this process (each its own store connection pool and run
//!   engine, so each is an instance as far as the database can tell) prove the lease,
//!   takeover, race and cancel rules with models that never finish a turn;
//! - `credentials`: a taken-over run never uses another key than the operator's;
//! - `ingestion`: a vector store file is ingested by the instance holding its lease,
//!   left alone by a starting instance, and taken over once its holder died;
//! - `cluster`: the real `assistants-server` binary started three times behind a
//!   round-robin proxy (per request, so a create and its stream land on different
//!   instances): the conformance harness in `--strict`, cross-instance run sequences,
//!   SDK stream helpers, kill -9 of the instance driving a streamed run, cancel across
//!   instances, and 200 concurrent clients.
//!
//! The tests run one at a time (they start many servers on a small machine) and print
//! the figures they observe (takeover time, cancel latency); they assert outcomes only.

// Test code fails by panicking: unwrapping is how it says what broke.
#![allow(clippy::unwrap_used)]

mod client;
mod cluster;
mod credentials;
mod engines;
mod expiry;
mod harness;
mod ingestion;
mod load;
mod models;
mod node;
mod proxy;
mod takeover;

use tokio::sync::{Mutex, MutexGuard};

/// Held by every test for its whole run, so they run one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

/// Takes the one-test-at-a-time lock.
pub async fn serial() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().await
}

/// This binary again with every instance on PostgreSQL, in a database made for the run
/// and dropped after it; skipped loudly when PostgreSQL is not reachable (a failure under
/// `ASSISTANTS_REQUIRE_POSTGRES=1`). See `testkit::half`.
#[test]
fn postgres_half() {
    testkit::run_postgres_half();
}
