//! The conformance harness for OpenAI Assistants API implementations: replays recorded scenarios
//! against any base URL and checks every response against OpenAI's OpenAPI document and the
//! recorded behaviour of the real service.
//!
//! Library API (used by the end-to-end tests; kept stable):
//! - [`RunConfig`] and [`run`]`(&config, &spec) -> Result<Results, HarnessError>` run the suite;
//!   [`run_with`] takes any [`Catalog`] and [`Progress`] instead.
//! - [`Results`] is the serde (de)serialisable outcome: per-scenario and per-step verdicts,
//!   findings with their [`Severity`], requests and responses, and every covered operation;
//!   [`Results::exit_code`] takes what `--fail-on` counts ([`FailOn`]).
//! - [`render_coverage`], [`render_report`] and [`render_junit`] render `coverage.md`, the
//!   ranked Markdown report and JUnit XML from results alone; [`render_compare`] renders several
//!   targets' results as one matrix.
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
pub mod invariants;
pub mod matcher;
pub mod multipart;
pub mod progress;
pub mod recordings;
pub mod report;
pub mod results;
pub mod runner;
pub mod schema_severity;
pub mod spec;
pub mod sse;
pub mod vars;
pub mod verdict;

pub use catalog::{Catalog, InMemoryCatalog};
pub use progress::Progress;
pub use report::{render_compare, render_coverage, render_junit, render_report};
pub use results::{FailOn, Results};
pub use runner::{run, run_with, HarnessError, RunConfig};
pub use verdict::{Severity, Verdict};

#[cfg(test)]
mod layering;
