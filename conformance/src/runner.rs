//! The run: load fixtures and the expected-failures list, select by `--filter`, probe the base
//! URL, run scenarios concurrently (serial ones alone), and assemble [`Results`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};

use crate::catalog::Catalog;
use crate::client::{base_headers, build_client, describe_transport_error};
use crate::exec::scenario::run_scenario;
use crate::exec::StepContext;
use crate::fixture::{load_scenarios, FixtureError, Scenario};
use crate::progress::{Progress, Silent};
use crate::results::{
    Finding, FindingKind, OperationRecord, Phase, Results, RunInfo, ScenarioResult, StepResult,
    RESULTS_SCHEMA_VERSION,
};
use crate::spec::{Spec, SpecError};
use crate::verdict::{apply_expectation, Verdict};

/// Everything a run needs besides the spec. Library callers (the e2e tests) build it directly;
/// the CLI builds it from flags.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The implementation's base URL including `/v1`, e.g. `http://127.0.0.1:8080/v1`.
    pub base_url: String,
    /// Sent as `Authorization: Bearer KEY`; `None` sends no Authorization header.
    pub api_key: Option<String>,
    /// Extra headers added to every request (`--header K:V`), overriding the defaults.
    pub headers: Vec<(String, String)>,
    /// The value of `${model}`.
    pub model: String,
    /// Scenario-id substrings; empty selects every scenario.
    pub filters: Vec<String>,
    /// Scenarios run concurrently (at least 1).
    pub jobs: usize,
    /// The fixtures directory.
    pub fixtures_dir: PathBuf,
    /// YAML map of scenario id to reason (`--expected-failures`).
    pub expected_failures: Option<PathBuf>,
    /// Caps every polling and streaming step's `timeout_s` (`--poll-timeout`); `None`: no cap.
    pub poll_timeout: Option<Duration>,
    /// `--strict`: deviations (error wording, an optional field absent...) FAIL too.
    pub strict: bool,
    /// The value of `${second_api_key}` (`--second-api-key`); `None` skips the scenarios that
    /// need a second tenant.
    pub second_api_key: Option<String>,
}

impl RunConfig {
    /// A configuration with the CLI's defaults: model `gpt-4o`, 4 jobs, no filters.
    pub fn new(base_url: impl Into<String>, fixtures_dir: impl Into<PathBuf>) -> RunConfig {
        RunConfig {
            base_url: base_url.into(),
            api_key: None,
            headers: Vec::new(),
            model: "gpt-4o".into(),
            filters: Vec::new(),
            jobs: 4,
            fixtures_dir: fixtures_dir.into(),
            expected_failures: None,
            poll_timeout: None,
            strict: false,
            second_api_key: None,
        }
    }
}

/// Why a run could not start or finish; every variant means exit code 2 (unusable input).
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// The OpenAPI document could not be loaded.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// A fixture is broken.
    #[error("bad fixture {0}")]
    Fixture(#[from] FixtureError),
    /// `--filter` selected nothing.
    #[error("--filter {filters:?} matches no scenario (there are {available} scenarios)")]
    FilterMatchesNothing {
        /// The filters given.
        filters: Vec<String>,
        /// How many scenarios exist.
        available: usize,
    },
    /// The expected-failures file is unreadable, malformed or names unknown scenarios.
    #[error("bad expected-failures file {}: {reason}", file.display())]
    ExpectedFailures {
        /// The file.
        file: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Nothing answers at the base URL.
    #[error("cannot reach the base URL {base_url}: {reason}")]
    Unreachable {
        /// The URL probed.
        base_url: String,
        /// The transport error.
        reason: String,
    },
    /// Another input problem (bad flag value, unwritable output file, ...).
    #[error("{0}")]
    Usage(String),
}

/// Runs the conformance suite against `config.base_url` with the OpenAPI document `spec`.
pub async fn run(config: &RunConfig, spec: &Spec) -> Result<Results, HarnessError> {
    run_with(config, spec, &Silent).await
}

/// [`run`] with any operation catalogue and progress display.
pub async fn run_with(
    config: &RunConfig,
    catalog: &dyn Catalog,
    progress: &dyn Progress,
) -> Result<Results, HarnessError> {
    let started = Instant::now();
    if config.jobs == 0 {
        return Err(HarnessError::Usage("--jobs must be at least 1".into()));
    }
    crate::fixture::tenants::check_distinct_keys(
        config.api_key.as_deref(),
        config.second_api_key.as_deref(),
    )
    .map_err(HarnessError::Usage)?;
    let scenarios = load_scenarios(&config.fixtures_dir, catalog)?;
    if scenarios.is_empty() {
        let dir = config.fixtures_dir.display();
        return Err(HarnessError::Usage(format!(
            "no scenario files (*.yaml) under {dir}"
        )));
    }
    let expected = match &config.expected_failures {
        Some(file) => load_expected_failures(file, &scenarios)?,
        None => BTreeMap::new(),
    };
    let selected: Vec<&Scenario> = scenarios
        .iter()
        .filter(|s| selected_by(&config.filters, &s.id))
        .collect();
    if selected.is_empty() && !config.filters.is_empty() {
        return Err(HarnessError::FilterMatchesNothing {
            filters: config.filters.clone(),
            available: scenarios.len(),
        });
    }
    let client = build_client();
    probe(&client, &config.base_url).await?;
    let headers = base_headers(config.api_key.as_deref(), &config.headers);
    let context = StepContext {
        client: &client,
        catalog,
        base_url: &config.base_url,
        base_headers: &headers,
        model: &config.model,
        poll_timeout: config.poll_timeout,
        strict: config.strict,
        second_api_key: config.second_api_key.as_deref(),
    };
    progress.started(selected.len());
    let finish = |scenario: &Scenario, steps: Vec<StepResult>| {
        let result = scenario_result(scenario, steps, expected.get(&scenario.id));
        progress.finished(&result);
        result
    };
    let (concurrent, serial): (Vec<&Scenario>, Vec<&Scenario>) =
        selected.iter().partition(|s| !s.serial);
    let mut finished: Vec<ScenarioResult> = stream::iter(concurrent)
        .map(|scenario| {
            let context = &context;
            async move { (scenario, run_scenario(scenario, context).await) }
        })
        .buffer_unordered(config.jobs)
        .map(|(scenario, steps)| finish(scenario, steps))
        .collect()
        .await;
    for scenario in serial {
        let steps = run_scenario(scenario, &context).await;
        finished.push(finish(scenario, steps));
    }
    progress.done();
    for scenario in scenarios
        .iter()
        .filter(|s| !selected_by(&config.filters, &s.id))
    {
        finished.push(filtered_out(scenario, &context));
    }
    finished.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Results {
        schema_version: RESULTS_SCHEMA_VERSION,
        run: RunInfo {
            base_url: config.base_url.clone(),
            model: config.model.clone(),
            filters: config.filters.clone(),
            strict: config.strict,
            wall_time_ms: started.elapsed().as_millis() as u64,
        },
        operations: catalog
            .operations()
            .into_iter()
            .map(|op| OperationRecord {
                id: op.id,
                method: op.method,
                path: op.path,
                family: op.family,
            })
            .collect(),
        scenarios: finished,
    })
}

