//! HTTP request metrics, recorded by a layer of the main app where axum has already
//! matched the route: the label is the route's template (`/v1/threads/{thread_id}/runs`),
//! never the path a client sent, so ids never become labels and a scan of random URLs
//! adds one series (`unmatched`), not one per URL.

use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};

use crate::state::AppState;

/// The route label of requests no route matched.
pub const UNMATCHED: &str = "unmatched";

/// Labels of the request counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The matched route's template, or [`UNMATCHED`].
    pub route: String,
    /// The method, or `other` for a method HTTP does not define.
    pub method: &'static str,
    /// The answer's status code.
    pub status: u16,
}

/// Labels of the latency histogram (no status: fewer series).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// As in [`RequestLabels::route`].
    pub route: String,
    /// As in [`RequestLabels::method`].
    pub method: &'static str,
}

/// Request counts and latencies.
#[derive(Debug, Clone)]
pub struct HttpMetrics {
    /// `assistants_http_requests_total`.
    requests: Family<RequestLabels, Counter>,
    /// `assistants_http_request_duration_seconds`: until the answer's head is ready (a
    /// streamed run's events come after).
    duration: Family<RouteLabels, Histogram>,
}

impl Default for HttpMetrics {
    fn default() -> Self {
        Self {
            requests: Family::default(),
            // 1 ms to ~33 s.
            duration: Family::new_with_constructor(|| {
                Histogram::new(exponential_buckets(0.001, 2.0, 16))
            }),
        }
    }
}

impl HttpMetrics {
    /// Adds the families to `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "assistants_http_requests",
            "HTTP requests by route template, method and status",
            self.requests.clone(),
        );
        registry.register_with_unit(
            "assistants_http_request_duration",
            "Time until the answer's head, by route template and method",
            Unit::Seconds,
            self.duration.clone(),
        );
    }

    /// Counts one answered request.
    pub fn observe(&self, route: String, method: &Method, status: StatusCode, took: Duration) {
        let method = method_label(method);
        self.duration
            .get_or_create(&RouteLabels {
                route: route.clone(),
                method,
            })
            .observe(took.as_secs_f64());
        self.requests
            .get_or_create(&RequestLabels {
                route,
                method,
                status: status.as_u16(),
            })
            .inc();
    }
}

/// A method as a label: the ones HTTP defines, everything else (a client may send any
/// token) as `other`.
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::DELETE => "DELETE",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "other",
    }
}

/// Layer of the main app recording every request it answers.
pub async fn record(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, MatchedPath::as_str)
        .to_owned();
    let method = request.method().clone();
    let started = Instant::now();
    let response = next.run(request).await;
    state
        .ops
        .metrics
        .http
        .observe(route, &method, response.status(), started.elapsed());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_methods_share_one_label() {
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        let odd = Method::from_bytes(b"SECRETSAUCE").unwrap();
        assert_eq!(method_label(&odd), "other");
    }
}
