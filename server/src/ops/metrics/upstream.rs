//! Model call metrics: [`MeteredModel`] wraps the server's [`ChatModel`] and counts each
//! turn, its errors by `last_error.code`, its time to the first event and to its end,
//! labelled by the provider the turn went to (`openai`, `groq`, an operator's
//! `openai_compatible/NAME`, `offline`), never by key or by a model name a client chose.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use futures::Stream;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};

use crate::llm::providers::RouteError;
use crate::llm::{ChatEvent, ChatModel, ChatRequest, ChatStream, LlmError};

/// The provider label of a turn whose model routes nowhere (it fails before any call).
pub const UNROUTED: &str = "unrouted";

/// Labels of the per-provider families.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProviderLabels {
    /// The provider's name in the routing table.
    pub provider: String,
}

/// Labels of the error counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    /// As in [`ProviderLabels::provider`].
    pub provider: String,
    /// The run's `last_error.code` the failure maps to.
    pub code: &'static str,
}

/// Model call metrics.
#[derive(Debug, Clone)]
pub struct UpstreamMetrics {
    /// `assistants_upstream_requests_total{provider}`: model turns started.
    requests: Family<ProviderLabels, Counter>,
    /// `assistants_upstream_errors_total{provider,code}`.
    errors: Family<ErrorLabels, Counter>,
    /// `assistants_upstream_first_event_seconds{provider}`: until the model's first event.
    first_event: Family<ProviderLabels, Histogram>,
    /// `assistants_upstream_duration_seconds{provider}`: until the turn ended (or failed,
    /// or was cancelled).
    duration: Family<ProviderLabels, Histogram>,
}

fn turn_histogram() -> Histogram {
    // 10 ms to ~11 min, past the longest turn `--llm-timeout-secs` allows by default.
    Histogram::new(exponential_buckets(0.01, 2.0, 17))
}

impl Default for UpstreamMetrics {
    fn default() -> Self {
        Self {
            requests: Family::default(),
            errors: Family::default(),
            first_event: Family::new_with_constructor(turn_histogram),
            duration: Family::new_with_constructor(turn_histogram),
        }
    }
}

impl UpstreamMetrics {
    /// Adds the families to `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "assistants_upstream_requests",
            "Model turns started, by provider",
            self.requests.clone(),
        );
        registry.register(
            "assistants_upstream_errors",
            "Model turns that failed, by provider and the run's last_error.code",
            self.errors.clone(),
        );
        registry.register_with_unit(
            "assistants_upstream_first_event",
            "Time from calling the model to its first event, by provider",
            Unit::Seconds,
            self.first_event.clone(),
        );
        registry.register_with_unit(
            "assistants_upstream_duration",
            "Time from calling the model to the end of its answer, by provider",
            Unit::Seconds,
            self.duration.clone(),
        );
    }

    fn labels(provider: &str) -> ProviderLabels {
        ProviderLabels {
            provider: provider.to_owned(),
        }
    }

    fn failed(&self, provider: &str, error: &LlmError) {
        self.errors
            .get_or_create(&ErrorLabels {
                provider: provider.to_owned(),
                code: error.kind.code(),
            })
            .inc();
    }
}

/// The server's model with every turn measured.
pub struct MeteredModel {
    inner: Arc<dyn ChatModel>,
    metrics: UpstreamMetrics,
}

impl MeteredModel {
    /// Measures `inner` into `metrics`.
    pub fn new(inner: Arc<dyn ChatModel>, metrics: UpstreamMetrics) -> Self {
        Self { inner, metrics }
    }
}

#[async_trait::async_trait]
impl ChatModel for MeteredModel {
    async fn stream(&self, request: ChatRequest) -> Result<ChatStream, LlmError> {
        let provider = self
            .inner
            .provider_name(&request.model)
            .unwrap_or_else(|| UNROUTED.to_owned());
        self.metrics
            .requests
            .get_or_create(&UpstreamMetrics::labels(&provider))
            .inc();
        let mut turn = Turn {
            metrics: self.metrics.clone(),
            provider,
            started: Instant::now(),
            seen_event: false,
            ended: false,
        };
        match self.inner.stream(request).await {
            Ok(events) => Ok(Box::pin(MeteredStream { events, turn })),
            Err(error) => {
                turn.fail(&error);
                turn.end();
                Err(error)
            }
        }
    }

    fn check_model(&self, model: &str) -> Result<(), RouteError> {
        self.inner.check_model(model)
    }

    fn provider_name(&self, model: &str) -> Option<String> {
        self.inner.provider_name(model)
    }
}

/// One model turn being measured.
struct Turn {
    metrics: UpstreamMetrics,
    provider: String,
    started: Instant,
    seen_event: bool,
    ended: bool,
}

impl Turn {
    fn event(&mut self) {
        if !self.seen_event {
            self.seen_event = true;
            self.metrics
                .first_event
                .get_or_create(&UpstreamMetrics::labels(&self.provider))
                .observe(self.started.elapsed().as_secs_f64());
        }
    }

    fn fail(&self, error: &LlmError) {
        self.metrics.failed(&self.provider, error);
    }

    fn end(&mut self) {
        if !self.ended {
            self.ended = true;
            self.metrics
                .duration
                .get_or_create(&UpstreamMetrics::labels(&self.provider))
                .observe(self.started.elapsed().as_secs_f64());
        }
    }
}

/// The turn's events, measured as they pass; a stream dropped early (a cancelled run)
/// ends the turn's timing there.
struct MeteredStream {
    events: ChatStream,
    turn: Turn,
}

impl Stream for MeteredStream {
    type Item = Result<ChatEvent, LlmError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = self.events.as_mut().poll_next(cx);
        match &polled {
            Poll::Ready(Some(Ok(_))) => self.turn.event(),
            Poll::Ready(Some(Err(error))) => {
                self.turn.fail(error);
                self.turn.end();
            }
            Poll::Ready(None) => self.turn.end(),
            Poll::Pending => {}
        }
        polled
    }
}

impl Drop for MeteredStream {
    fn drop(&mut self) {
        self.turn.end();
    }
}
