//! Latency summaries (nearest-rank percentiles) and their rendering as table rows.

use std::time::Duration;

/// The distribution of one set of samples.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Summary {
    /// How many samples.
    pub count: usize,
    /// Median (nearest rank).
    pub p50: Duration,
    /// 99th percentile (nearest rank): with 200 samples, the second slowest.
    pub p99: Duration,
    /// Arithmetic mean.
    pub mean: Duration,
    /// Slowest sample.
    pub max: Duration,
}

impl Summary {
    /// Summarises `samples`; `None` when there are none.
    pub(crate) fn of(samples: &[Duration]) -> Option<Self> {
        if samples.is_empty() {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort();
        let rank = |quantile: f64| {
            let position = (quantile * sorted.len() as f64).ceil() as usize;
            sorted[position.clamp(1, sorted.len()) - 1]
        };
        let total: Duration = sorted.iter().sum();
        Some(Self {
            count: sorted.len(),
            p50: rank(0.50),
            p99: rank(0.99),
            mean: total / sorted.len() as u32,
            max: sorted[sorted.len() - 1],
        })
    }
}

/// Milliseconds with three decimals, the unit every table uses.
pub(crate) fn ms(duration: Duration) -> String {
    format!("{:.3}", duration.as_secs_f64() * 1000.0)
}

/// The header of a latency table.
pub(crate) fn latency_header() -> String {
    format!(
        "| {:<46} | {:>5} | {:>9} | {:>9} | {:>9} | {:>9} |\n|{}|{}|{}|{}|{}|{}|\n",
        "measurement",
        "n",
        "p50 ms",
        "p99 ms",
        "mean ms",
        "max ms",
        "-".repeat(48),
        "-".repeat(7),
        "-".repeat(11),
        "-".repeat(11),
        "-".repeat(11),
        "-".repeat(11),
    )
}

/// One row of a latency table.
pub(crate) fn latency_row(label: &str, summary: &Summary) -> String {
    format!(
        "| {:<46} | {:>5} | {:>9} | {:>9} | {:>9} | {:>9} |\n",
        label,
        summary.count,
        ms(summary.p50),
        ms(summary.p99),
        ms(summary.mean),
        ms(summary.max),
    )
}
