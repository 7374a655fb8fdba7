//! Benchmarks of runs in the reference server (`cargo bench --workspace --bench runs`):
//! run overhead with the offline model, the time a streamed run adds before the first
//! delta over a direct upstream call, a burst of concurrent streamed runs on SQLite,
//! read throughput against the unknown-route floor, and streamed runs per second
//! through one to three instances on one database. Everything runs in this
//! process over loopback HTTP; sizes come from `BENCH_*` variables (see [`config`])
//! and the results are printed as tables.

// Test code fails by panicking: unwrapping is how it says what broke.
#![allow(clippy::unwrap_used)]

mod concurrent;
mod config;
mod fake_upstream;
mod first_delta;
mod harness;
mod instances;
mod overhead;
mod process;
mod requests;
mod sse;
mod stats;

use config::{BenchConfig, Section};
use harness::Serving;
use server::runs::DEFAULT_MAX_CONCURRENT_RUNS;

/// Any failure ends the benchmark with its message.
pub type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[tokio::main]
async fn main() -> BenchResult<()> {
    let config = BenchConfig::from_env_and_args();
    let load_before = process::load_average();
    eprintln!("bench runs: {}", config.describe());
    let mut report = Vec::new();
    let mut failed_runs = 0;
    if config.wants(Section::Overhead) {
        eprintln!("1/5 run overhead ...");
        report.push(overhead::measure(&config).await?.render());
    }
    if config.wants(Section::FirstDelta) {
        eprintln!("2/5 time to first delta ...");
        report.push(first_delta::measure(&config).await?.render());
    }
    if config.wants(Section::Concurrent) {
        let mut bursts = Vec::new();
        let raised = config.concurrent.max(1);
        for (limit, serving) in [
            (raised, Serving::AsShipped),
            (DEFAULT_MAX_CONCURRENT_RUNS, Serving::AsShipped),
            (raised, Serving::NoDelay),
        ] {
            eprintln!(
                "3/5 {} concurrent streamed runs, limit {limit}, {serving:?} ...",
                config.concurrent
            );
            bursts.push(concurrent::measure(&config, limit, serving).await?);
        }
        failed_runs = bursts.iter().map(|burst| burst.errors).sum::<usize>();
        report.push(concurrent::render(&bursts));
    }
    if config.wants(Section::Requests) {
        eprintln!("4/5 read throughput against the unknown-route floor ...");
        let mut databases = vec![("sqlite", testkit::TestDatabase::sqlite_file())];
        if let Some(postgres) = testkit::TestDatabase::postgres_if_reachable().await {
            databases.push(("postgres", postgres));
        }
        let mut results = Vec::new();
        for (backend, database) in databases {
            let server =
                harness::BenchServer::start_on(database, Serving::AsShipped, |_| {}).await?;
            results.push(requests::measure(&config, backend, &server).await?);
            server.stop().await?;
        }
        report.push(requests::render(&results, &config));
    }
    if config.wants(Section::Instances) {
        eprintln!("5/5 streamed runs through several instances ...");
        let setups = instances::setups().await;
        let results = instances::measure(&config, &setups).await?;
        report.push(instances::render(&results, &config));
    }
    println!("# Run benchmarks of the reference server\n");
    println!("command: cargo bench --workspace --bench runs");
    println!("sizes:   {}", config.describe());
    println!(
        "machine: {} CPUs; load average before {load_before}, after {}; \
         server, fake upstream and clients share one tokio runtime in this process\n",
        std::thread::available_parallelism().map_or(0, usize::from),
        process::load_average(),
    );
    println!("{}", report.join("\n"));
    if failed_runs > 0 {
        return Err(format!("{failed_runs} concurrent runs failed (see the table)").into());
    }
    Ok(())
}
