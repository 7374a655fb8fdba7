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

pub mod annotations;
pub mod catalog;
pub mod check;
pub mod cli;
pub mod client;
pub mod fixture;
pub mod invariants;
pub mod matcher;
pub mod multipart;
pub mod poll;
pub mod progress;
pub mod recordings;
pub mod report;
pub mod results;
pub mod runner;
pub mod scenario;
pub mod schema_severity;
pub mod spec;
pub mod sse;
pub mod stream;
pub mod tenants;
pub mod vars;
pub mod verdict;

pub use catalog::{Catalog, InMemoryCatalog};
pub use progress::Progress;
pub use report::{render_coverage, render_report};
pub use results::Results;
pub use runner::{run, run_with, HarnessError, RunConfig};
pub use verdict::Verdict;
