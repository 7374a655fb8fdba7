//! The Markdown report (`--report`): it opens with the problems ranked by severity and by how
//! many scenarios share them, each with one full request and response to reproduce it, then
//! the operations the implementation lacks, the expectations only a cooperative model meets,
//! harness errors, and a table of scenarios. Rendered from the results alone; it names the base
//! URL but no times, so the same results always render the same report.

use std::fmt::Write;

use crate::report::problems::{kind_label, problems, Problem};
use crate::report::text::step_details;
use crate::report::{excerpt, markdown_table};
use crate::results::{FindingKind, Results, ScenarioResult};
use crate::verdict::{Severity, Verdict};

/// Characters of a reason or message shown in a table cell.
const NOTE_CHARS: usize = 120;
/// Scenario ids named under a problem before "and N more".
const NAMED_SCENARIOS: usize = 8;

/// Renders the Markdown report.
pub fn render_report(results: &Results) -> String {
    let mut sorted = results.clone();
    sorted.scenarios.sort_by(|a, b| a.id.cmp(&b.id));
    let results = &sorted;
    let mut out = heading(results);
    let ranked = problems(results);
    render_problems(&mut out, &ranked);
    render_unimplemented(&mut out, results);
    render_model(&mut out, &ranked);
    render_errors(&mut out, results);
    render_scenarios(&mut out, results);
    out
}

fn heading(results: &Results) -> String {
    let filters = if results.run.filters.is_empty() {
        String::new()
    } else {
        let shown: Vec<String> = results
            .run
            .filters
            .iter()
            .map(|f| format!("`{f}`"))
            .collect();
        format!("; filters {}", shown.join(", "))
    };
    let mode = if results.run.strict {
        "strict (deviations FAIL)"
    } else {
        "default (only breaking findings FAIL)"
    };
    let totals: Vec<String> = results
        .totals()
        .into_iter()
        .filter(|(_, count)| *count > 0)
        .map(|(verdict, count)| format!("{verdict} {count}"))
        .collect();
    let steps: usize = results.scenarios.iter().map(|s| s.steps.len()).sum();
    format!(
        "# Conformance report\n\nImplementation: `{}`; model `{}`{filters}; verdicts {mode}.\n\n\
         **{}**: {} scenarios ({}), {} of {steps} steps run.\n",
        results.run.base_url,
        results.run.model,
        if results.all_ok() { "OK" } else { "FAILED" },
        results.scenarios.len(),
        totals.join(", "),
        results.steps_run(),
    )
}

fn render_problems(out: &mut String, ranked: &[Problem]) {
    let shown: Vec<&Problem> = ranked
        .iter()
        .filter(|p| p.severity != Severity::Model)
        .collect();
    out.push_str("\n## Problems, worst first\n\n");
    if shown.is_empty() {
        out.push_str("None.\n");
        return;
    }
    out.push_str(
        "Severity: *breaking* (an SDK raises or a client gets wrong or lost data), *deviation* \
         (works, but a user could notice), *cosmetic* (formatting, key order, headers).\n\n",
    );
    let rows = shown
        .iter()
        .enumerate()
        .map(|(index, problem)| {
            vec![
                (index + 1).to_string(),
                problem.severity.label().to_owned(),
                title(problem),
                problem.scenarios.len().to_string(),
                problem.findings.to_string(),
            ]
        })
        .collect();
    out.push_str(&markdown_table(
        &["#", "Severity", "Problem", "Scenarios", "Findings"],
        rows,
    ));
    out.push('\n');
    for (index, problem) in shown.iter().enumerate() {
        let _ = write!(
            out,
            "\n### {}. {}: {}\n\n{}\n\nIn {}. {}\n",
            index + 1,
            problem.severity,
            title(problem),
            problem.message,
            scenario_list(problem),
            whereabouts(problem)
        );
        let (scenario, step) = &problem.example;
        let _ = write!(
            out,
            "\nTo reproduce (`{scenario}#{}`):\n\n````text\n{}````\n",
            step.name,
            step_details(scenario, step)
        );
    }
}

/// What a problem is about, e.g. `` `created_at` (schema: type) `` or `` `createRun` answered
/// 400 (status) ``.
fn title(problem: &Problem) -> String {
    let kind = kind_label(problem.kind).replace('_', " ");
    let what = problem.key.rsplit('|').next().unwrap_or_default();
    match (&problem.subject, problem.kind) {
        (Some(subject), FindingKind::Status) => {
            let (operation, got) = subject.split_once(' ').unwrap_or((subject, ""));
            format!("`{operation}` answered {got} (status)")
        }
        (Some(field), _) if what.is_empty() => format!("`{field}` ({kind})"),
        (Some(field), _) => format!("`{field}` ({kind}: {what})"),
        (None, _) => format!("{kind}: {}", excerpt(&problem.message, NOTE_CHARS)),
    }
}

