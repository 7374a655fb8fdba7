//! Running one step: build the request, send it plainly, by polling or as a stream, and judge
//! the answer into a [`StepResult`].

use super::request::prepare;
use super::{poll, stream, StepContext};
use crate::check::{judge, verdict_of, Route, Target};
use crate::client::{record_request, record_response, send};
use crate::fixture::Step;
use crate::results::{Finding, FindingKind, Phase, StepResult};
use crate::vars::Vars;
use crate::verdict::Verdict;

/// Runs one step with the scenario's variables (captures are added to them).
pub async fn run_step(
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
    let relative = prepared
        .url
        .get(context.base_url.trim_end_matches('/').len()..)
        .unwrap_or_default();
    let path = relative.split('?').next().unwrap_or_default();
    let operation = operation.or_else(|| context.catalog.find_operation(&prepared.method, path));
    result.operation = operation.as_ref().map(|op| op.id.clone());
    let route = match (&operation, &step.url) {
        (Some(op), _) => Route::of_template(&op.path, path),
        (None, url) => Route::of_raw_url(url.as_deref().unwrap_or_default()),
    };
    let mut target = Target {
        operation_id: result.operation.clone(),
        route,
    };
    let (received, findings) = if step.streams() {
        let deadline = context.deadline(step);
        let outcome = stream::exchange(context, &prepared, step, &target, vars, deadline).await;
        (outcome.received, outcome.findings)
    } else if let Some(poll) = &step.poll {
        let deadline = context.deadline(step);
        let outcome =
            poll::exchange(context, &prepared, (step, poll), &target, vars, deadline).await;
        (outcome.received, outcome.findings)
    } else {
        match send(context.client, &prepared).await {
            Ok(received) => {
                if target.operation_id.is_none() {
                    target.operation_id = error_schema_operation(&received, context);
                }
                let findings = judge(step, &target, &received, vars, context.catalog);
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
    result.findings = findings
        .into_iter()
        .map(|finding| strictness(finding, context.strict))
        .collect();
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

/// Under `--strict`, a deviation FAILs; otherwise findings keep the verdict their severity
/// implies by default.
fn strictness(mut finding: Finding, strict: bool) -> Finding {
    if let Some(severity) = finding.severity {
        finding.verdict = severity.verdict(strict);
    }
    finding
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
