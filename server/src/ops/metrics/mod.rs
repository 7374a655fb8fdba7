//! The Prometheus metrics: one registry per app state, encoded in the OpenMetrics text
//! format at `/metrics`. Labels are routes as templates, methods, statuses, run
//! statuses and provider names, all from fixed or operator-chosen sets: never an object
//! id, a tenant, a key or anything a model or a client wrote.

pub mod exposition;
pub mod http;
pub mod upstream;
pub mod work;

use prometheus_client::registry::Registry;

pub use exposition::MetricsToken;
pub use http::HttpMetrics;
pub use upstream::{MeteredModel, UpstreamMetrics};
pub use work::{IngestMetrics, RunMetrics};

/// Every metric family of one server, and the registry that encodes them.
#[derive(Debug)]
pub struct Metrics {
    /// Encodes every family below.
    registry: Registry,
    /// Requests by route template, method and status; latency by route and method.
    pub http: HttpMetrics,
    /// Runs ended by status; runs working and waiting for a worker slot.
    pub runs: RunMetrics,
    /// Vector store files being ingested and waiting for an ingestion worker.
    pub ingest: IngestMetrics,
    /// Model calls by provider: count, errors, latency.
    pub upstream: UpstreamMetrics,
}

impl Metrics {
    /// Fresh families, registered.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let (http, runs, ingest, upstream) = Default::default();
        HttpMetrics::register(&http, &mut registry);
        RunMetrics::register(&runs, &mut registry);
        IngestMetrics::register(&ingest, &mut registry);
        UpstreamMetrics::register(&upstream, &mut registry);
        Self {
            registry,
            http,
            runs,
            ingest,
            upstream,
        }
    }

    /// The current values in the OpenMetrics text format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
