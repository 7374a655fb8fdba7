//! Many streamed runs at once on one SQLite database: N threads with one user message
//! each (created first, untimed), then N `POST /runs` with `stream: true` started
//! together, each read to `done`. Run once with the run limit raised to N and once
//! with the default limit ([`server::runs::DEFAULT_MAX_CONCURRENT_RUNS`], 64), where
//! the rest wait `queued`.

use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use crate::config::BenchConfig;
use crate::harness::{BenchServer, Serving};
use crate::process::{mib, reset_peak_rss, status_kib};
use crate::stats::{ms, Summary};
use crate::BenchResult;

/// The outcome of one burst.
pub(crate) struct BurstReport {
    /// The server's `max_concurrent_runs`.
    pub limit: usize,
    /// How the app was served.
    pub serving: Serving,
    /// Runs started at once.
    pub runs: usize,
    /// First `POST` sent → last `done` read.
    pub wall: Duration,
    /// Each successful run's `POST` → `done`.
    pub per_run: Option<Summary>,
    /// Runs that failed (transport error, non-200, `error` event, no `done`, not completed).
    pub errors: usize,
    /// The first failure, to reproduce it.
    pub first_error: Option<String>,
    /// Peak resident set of the whole process (server and clients) during the burst.
    pub peak_rss_kib: Option<u64>,
    /// Whether the peak could be reset before the burst (else it is the process's peak).
    pub peak_is_per_burst: bool,
}

/// Runs a burst of `config.concurrent` streamed runs on a fresh server with `limit`.
pub(crate) async fn measure(
    config: &BenchConfig,
    limit: usize,
    serving: Serving,
) -> BenchResult<BurstReport> {
    let server =
        BenchServer::start_serving(serving, |settings| settings.max_concurrent_runs = limit)
            .await?;
    let assistant = server.create_assistant().await?;
    let mut threads = Vec::with_capacity(config.concurrent);
    for _ in 0..config.concurrent {
        threads.push(server.thread_with_message().await?);
    }
    let server = std::sync::Arc::new(server);
    let peak_is_per_burst = reset_peak_rss();
    let started = Instant::now();
    let mut burst = JoinSet::new();
    for thread in threads {
        let (server, assistant) = (server.clone(), assistant.clone());
        burst.spawn(async move {
            let sent = Instant::now();
            let mut events = server.stream_run(&thread, &assistant).await?;
            events.read_to_done().await?;
            BenchResult::Ok(sent.elapsed())
        });
    }
    let (mut latencies, mut errors, mut first_error) = (Vec::new(), 0, None);
    while let Some(joined) = burst.join_next().await {
        match joined.map_err(|panic| panic.to_string()) {
            Ok(Ok(latency)) => latencies.push(latency),
            Ok(Err(error)) => {
                errors += 1;
                first_error.get_or_insert(error.to_string());
            }
            Err(panic) => {
                errors += 1;
                first_error.get_or_insert(panic);
            }
        }
    }
    let wall = started.elapsed();
    let peak_rss_kib = status_kib("VmHWM");
    std::sync::Arc::into_inner(server)
        .ok_or("a run task still holds the server")?
        .stop()
        .await?;
    Ok(BurstReport {
        limit,
        serving,
        runs: config.concurrent,
        wall,
        per_run: Summary::of(&latencies),
        errors,
        first_error,
        peak_rss_kib,
        peak_is_per_burst,
    })
}

/// The section's table.
pub(crate) fn render(bursts: &[BurstReport]) -> String {
    let mut out = String::from(
        "## 3. Concurrent streamed runs, offline model, one SQLite file (WAL, pool of 8)\n\n",
    );
    out += "| max_concurrent_runs | served     | runs | wall s | runs/s | per-run p50 ms | per-run p99 ms | errors | peak RSS MiB |\n";
    out += "|---------------------|------------|------|--------|--------|----------------|----------------|--------|--------------|\n";
    for burst in bursts {
        let (p50, p99) = burst
            .per_run
            .map_or(("-".to_owned(), "-".to_owned()), |summary| {
                (ms(summary.p50), ms(summary.p99))
            });
        out += &format!(
            "| {:>19} | {:<10} | {:>4} | {:>6.3} | {:>6.1} | {:>14} | {:>14} | {:>6} | {:>12} |\n",
            burst.limit,
            match burst.serving {
                Serving::AsShipped => "as shipped",
                Serving::NoDelay => "NODELAY",
            },
            burst.runs,
            burst.wall.as_secs_f64(),
            burst.runs as f64 / burst.wall.as_secs_f64(),
            p50,
            p99,
            burst.errors,
            format!(
                "{}{}",
                mib(burst.peak_rss_kib),
                if burst.peak_is_per_burst { "" } else { "*" }
            ),
        );
    }
    for burst in bursts {
        if let Some(error) = &burst.first_error {
            out += &format!("\nfirst error with limit {}: {error}\n", burst.limit);
        }
    }
    out += "\npeak RSS = VmHWM of the whole bench process (server + fake clients), reset \
            before each burst (* = could not reset: process-lifetime peak)\n";
    out
}
