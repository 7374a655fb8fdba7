//! Operating the server: the probes a load balancer asks (`/healthz`, `/readyz`), the
//! Prometheus metrics (`/metrics`) and where they are served, request ids and logs a
//! log shipper can read. None of it carries a tenant's ids, content or keys.

pub mod health;
pub mod logging;
pub mod metrics;
pub mod request;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::routing::get;
use axum::Router;

use crate::state::AppState;
pub use logging::LogFormat;
pub use metrics::{Metrics, MetricsToken};

/// The operator flags; flatten them into the binary's own `Parser`.
#[derive(Debug, Clone, clap::Args)]
pub struct OpsArgs {
    /// Log lines as `text` (for people) or `json` (one object a line, for log shippers).
    /// Colours only when the output is a terminal and NO_COLOR is unset.
    #[arg(long, env = "ASSISTANTS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Address of the operator listener, serving /metrics, /healthz and /readyz without
    /// an API key (keep it off the public network).
    #[arg(long, env = "ASSISTANTS_OPERATOR_LISTEN", value_name = "ADDR")]
    pub operator_listen: Option<SocketAddr>,
    /// Serve /metrics on the main address too, to requests carrying
    /// `Authorization: Bearer TOKEN`; without it /metrics there is an unknown URL.
    #[arg(
        long,
        env = "ASSISTANTS_METRICS_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub metrics_token: Option<String>,
}

/// What the operator surface shares with every handler (behind `Arc` in the app state).
#[derive(Debug)]
pub struct OpsState {
    /// The metrics registry and its families.
    pub metrics: Metrics,
    /// The token that opens `/metrics` on the main address, when one is set.
    pub metrics_token: Option<MetricsToken>,
    /// Set once shutdown began: `/readyz` then fails, so load balancers stop sending
    /// traffic while open requests drain.
    draining: AtomicBool,
}

impl OpsState {
    /// Fresh metrics; `/metrics` on the main address opens to `metrics_token`.
    pub fn new(metrics_token: Option<MetricsToken>) -> Self {
        Self {
            metrics: Metrics::new(),
            metrics_token,
            draining: AtomicBool::new(false),
        }
    }

    /// Marks the instance as shutting down (see [`Self::is_draining`]).
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// Whether shutdown began.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }
}

/// The operator listener's app: probes and metrics, no API key, nothing else.
pub fn operator_app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::exposition::scrape))
        .fallback(health::not_found)
        .with_state(state)
}
