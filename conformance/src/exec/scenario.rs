//! Running one scenario: its steps in order until one does not pass, then every cleanup step
//! whose variables exist, each judged into a [`StepResult`].

use super::step::run_step;
use super::StepContext;
use crate::fixture::{Scenario, Step};
use crate::results::{Finding, FindingKind, Phase, StepResult};
use crate::vars::Vars;
use crate::verdict::Verdict;

/// Runs the scenario and returns its step results (regular steps, then cleanup).
pub async fn run_scenario(scenario: &Scenario, context: &StepContext<'_>) -> Vec<StepResult> {
    let mut vars = Vars::for_scenario(context.model);
    let mut results = Vec::with_capacity(scenario.steps.len() + scenario.cleanup.len());
    let mut stopped = false;
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
        let result = run_step(step, Phase::Step, &mut vars, context).await;
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
            results.push(run_step(step, Phase::Cleanup, &mut vars, context).await);
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
