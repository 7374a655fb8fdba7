//! Request throughput of reads against the framework floor: `GET` by id and a list
//! page, compared with the server's own answer to an unknown route (auth, routing,
//! the error envelope — everything but the store). Each backend gets its own server;
//! the three request kinds alternate in rounds so machine noise hits them alike, and
//! each kind's figure is the median of its rounds.

use std::time::Instant;

use futures::future::join_all;
use serde_json::json;

use crate::config::BenchConfig;
use crate::harness::BenchServer;
use crate::BenchResult;

/// Requests in flight at once (keep-alive connections of one client).
const IN_FLIGHT: usize = 8;

/// One backend's throughputs, requests per second.
pub(crate) struct BackendThroughput {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// Unknown route, answered 404 without touching the store.
    pub floor: f64,
    /// `GET /assistants/{id}`.
    pub get: f64,
    /// `GET /assistants?limit=20` over 30 assistants.
    pub list: f64,
}

/// Measures one server (already started on its backend).
pub(crate) async fn measure(
    config: &BenchConfig,
    backend: &'static str,
    server: &BenchServer,
) -> BenchResult<BackendThroughput> {
    let mut first = String::new();
    for index in 0..30 {
        let created = server
            .post(
                "/assistants",
                &json!({"model": "gpt-4o", "name": format!("bench {index}"),
                        "instructions": "Answer briefly.", "metadata": {"index": index.to_string()}}),
            )
            .await?;
        if first.is_empty() {
            first = created["id"].as_str().unwrap_or_default().to_owned();
        }
    }
    let paths = [
        ("floor", "/no-such-route".to_owned(), 404),
        ("get", format!("/assistants/{first}"), 200),
        ("list", "/assistants?limit=20".to_owned(), 200),
    ];
    let per_round = config.requests_per_round;
    let mut rates: [Vec<f64>; 3] = Default::default();
    for round in 0..config.warmup + config.request_rounds {
        for (kind, (_, path, status)) in paths.iter().enumerate() {
            let rate = throughput(server, path, *status, per_round).await?;
            if round >= config.warmup {
                rates[kind].push(rate);
            }
        }
    }
    let [floor, get, list] = rates.map(|mut samples| median(&mut samples));
    Ok(BackendThroughput {
        backend,
        floor,
        get,
        list,
    })
}

/// Requests per second for `total` GETs of `path` with [`IN_FLIGHT`] at once.
async fn throughput(
    server: &BenchServer,
    path: &str,
    status: u16,
    total: usize,
) -> BenchResult<f64> {
    let started = Instant::now();
    let workers = (0..IN_FLIGHT).map(|worker| async move {
        for _ in (worker..total).step_by(IN_FLIGHT) {
            let response = server.request(reqwest::Method::GET, path).send().await?;
            if response.status().as_u16() != status {
                return Err(format!("GET {path}: {}", response.status()).into());
            }
            response.bytes().await?;
        }
        BenchResult::Ok(())
    });
    for result in join_all(workers).await {
        result?;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

fn median(samples: &mut [f64]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples.sort_by(f64::total_cmp);
    samples[(samples.len() - 1) / 2]
}

/// The table: throughput per kind and the floor's multiple of each (lower is better;
/// the goal is 2.0 or less).
pub(crate) fn render(results: &[BackendThroughput], config: &BenchConfig) -> String {
    let mut out = format!(
        "## 4. Reads against the framework floor ({IN_FLIGHT} in flight, {} rounds of {} \
         requests, median)\n\n",
        config.request_rounds, config.requests_per_round
    );
    out.push_str(
        "| backend  | floor req/s | GET by id req/s | list req/s | floor/GET | floor/list |\n\
         |----------|-------------|-----------------|------------|-----------|------------|\n",
    );
    for r in results {
        out.push_str(&format!(
            "| {:<8} | {:>11.0} | {:>15.0} | {:>10.0} | {:>9.2} | {:>10.2} |\n",
            r.backend,
            r.floor,
            r.get,
            r.list,
            r.floor / r.get,
            r.floor / r.list
        ));
    }
    out
}
