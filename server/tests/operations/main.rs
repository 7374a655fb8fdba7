//! Operating the server (`server::ops`): probes (`/healthz`, `/readyz`, the operator
//! listener and draining), metrics (names, labels, exposure, no tenant data) and logs
//! (request ids, JSON lines, no colour codes in files). A test target of its own:
//! `cargo test --workspace --test operations`.

#[path = "../common/mod.rs"]
mod common;
#[path = "../run_support/mod.rs"]
mod run_support;

mod logs;
mod metrics;
mod probes;
mod support;