/// Whether any filter is a substring of the id (no filters: everything).
pub fn selected_by(filters: &[String], id: &str) -> bool {
    filters.is_empty() || filters.iter().any(|filter| id.contains(filter.as_str()))
}

fn scenario_result(
    scenario: &Scenario,
    steps: Vec<StepResult>,
    expected: Option<&String>,
) -> ScenarioResult {
    let raw_verdict = Verdict::worst(steps.iter().map(|step| step.verdict));
    let verdict = apply_expectation(raw_verdict, expected.is_some());
    let reason = match verdict {
        Verdict::Xfail => expected.map(|reason| format!("expected failure: {reason}")),
        Verdict::Xpass => {
            expected.map(|reason| format!("listed as an expected failure ({reason}) but passed"))
        }
        _ => None,
    };
    ScenarioResult {
        id: scenario.id.clone(),
        description: scenario.description.clone(),
        verdict,
        raw_verdict,
        reason,
        steps,
    }
}

/// A scenario not selected by `--filter`: SKIPPED, its steps listed so coverage still names it.
fn filtered_out(scenario: &Scenario, context: &StepContext<'_>) -> ScenarioResult {
    let reason = "filtered out by --filter";
    let phases = scenario
        .steps
        .iter()
        .map(|s| (s, Phase::Step))
        .chain(scenario.cleanup.iter().map(|s| (s, Phase::Cleanup)));
    let steps = phases
        .map(|(step, phase)| StepResult {
            name: step.name.clone(),
            phase,
            operation: step.operation.clone().or_else(|| {
                let (url, method) = (step.url.as_deref()?, step.method.as_deref()?);
                context
                    .catalog
                    .find_operation(method, url.split('?').next()?)
                    .map(|op| op.id)
            }),
            verdict: Verdict::Skipped,
            request: None,
            response: None,
            findings: vec![Finding::new(FindingKind::Skipped, Verdict::Skipped, reason)],
        })
        .collect();
    ScenarioResult {
        id: scenario.id.clone(),
        description: scenario.description.clone(),
        verdict: Verdict::Skipped,
        raw_verdict: Verdict::Skipped,
        reason: Some(reason.into()),
        steps,
    }
}

/// Reads the expected-failures YAML map; every id must name an existing scenario, so a renamed
/// fixture cannot silently drop out of the list.
pub fn load_expected_failures(
    file: &Path,
    scenarios: &[Scenario],
) -> Result<BTreeMap<String, String>, HarnessError> {
    let fail = |reason: String| HarnessError::ExpectedFailures {
        file: file.to_owned(),
        reason,
    };
    let text = std::fs::read_to_string(file).map_err(|err| fail(format!("cannot read: {err}")))?;
    let entries: Option<BTreeMap<String, String>> = serde_yaml::from_str(&text)
        .map_err(|err| fail(format!("expected a map of scenario id to reason: {err}")))?;
    let entries = entries.unwrap_or_default();
    for (id, reason) in &entries {
        if !scenarios.iter().any(|scenario| &scenario.id == id) {
            return Err(fail(format!("no scenario `{id}`")));
        }
        if reason.trim().is_empty() {
            return Err(fail(format!("`{id}` has no reason")));
        }
    }
    Ok(entries)
}

/// Fails fast when nothing listens at the base URL (any HTTP answer, even an error, is fine).
async fn probe(client: &reqwest::Client, base_url: &str) -> Result<(), HarnessError> {
    let unreachable = |reason: String| HarnessError::Unreachable {
        base_url: base_url.to_owned(),
        reason,
    };
    let url =
        reqwest::Url::parse(base_url).map_err(|err| unreachable(format!("not a URL: {err}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(unreachable(format!(
            "unsupported scheme `{}`",
            url.scheme()
        )));
    }
    match client.get(url).send().await {
        Ok(_) => Ok(()),
        Err(err) if err.is_connect() || err.is_timeout() || err.is_builder() => {
            Err(unreachable(describe_transport_error(&err)))
        }
        Err(_) => Ok(()),
    }
}
