//! The conformance harness for OpenAI Assistants API implementations: replays recorded scenarios
//! against any base URL and checks every response against OpenAI's OpenAPI document and the
//! recorded behaviour of the real service.
//!
//! Library API (used by the end-to-end tests; kept stable):
//! - [`RunConfig`] and [`run`]`(&config, &spec) -> Result<Results, HarnessError>` run the suite;
//!   [`run_with`] takes any [`Catalog`] and [`Progress`] instead.
//! - [`Results`] is the serde (de)serialisable outcome: per-scenario and per-step verdicts,
//!   findings, requests and responses, and every covered operation.
//! - [`render_coverage`] and [`render_report`] render `coverage.md` and the Markdown report from
//!   results alone.
//! - [`recordings::check_recordings`] validates recorded traffic (the `check-recordings` subcommand).
//!
//! Layers, each using only those above it in this list (no module reaches up):
//! 1. `sse`, `vars`, `verdict`, then `spec`, `matcher`, `multipart`, `annotations`: the
//!    document, variables, body matchers and verdicts;
//! 2. `catalog`, `fixture`: what the runner needs of the document, and scenario files;
//! 3. `client` (plain HTTP transport) and `results` (the outcome as data);
//! 4. `check`: judging one response against its step;
//! 5. `exec`: the step context, requests from steps, polling, streams and scenarios;
//! 6. `report`, `recordings`, then `progress`, then `runner`, then `cli`.
//!
//! `layering.rs` holds the exact ranks and a test that fails on an import pointing up.

pub mod annotations;
pub mod catalog;
pub mod check;
pub mod cli;
pub mod client;
pub mod exec;
pub mod fixture;
pub mod matcher;
pub mod multipart;
pub mod progress;
pub mod recordings;
pub mod report;
pub mod results;
pub mod runner;
pub mod spec;
pub mod sse;
pub mod vars;
pub mod verdict;

pub use catalog::{Catalog, InMemoryCatalog};
pub use progress::Progress;
pub use report::{render_coverage, render_report};
pub use results::Results;
pub use runner::{run, run_with, HarnessError, RunConfig};
pub use verdict::Verdict;

#[cfg(test)]
mod layering;
