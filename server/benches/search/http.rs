//! The searchVectorStore operation end to end: `server::run` on the benchmark's
//! database, served over loopback in this process by the test kit (as the runs benchmark
//! serves), and
//! `POST /v1/vector_stores/{id}/search` timed to the parsed JSON answer. The same
//! queries go straight to `search` in alternation, so the HTTP share shows as a
//! ratio measured under the same load.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use server::store::{Store, Tenant};
use server::vector_stores::{search, SearchOptions};
use server::Settings;

use crate::stats::Summary;

/// The API key of the benchmark's own tenant (any key is accepted without a key list).
pub(crate) const KEY: &str = "sk-bench-search-0123456789";

/// Latencies of the same queries over HTTP and through `search` directly.
pub(crate) struct HttpVersusDirect {
    /// `POST .../search` to the parsed answer.
    pub http: Summary,
    /// `search` alone.
    pub direct: Summary,
}

/// Serves the database in `dir` and alternates HTTP and direct searches, `rounds` each.
pub(crate) async fn measure(
    dir: &Path,
    store: &dyn Store,
    tenant: &Tenant,
    store_id: &str,
    queries: &[String],
    rounds: usize,
) -> Result<HttpVersusDirect, Box<dyn std::error::Error + Send + Sync>> {
    let mut settings = Settings::new(format!("sqlite://{}", dir.join("bench.db").display()));
    settings.data_dir = dir.join("data");
    // The benchmark's own SQLite file (its size is measured), so no kit database.
    let server = testkit::spawn_serving(None, settings, server::run).await;
    let url = format!("{}/vector_stores/{store_id}/search", server.base_url);
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()?;
    let post = |query: &String| {
        client
            .post(&url)
            .bearer_auth(KEY)
            .json(&json!({"query": query, "max_num_results": 10}))
            .send()
    };
    // Waits for the migrations and the listener; also the warm-up request.
    let started = Instant::now();
    while post(&queries[0]).await.is_err() {
        if started.elapsed() > Duration::from_secs(30) {
            return Err("the server did not start within 30 s".into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let ids = [store_id.to_owned()];
    let (mut http, mut direct) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let query = &queries[round % queries.len()];
        let start = Instant::now();
        let response = post(query).await?;
        let status = response.status();
        let body: Value = response.json().await?;
        http.push(start.elapsed());
        if !status.is_success() || body["data"].as_array().is_none_or(Vec::is_empty) {
            return Err(format!("search answered {status}: {body}").into());
        }
        let options = SearchOptions {
            queries: vec![query.clone()],
            max_num_results: 10,
            score_threshold: 0.0,
            filter: None,
        };
        let start = Instant::now();
        search(store, tenant, &ids, &options).await?;
        direct.push(start.elapsed());
    }
    server.stop().await?;
    Ok(HttpVersusDirect {
        http: Summary::of(&http).ok_or("no HTTP samples")?,
        direct: Summary::of(&direct).ok_or("no direct samples")?,
    })
}
