//! Metrics of the background work: runs (ended by status, working, waiting for one of
//! the `max_concurrent_runs` slots) and vector store file ingestion (working, waiting for
//! a worker). The gauges move through guards, so a task that ends any way (cancelled,
//! panicked) still gives its count back.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::models::RunStatus;

/// Labels of the ended-runs counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabels {
    /// A terminal run status ([`RunStatus::is_terminal`]), as its wire string.
    pub status: &'static str,
}

/// Run metrics of this instance.
#[derive(Debug, Clone, Default)]
pub struct RunMetrics {
    /// `assistants_runs_finished_total{status}`.
    finished: Family<StatusLabels, Counter>,
    /// `assistants_runs_active`: runs holding a worker slot (a model turn in flight).
    active: Gauge,
    /// `assistants_runs_waiting`: runs queued for a free worker slot.
    waiting: Gauge,
}

impl RunMetrics {
    /// Adds the families to `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "assistants_runs_finished",
            "Runs that reached a final status, by status",
            self.finished.clone(),
        );
        registry.register(
            "assistants_runs_active",
            "Runs this instance is working on (each holds a worker slot)",
            self.active.clone(),
        );
        registry.register(
            "assistants_runs_waiting",
            "Runs waiting for a worker slot (--max-concurrent-runs) in this instance",
            self.waiting.clone(),
        );
    }

    /// Counts a run event: `thread.run.<final status>` ends a run (each run emits one).
    pub fn run_event(&self, name: &str) {
        let Some(status) = name.strip_prefix("thread.run.") else {
            return;
        };
        if let Some(status) = status.parse::<RunStatus>().ok().filter(|s| s.is_terminal()) {
            let labels = StatusLabels {
                status: status.as_str(),
            };
            self.finished.get_or_create(&labels).inc();
        }
    }

    /// Holds one run in the waiting gauge until dropped.
    pub fn waiting(&self) -> GaugeGuard {
        GaugeGuard::new(&self.waiting)
    }

    /// Holds one run in the active gauge until dropped.
    pub fn active(&self) -> GaugeGuard {
        GaugeGuard::new(&self.active)
    }
}

/// Ingestion metrics of this instance.
#[derive(Debug, Clone, Default)]
pub struct IngestMetrics {
    /// `assistants_ingest_files_active`.
    active: Gauge,
    /// `assistants_ingest_files_waiting`.
    waiting: Gauge,
}

impl IngestMetrics {
    /// Adds the families to `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "assistants_ingest_files_active",
            "Vector store files being ingested by this instance",
            self.active.clone(),
        );
        registry.register(
            "assistants_ingest_files_waiting",
            "Vector store files waiting for an ingestion worker (--ingest-workers) in this instance",
            self.waiting.clone(),
        );
    }

    /// Holds one file in the waiting gauge until dropped.
    pub fn waiting(&self) -> GaugeGuard {
        GaugeGuard::new(&self.waiting)
    }

    /// Holds one file in the active gauge until dropped.
    pub fn active(&self) -> GaugeGuard {
        GaugeGuard::new(&self.active)
    }
}

/// One unit of a gauge, given back when dropped.
#[derive(Debug)]
pub struct GaugeGuard(Gauge);

impl GaugeGuard {
    fn new(gauge: &Gauge) -> Self {
        gauge.inc();
        Self(gauge.clone())
    }
}

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_final_run_events_count_and_guards_give_back() {
        let runs = RunMetrics::default();
        for name in [
            "thread.run.created",
            "thread.run.in_progress",
            "thread.run.requires_action",
            "thread.run.cancelling",
            "thread.run.completed",
            "thread.run.step.completed",
            "thread.run.cancelled",
        ] {
            runs.run_event(name);
        }
        let count = |status| runs.finished.get_or_create(&StatusLabels { status }).get();
        assert_eq!((count("completed"), count("cancelled")), (1, 1));
        assert_eq!(count("failed"), 0);
        assert_eq!((count("requires_action"), count("cancelling")), (0, 0));
        let guard = runs.waiting();
        assert_eq!(runs.waiting.get(), 1);
        drop(guard);
        assert_eq!(runs.waiting.get(), 0);
    }
}
