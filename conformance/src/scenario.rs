//! Running one scenario: its steps in order until one does not pass, then every cleanup step
//! whose variables exist, each judged into a [`StepResult`].

use std::time::Duration;

use tokio::time::Instant;

use crate::catalog::Catalog;
use crate::check::{judge, verdict_of};
use crate::client::{prepare, record_request, record_response, send};
use crate::fixture::{Scenario, Step, DEFAULT_TIMEOUT_S};
use crate::results::{Finding, FindingKind, Phase, StepResult};
use crate::vars::Vars;
use crate::verdict::Verdict;
use crate::{poll, stream};

/// What every step of a run shares.
pub struct StepContext<'a> {
    /// The HTTP client.
    pub client: &'a reqwest::Client,
    /// Operations and schema validation.
    pub catalog: &'a dyn Catalog,
    /// The implementation's base URL, e.g. `http://127.0.0.1:8080/v1`.
    pub base_url: &'a str,
    /// Authorization and `--header` headers, before step overrides.
    pub base_headers: &'a [(String, String)],
    /// The value of `${model}`.
    pub model: &'a str,
    /// `--poll-timeout`: caps every polling and streaming step's `timeout_s`.
    pub poll_timeout: Option<Duration>,
    /// `--second-api-key`: the value of `${second_api_key}`.
    pub second_api_key: Option<&'a str>,
}

impl StepContext<'_> {
    /// When a polling or streaming step gives up: its `timeout_s` (default 60 s), capped by
    /// `--poll-timeout`.
    pub fn deadline(&self, step: &Step) -> Instant {
        let wanted = Duration::from_secs_f64(step.timeout_s.unwrap_or(DEFAULT_TIMEOUT_S));
        let allowed = self.poll_timeout.map_or(wanted, |cap| wanted.min(cap));
        Instant::now() + allowed
    }
}

/// Runs the scenario and returns its step results (regular steps, then cleanup).
pub async fn run_scenario(scenario: &Scenario, context: &StepContext<'_>) -> Vec<StepResult> {
    let mut vars = Vars::for_scenario(context.model);
    let mut results = Vec::with_capacity(scenario.steps.len() + scenario.cleanup.len());
    let mut stopped = false;
    let mut observed = crate::invariants::Observed::default();
    match context.second_api_key {
        Some(key) => vars.set(crate::tenants::SECOND_API_KEY, key.into()),
        None if crate::tenants::needs_second_key(scenario) => {
            let reason = crate::tenants::MISSING_SECOND_KEY;
            let steps = scenario.steps.iter().map(|step| (step, Phase::Step));
            let cleanup = scenario.cleanup.iter().map(|step| (step, Phase::Cleanup));
            return steps
                .chain(cleanup)
                .map(|(step, phase)| skipped(step, phase, context, reason.into()))
                .collect();
        }
        None => {}
    }
    for step in &scenario.steps {
        if stopped {
            results.push(skipped(
                step,
                Phase::Step,
                context,
                "not run: an earlier step did not pass".into(),
            ));
            continue;
        }
        let mut result = run_step(step, Phase::Step, &mut vars, context).await;
        observed.review(step, &mut result);
        stopped = !result.verdict.is_passing();
        results.push(result);
    }
    for step in &scenario.cleanup {
        let missing: Vec<String> = step
            .request_variables()
            .into_iter()
            .filter(|name| vars.get(name).is_none())
            .collect();
        if missing.is_empty() {
            let mut result = run_step(step, Phase::Cleanup, &mut vars, context).await;
            observed.review(step, &mut result);
            results.push(result);
        } else {
            let reason = format!("not run: variables never captured: {}", missing.join(", "));
            results.push(skipped(step, Phase::Cleanup, context, reason));
        }
    }
    results
}

fn skipped(step: &Step, phase: Phase, context: &StepContext<'_>, reason: String) -> StepResult {
    StepResult {
        name: step.name.clone(),
        phase,
        operation: static_operation(step, context),
        verdict: Verdict::Skipped,
        request: None,
        response: None,
        findings: vec![Finding::new(FindingKind::Skipped, Verdict::Skipped, reason)],
    }
}

/// The operation a step exercises, as far as it is known without sending it.
fn static_operation(step: &Step, context: &StepContext<'_>) -> Option<String> {
    match (&step.operation, &step.url, &step.method) {
        (Some(id), _, _) => Some(id.clone()),
        (None, Some(url), Some(method)) if !url.contains("${") => {
            let path = url.split('?').next().unwrap_or(url);
            context.catalog.find_operation(method, path).map(|op| op.id)
        }
        _ => None,
    }
}

async fn run_step(
    step: &Step,
    phase: Phase,
    vars: &mut Vars,
    context: &StepContext<'_>,
) -> StepResult {
    let operation = step
        .operation
        .as_deref()
        .and_then(|id| context.catalog.operation(id));
    let mut result = StepResult {
        name: step.name.clone(),
        phase,
        operation: operation.as_ref().map(|op| op.id.clone()),
        verdict: Verdict::Error,
        request: None,
        response: None,
        findings: Vec::new(),
    };
    let prepared = match prepare(
        step,
        operation.as_ref(),
        context.base_url,
        context.base_headers,
        vars,
    ) {
        Ok(prepared) => prepared,
        Err(unknown) => {
            result.findings.push(Finding::new(
                FindingKind::Variable,
                Verdict::Error,
                unknown.to_string(),
            ));
            return result;
        }
    };
    result.request = Some(record_request(&prepared));
    if operation.is_none() {
        let relative = prepared.url[context.base_url.trim_end_matches('/').len()..].to_owned();
        let path = relative.split('?').next().unwrap_or_default();
        result.operation = context
            .catalog
            .find_operation(&prepared.method, path)
            .map(|op| op.id);
    }
    let operation_id = result.operation.clone();
    let (received, findings) = if step.streams() {
        let deadline = context.deadline(step);
        let outcome = stream::exchange(
            context,
            &prepared,
            step,
            operation_id.as_deref(),
            vars,
            deadline,
        )
        .await;
        (outcome.received, outcome.findings)
    } else if let Some(poll) = &step.poll {
        let deadline = context.deadline(step);
        let outcome = poll::exchange(
            context,
            &prepared,
            step,
            poll,
            operation_id.as_deref(),
            vars,
            deadline,
        )
        .await;
        (outcome.received, outcome.findings)
    } else {
        match send(context.client, &prepared).await {
            Ok(received) => {
                let schema_operation = operation_id
                    .clone()
                    .or_else(|| error_schema_operation(&received, context));
                let findings = judge(
                    step,
                    schema_operation.as_deref(),
                    &received,
                    vars,
                    context.catalog,
                );
                (Some(received), findings)
            }
            Err(reason) => {
                let message = format!("transport error: {reason}");
                let finding = Finding::new(FindingKind::Transport, Verdict::Error, message);
                (None, vec![finding])
            }
        }
    };
    result.response = received.as_ref().map(record_response);
    result.findings = findings;
    result.verdict = if result.findings.is_empty() {
        Verdict::Pass
    } else {
        verdict_of(&result.findings)
    };
    if received.is_none() && result.verdict.is_passing() {
        result.verdict = Verdict::Error;
    }
    result
}

/// For a raw-URL step outside every covered operation, an error response is still checked
/// against `ErrorResponse`: any covered operation validates 4xx/5xx bodies against it.
fn error_schema_operation(
    received: &crate::client::Received,
    context: &StepContext<'_>,
) -> Option<String> {
    (received.status >= 400)
        .then(|| context.catalog.operations().first().map(|op| op.id.clone()))
        .flatten()
}
