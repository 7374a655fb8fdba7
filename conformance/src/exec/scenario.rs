//! Running one scenario: every step in order, then every cleanup step, each judged into a
//! [`StepResult`]; a step whose variables were never captured is SKIPPED instead.

use super::step::run_step;
use super::StepContext;
use crate::fixture::{tenants, Scenario, Step};
use crate::results::{Finding, FindingKind, Phase, StepResult};
use crate::vars::Vars;
use crate::verdict::Verdict;

/// Runs the scenario and returns its step results (regular steps, then cleanup). Every step
/// runs, whatever an earlier one answered, unless a variable it needs was never captured: then
/// it is SKIPPED, naming the variable and the step that should have produced it.
pub async fn run_scenario(scenario: &Scenario, context: &StepContext<'_>) -> Vec<StepResult> {
    let mut vars = Vars::for_scenario(context.model);
    let mut results = Vec::with_capacity(scenario.steps.len() + scenario.cleanup.len());
    let mut observed = crate::invariants::Observed::default();
    match context.second_api_key {
        Some(key) => vars.set(tenants::SECOND_API_KEY, key.into()),
        None if tenants::needs_second_key(scenario) => {
            let steps = scenario.steps.iter().map(|step| (step, Phase::Step));
            let cleanup = scenario.cleanup.iter().map(|step| (step, Phase::Cleanup));
            return steps
                .chain(cleanup)
                .map(|(step, phase)| {
                    skipped(step, phase, context, tenants::MISSING_SECOND_KEY.into())
                })
                .collect();
        }
        None => {}
    }
    let phases = scenario
        .steps
        .iter()
        .map(|step| (step, Phase::Step))
        .chain(scenario.cleanup.iter().map(|step| (step, Phase::Cleanup)));
    for (index, (step, phase)) in phases.enumerate() {
        let missing: Vec<String> = step
            .needed_variables()
            .into_iter()
            .filter(|name| vars.get(name).is_none())
            .collect();
        if missing.is_empty() {
            let mut result = run_step(step, phase, &mut vars, context).await;
            observed.review(step, &mut result);
            results.push(result);
        } else {
            let reason = never_captured(scenario, index, &missing);
            results.push(skipped(step, phase, context, reason));
        }
    }
    results
}

/// `not run: needs ${asst}, which step `create` did not capture` for each missing variable.
fn never_captured(scenario: &Scenario, before: usize, missing: &[String]) -> String {
    let earlier: Vec<&Step> = scenario
        .steps
        .iter()
        .chain(&scenario.cleanup)
        .take(before)
        .collect();
    let parts: Vec<String> = missing
        .iter()
        .map(|name| {
            let producer = earlier
                .iter()
                .rev()
                .find(|step| step.captured_names().contains(name));
            match producer {
                Some(step) => format!("${{{name}}}, which step `{}` did not capture", step.name),
                None => format!("${{{name}}}, which no earlier step captures"),
            }
        })
        .collect();
    format!("not run: needs {}", parts.join("; "))
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
