//! Plain-text failure details: everything needed to reproduce a step that did not pass
//! (scenario, step, method and URL, headers with the key masked, body, status, response body,
//! each schema error and mismatch).

use std::fmt::Write;

use crate::report::excerpt;
use crate::results::{FindingKind, Phase, ScenarioResult, StepResult};
use crate::verdict::Verdict;

/// Characters of a response or request body shown in failure details (results keep more).
const SHOWN_BODY_CHARS: usize = 2000;

/// Details of every step of `scenario` that neither passed nor was merely skipped for want of a
/// variable, preceded by the scenario's id and verdict.
pub fn failure_details(scenario: &ScenarioResult) -> String {
    let mut out = format!("scenario {}: {}", scenario.id, scenario.verdict);
    if let Some(reason) = &scenario.reason {
        let _ = write!(out, " ({reason})");
    }
    out.push('\n');
    let skipped_after_failure =
        |step: &&StepResult| step.verdict == Verdict::Skipped && step.phase == Phase::Step;
    for step in scenario
        .steps
        .iter()
        .filter(|step| !step.verdict.is_passing())
    {
        if !skipped_after_failure(&step) {
            out.push_str(&step_details(&scenario.id, step));
        }
    }
    let not_run: Vec<&str> = scenario
        .steps
        .iter()
        .filter(skipped_after_failure)
        .map(|s| s.name.as_str())
        .collect();
    if !not_run.is_empty() {
        let _ = writeln!(
            out,
            "  not run (a variable they need was never captured): {}",
            not_run.join(", ")
        );
    }
    out
}

/// One step's details.
pub fn step_details(scenario_id: &str, step: &StepResult) -> String {
    let mut out = String::new();
    let operation = step.operation.as_deref().unwrap_or("raw URL");
    let phase = match step.phase {
        Phase::Step => "step",
        Phase::Cleanup => "cleanup step",
    };
    let _ = writeln!(
        out,
        "  {phase} {scenario_id}#{} ({operation}): {}",
        step.name, step.verdict
    );
    if let Some(request) = &step.request {
        let _ = writeln!(out, "    request: {} {}", request.method, request.url);
        for (name, value) in &request.headers {
            let _ = writeln!(out, "      {name}: {value}");
        }
        if let Some(body) = &request.body {
            let _ = writeln!(out, "      body: {}", excerpt(body, SHOWN_BODY_CHARS));
        }
    }
    if let Some(response) = &step.response {
        let content_type = response
            .content_type
            .as_deref()
            .unwrap_or("no content type");
        let _ = writeln!(out, "    response: {} ({content_type})", response.status);
        let mut body = excerpt(&response.body, SHOWN_BODY_CHARS);
        if response.body_truncated {
            body.push_str(" (cut when recorded)");
        }
        for line in body.lines() {
            let _ = writeln!(out, "      {line}");
        }
    }
    for finding in &step.findings {
        // stream and poll problems are named as such, so a stream's verdict reads apart from
        // the body checks it shares a step with
        let mut notes: Vec<&str> = finding.severity.iter().map(|s| s.label()).collect();
        match finding.kind {
            FindingKind::Stream => notes.push("stream"),
            FindingKind::Poll => notes.push("poll"),
            _ => {}
        }
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", notes.join(", "))
        };
        let _ = writeln!(out, "    - {}{notes}: {}", finding.verdict, finding.message);
    }
    out
}