/// Where a problem was found: its operations and paths.
fn whereabouts(problem: &Problem) -> String {
    let list = |items: &std::collections::BTreeSet<String>| {
        let mut named: Vec<String> = items
            .iter()
            .take(NAMED_SCENARIOS)
            .map(|item| format!("`{item}`"))
            .collect();
        if items.len() > NAMED_SCENARIOS {
            named.push(format!("and {} more", items.len() - NAMED_SCENARIOS));
        }
        named.join(", ")
    };
    let mut out = format!("Operations: {}.", list(&problem.operations));
    if !problem.paths.is_empty() {
        let _ = write!(out, " Paths: {}.", list(&problem.paths));
    }
    out
}

fn scenario_list(problem: &Problem) -> String {
    let count = problem.scenarios.len();
    let mut named: Vec<String> = problem
        .scenarios
        .iter()
        .take(NAMED_SCENARIOS)
        .map(|id| format!("`{id}`"))
        .collect();
    if count > NAMED_SCENARIOS {
        named.push(format!("and {} more", count - NAMED_SCENARIOS));
    }
    let noun = if count == 1 { "scenario" } else { "scenarios" };
    format!("{count} {noun}: {}", named.join(", "))
}

fn render_unimplemented(out: &mut String, results: &Results) {
    let mut rows = Vec::new();
    let mut seen = std::collections::BTreeMap::new();
    for scenario in &results.scenarios {
        for step in &scenario.steps {
            if step.verdict != Verdict::Unimplemented {
                continue;
            }
            let operation = step.operation.clone().unwrap_or_else(|| "raw URL".into());
            let evidence = step
                .findings
                .first()
                .map(|f| excerpt(&f.message, NOTE_CHARS))
                .unwrap_or_default();
            seen.entry(operation)
                .or_insert_with(|| (Vec::new(), evidence))
                .0
                .push(format!("`{}#{}`", scenario.id, step.name));
        }
    }
    if seen.is_empty() {
        return;
    }
    out.push_str("\n## Unimplemented operations\n\n");
    for (operation, (steps, evidence)) in seen {
        let mut named: Vec<String> = steps.iter().take(NAMED_SCENARIOS).cloned().collect();
        if steps.len() > NAMED_SCENARIOS {
            named.push(format!("and {} more", steps.len() - NAMED_SCENARIOS));
        }
        rows.push(vec![format!("`{operation}`"), named.join(", "), evidence]);
    }
    out.push_str(&markdown_table(&["Operation", "Steps", "Evidence"], rows));
    out.push('\n');
}

fn render_model(out: &mut String, ranked: &[Problem]) {
    let model: Vec<&Problem> = ranked
        .iter()
        .filter(|p| p.severity == Severity::Model)
        .collect();
    if model.is_empty() {
        return;
    }
    out.push_str(
        "\n## Cooperative-model expectations not met\n\n\
         These hold only when the model cooperates (it searched with a sensible query, it cited); \
         they are never the implementation's failure.\n\n",
    );
    for problem in model {
        let _ = writeln!(
            out,
            "- {}: {} (in {})",
            title(problem),
            problem.message,
            scenario_list(problem)
        );
    }
}

fn render_errors(out: &mut String, results: &Results) {
    let mut lines = Vec::new();
    for scenario in &results.scenarios {
        for step in &scenario.steps {
            for finding in step.findings.iter().filter(|f| f.verdict == Verdict::Error) {
                lines.push(format!(
                    "- `{}#{}`: {}",
                    scenario.id, step.name, finding.message
                ));
            }
        }
    }
    if lines.is_empty() {
        return;
    }
    out.push_str("\n## Harness errors\n\n");
    out.push_str(&lines.join("\n"));
    out.push('\n');
}

fn render_scenarios(out: &mut String, results: &Results) {
    out.push_str("\n## Scenarios\n\n");
    let rows = results
        .scenarios
        .iter()
        .map(|scenario| {
            let ran = scenario
                .steps
                .iter()
                .filter(|step| step.response.is_some())
                .count();
            let mut row = vec![
                format!("`{}`", scenario.id),
                scenario.verdict.label().to_owned(),
                format!("{ran}/{}", scenario.steps.len()),
            ];
            for severity in [Severity::Breaking, Severity::Deviation, Severity::Cosmetic] {
                row.push(count(scenario, severity).to_string());
            }
            row.push(
                scenario
                    .reason
                    .as_deref()
                    .map(|r| excerpt(r, NOTE_CHARS))
                    .unwrap_or_default(),
            );
            row
        })
        .collect();
    out.push_str(&markdown_table(
        &[
            "Scenario",
            "Verdict",
            "Steps run",
            "Breaking",
            "Deviation",
            "Cosmetic",
            "Note",
        ],
        rows,
    ));
    out.push('\n');
}

fn count(scenario: &ScenarioResult, severity: Severity) -> usize {
    scenario
        .steps
        .iter()
        .flat_map(|step| &step.findings)
        .filter(|finding| finding.severity == Some(severity))
        .count()
}
