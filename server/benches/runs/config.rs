//! How big a benchmark run is: full sizes under `cargo bench`, smoke sizes otherwise
//! (`cargo test --benches` runs the binary without `--bench`), each overridable by an
//! environment variable so a quick check needs no code change.

use std::collections::HashSet;

/// The measurements, selectable with
/// `BENCH_SECTIONS=overhead,delta,concurrent,requests,instances`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Section {
    /// Create→completed latency of sequential runs on the offline model.
    Overhead,
    /// Time to the first delta through the server versus straight from the upstream.
    FirstDelta,
    /// Many streamed runs at once.
    Concurrent,
    /// Read throughput against the unknown-route floor.
    Requests,
    /// Streamed runs per second through one to three instances.
    Instances,
}

/// Sizes and sections of one benchmark run.
#[derive(Debug, Clone)]
pub(crate) struct BenchConfig {
    /// Whether cargo ran us as a benchmark (`--bench`) rather than as a smoke test.
    pub full: bool,
    /// Sequential runs per variant in the overhead section (`BENCH_RUNS`).
    pub runs: usize,
    /// Samples per path in the first-delta section (`BENCH_DELTA_RUNS`).
    pub delta_runs: usize,
    /// Untimed iterations before each sequential measurement (`BENCH_WARMUP`).
    pub warmup: usize,
    /// Streamed runs started at once (`BENCH_CONCURRENT`).
    pub concurrent: usize,
    /// Rounds per request kind in the requests section (`BENCH_REQUEST_ROUNDS`).
    pub request_rounds: usize,
    /// Requests per round (`BENCH_REQUESTS`).
    pub requests_per_round: usize,
    /// Rounds per setup in the instances section (`BENCH_INSTANCE_ROUNDS`).
    pub instance_rounds: usize,
    /// Streamed runs per round in the instances section (`BENCH_INSTANCE_RUNS`).
    pub instance_runs: usize,
    /// Sections to run (`BENCH_SECTIONS`, default all).
    pub sections: HashSet<Section>,
}

impl BenchConfig {
    /// Reads the command line (for `--bench`) and the `BENCH_*` variables.
    pub(crate) fn from_env_and_args() -> Self {
        let full = std::env::args().any(|arg| arg == "--bench");
        let size = |name: &str, full_size: usize, smoke_size: usize| {
            std::env::var(name)
                .ok()
                .and_then(|value| value.trim().parse().ok())
                .unwrap_or(if full { full_size } else { smoke_size })
        };
        let sections = match std::env::var("BENCH_SECTIONS") {
            Ok(list) => list
                .split(',')
                .filter_map(|name| match name.trim() {
                    "overhead" => Some(Section::Overhead),
                    "delta" => Some(Section::FirstDelta),
                    "concurrent" => Some(Section::Concurrent),
                    "requests" => Some(Section::Requests),
                    "instances" => Some(Section::Instances),
                    _ => None,
                })
                .collect(),
            Err(_) => [
                Section::Overhead,
                Section::FirstDelta,
                Section::Concurrent,
                Section::Requests,
                Section::Instances,
            ]
            .into_iter()
            .collect(),
        };
        Self {
            full,
            runs: size("BENCH_RUNS", 200, 5),
            delta_runs: size("BENCH_DELTA_RUNS", 200, 5),
            warmup: size("BENCH_WARMUP", 10, 1),
            concurrent: size("BENCH_CONCURRENT", 500, 20),
            request_rounds: size("BENCH_REQUEST_ROUNDS", 9, 1),
            requests_per_round: size("BENCH_REQUESTS", 4000, 40),
            instance_rounds: size("BENCH_INSTANCE_ROUNDS", 5, 1),
            instance_runs: size("BENCH_INSTANCE_RUNS", 400, 16),
            sections,
        }
    }

    /// Whether `section` should run.
    pub(crate) fn wants(&self, section: Section) -> bool {
        self.sections.contains(&section)
    }

    /// The settings as environment variables, to reproduce the run.
    pub(crate) fn describe(&self) -> String {
        format!(
            "BENCH_RUNS={} BENCH_DELTA_RUNS={} BENCH_WARMUP={} BENCH_CONCURRENT={} \
             BENCH_REQUEST_ROUNDS={} BENCH_REQUESTS={} BENCH_INSTANCE_ROUNDS={} \
             BENCH_INSTANCE_RUNS={} ({})",
            self.runs,
            self.delta_runs,
            self.warmup,
            self.concurrent,
            self.request_rounds,
            self.requests_per_round,
            self.instance_rounds,
            self.instance_runs,
            if self.full {
                "full sizes: run with --bench"
            } else {
                "smoke sizes: run without --bench"
            }
        )
    }
}
