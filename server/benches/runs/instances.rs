//! Streamed runs per second through 1, 2 and 3 instances sharing one database, and
//! SQLite against PostgreSQL on one instance. Every instance is `server::run` in this
//! process with its own instance id, connection pool, run engine and keeper (leases,
//! cancel polls, takeover sweeps), so the figures show what coordinating instances
//! costs; on one machine more instances add no CPU, so they cannot show scale-out.
//!
//! Each measurement starts the instances on a fresh database, makes one thread with a
//! user message per run (untimed), then keeps [`IN_FLIGHT`] clients busy: client `c`'s
//! `k`-th run is created with `stream: true` on instance `(c + k) % n` and read to
//! `done`. Configurations alternate in rounds so machine noise hits them alike; each
//! figure is the median of its rounds.

use std::sync::Arc;
use std::time::Instant;

use futures::future::join_all;

use crate::config::BenchConfig;
use crate::harness::{BenchServer, Serving};
use crate::BenchResult;

/// Clients with a run in flight at once.
const IN_FLIGHT: usize = 16;

/// One configuration: a backend and how many instances share it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Setup {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// Instances on the one database.
    pub instances: usize,
}

/// The runs per second of one configuration, over its rounds.
pub(crate) struct SetupThroughput {
    /// What was measured.
    pub setup: Setup,
    /// Median over the rounds.
    pub runs_per_sec: f64,
    /// Every round's figure, in order.
    pub rounds: Vec<f64>,
}

/// The configurations this machine can run: SQLite on one instance, and PostgreSQL on
/// each count in `BENCH_INSTANCES` (default 1,2,3) when it is reachable.
pub(crate) async fn setups() -> Vec<Setup> {
    let mut setups = vec![Setup {
        backend: "sqlite",
        instances: 1,
    }];
    let counts: Vec<usize> = std::env::var("BENCH_INSTANCES")
        .unwrap_or_else(|_| "1,2,3".to_owned())
        .split(',')
        .filter_map(|count| count.trim().parse().ok())
        .filter(|count| *count > 0)
        .collect();
    if testkit::TestDatabase::postgres_if_reachable()
        .await
        .is_some()
    {
        setups.extend(counts.into_iter().map(|instances| Setup {
            backend: "postgres",
            instances,
        }));
    } else {
        eprintln!("PostgreSQL is not reachable: the instances section measures SQLite only");
    }
    setups
}

/// Measures every setup in `config.instance_rounds` interleaved rounds.
pub(crate) async fn measure(
    config: &BenchConfig,
    setups: &[Setup],
) -> BenchResult<Vec<SetupThroughput>> {
    let mut rounds: Vec<Vec<f64>> = vec![Vec::new(); setups.len()];
    for round in 0..config.instance_rounds {
        for (index, setup) in setups.iter().enumerate() {
            eprintln!(
                "   round {}/{}: {} x{} ...",
                round + 1,
                config.instance_rounds,
                setup.backend,
                setup.instances
            );
            rounds[index].push(one_round(config, *setup).await?);
        }
    }
    Ok(setups
        .iter()
        .zip(rounds)
        .map(|(setup, rounds)| SetupThroughput {
            setup: *setup,
            runs_per_sec: median(&rounds),
            rounds,
        })
        .collect())
}

/// Starts the setup's instances on a fresh database and times `config.instance_runs`
/// streamed runs through them; returns runs per second.
async fn one_round(config: &BenchConfig, setup: Setup) -> BenchResult<f64> {
    let database = Arc::new(match setup.backend {
        "postgres" => testkit::TestDatabase::postgres_if_reachable()
            .await
            .ok_or("PostgreSQL went away")?,
        _ => testkit::TestDatabase::sqlite_file(),
    });
    let mut servers = Vec::with_capacity(setup.instances);
    for index in 0..setup.instances {
        let server = BenchServer::start_on(database.clone(), Serving::AsShipped, |settings| {
            settings.instance_id = Some(format!("bench-{index}"));
        })
        .await?;
        servers.push(server);
    }
    let first = &servers[0];
    let assistant = first.create_assistant().await?;
    let total = config.instance_runs;
    let mut threads = Vec::with_capacity(total);
    for _ in 0..total {
        threads.push(first.thread_with_message().await?);
    }
    let (servers_ref, threads_ref, assistant_ref) = (&servers, &threads, &assistant);
    let started = Instant::now();
    let clients = (0..IN_FLIGHT).map(|client| async move {
        for (turn, run) in (client..total).step_by(IN_FLIGHT).enumerate() {
            let server = &servers_ref[(client + turn) % servers_ref.len()];
            let mut events = server.stream_run(&threads_ref[run], assistant_ref).await?;
            events.read_to_done().await?;
        }
        BenchResult::Ok(())
    });
    for result in join_all(clients).await {
        result?;
    }
    let rate = total as f64 / started.elapsed().as_secs_f64();
    for server in servers {
        server.stop().await?;
    }
    Ok(rate)
}

fn median(samples: &[f64]) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted
        .get(sorted.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(0.0)
}

/// The table, with each setup's ratio to one PostgreSQL instance (and SQLite's to it).
pub(crate) fn render(results: &[SetupThroughput], config: &BenchConfig) -> String {
    let mut out = format!(
        "## 5. Streamed runs per second through several instances ({IN_FLIGHT} clients, \
         {} runs a round, median of {} rounds)\n\n",
        config.instance_runs, config.instance_rounds
    );
    out += "| backend  | instances | runs/s | vs 1 PostgreSQL instance | rounds |\n";
    out += "|----------|-----------|--------|--------------------------|--------|\n";
    let baseline = results
        .iter()
        .find(|r| r.setup.backend == "postgres" && r.setup.instances == 1)
        .map(|r| r.runs_per_sec);
    for result in results {
        let ratio = baseline.map_or_else(
            || "-".to_owned(),
            |base| format!("{:.2}", result.runs_per_sec / base),
        );
        let rounds: Vec<String> = result.rounds.iter().map(|r| format!("{r:.0}")).collect();
        out += &format!(
            "| {:<8} | {:>9} | {:>6.1} | {:>24} | {} |\n",
            result.setup.backend,
            result.setup.instances,
            result.runs_per_sec,
            ratio,
            rounds.join(" "),
        );
    }
    out += "\nAll instances share this process and its CPUs: the ratios show what leases, \
            polls and sweeps cost, not what more machines would add.\n";
    out
}
