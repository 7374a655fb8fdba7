//! `assistants-conformance compare A.json B.json ...`: one Markdown matrix of several targets'
//! results, in the spirit of wpt.fyi: operations × targets, then scenarios × targets, each cell
//! the worst that happened there (a missing route, a harness error, the worst severity of a
//! finding, skipped, or pass).

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::report::markdown_table;
use crate::results::{Results, StepResult};
use crate::verdict::{Severity, Verdict};

/// One target: a name for the column and its results.
#[derive(Debug, Clone)]
pub struct Target {
    /// The column heading (e.g. the results file's name).
    pub name: String,
    /// What the target's run produced.
    pub results: Results,
}

/// Reads each results file as a target named by its file stem (or its path when two stems
/// collide); the error names the file.
pub fn load_targets(files: &[PathBuf]) -> Result<Vec<Target>, String> {
    let mut targets: Vec<Target> = Vec::with_capacity(files.len());
    for file in files {
        let text = std::fs::read_to_string(file)
            .map_err(|err| format!("cannot read {}: {err}", file.display()))?;
        let results =
            Results::from_json(&text).map_err(|err| format!("{}: {err}", file.display()))?;
        let stem = file.file_stem().map_or_else(
            || file.display().to_string(),
            |s| s.to_string_lossy().into_owned(),
        );
        let name = if targets.iter().any(|t| t.name == stem) {
            file.display().to_string()
        } else {
            stem
        };
        targets.push(Target { name, results });
    }
    Ok(targets)
}

/// Renders the comparison of `targets` (in the order given).
pub fn render_compare(targets: &[Target]) -> String {
    let mut out = String::from("# Conformance comparison\n\n");
    let legend: Vec<Vec<String>> = targets
        .iter()
        .map(|t| {
            vec![
                format!("`{}`", t.name),
                format!("`{}`", t.results.run.base_url),
                format!("`{}`", t.results.run.model),
                if t.results.run.strict { "yes" } else { "no" }.to_owned(),
                summary(&t.results),
            ]
        })
        .collect();
    out.push_str(&markdown_table(
        &["Target", "Base URL", "Model", "Strict", "Scenarios"],
        legend,
    ));
    out.push_str(
        "\n\nEach cell is the worst there: `unimplemented` (a missing route), `error` (the harness \
         could not run a step), the worst severity of a finding (`breaking`, `deviation`, \
         `cosmetic`), `skipped`, or `pass`; `-` when the target's run did not exercise it.\n",
    );
    let mut operations: Vec<(String, String)> = Vec::new();
    let mut seen = BTreeSet::new();
    for target in targets {
        for op in &target.results.operations {
            if seen.insert(op.id.clone()) {
                operations.push((op.id.clone(), format!("{} {}", op.method, op.path)));
            }
        }
    }
    let mut header = vec!["Operation".to_owned()];
    header.extend(targets.iter().map(|t| t.name.clone()));
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let rows = operations
        .iter()
        .map(|(id, route)| {
            let mut row = vec![format!("`{id}` `{route}`")];
            for target in targets {
                let steps: Vec<&StepResult> = target
                    .results
                    .scenarios
                    .iter()
                    .flat_map(|s| &s.steps)
                    .filter(|step| step.operation.as_deref() == Some(id.as_str()))
                    .collect();
                row.push(cell(&steps));
            }
            row
        })
        .collect();
    out.push_str("\n## Operations\n\n");
    out.push_str(&markdown_table(&header, rows));
    let scenarios: BTreeSet<&str> = targets
        .iter()
        .flat_map(|t| t.results.scenarios.iter().map(|s| s.id.as_str()))
        .collect();
    let mut header = vec!["Scenario".to_owned()];
    header.extend(targets.iter().map(|t| t.name.clone()));
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let rows = scenarios
        .iter()
        .map(|id| {
            let mut row = vec![format!("`{id}`")];
            for target in targets {
                let scenario = target.results.scenarios.iter().find(|s| s.id == *id);
                row.push(scenario.map_or("-".to_owned(), |s| {
                    let steps: Vec<&StepResult> = s.steps.iter().collect();
                    let worst = cell(&steps);
                    if s.verdict == Verdict::Xfail {
                        format!("{worst} (xfail)")
                    } else {
                        worst
                    }
                }));
            }
            row
        })
        .collect();
    out.push_str("\n\n## Scenarios\n\n");
    out.push_str(&markdown_table(&header, rows));
    out.push('\n');
    out
}

/// `PASS 40, FAIL 4` for a target's scenarios.
fn summary(results: &Results) -> String {
    let parts: Vec<String> = results
        .totals()
        .into_iter()
        .filter(|(_, count)| *count > 0)
        .map(|(verdict, count)| format!("{verdict} {count}"))
        .collect();
    parts.join(", ")
}

/// The worst that happened in `steps`, as one word.
fn cell(steps: &[&StepResult]) -> String {
    if steps.is_empty() {
        return "-".into();
    }
    if steps.iter().any(|s| s.verdict == Verdict::Unimplemented) {
        return "unimplemented".into();
    }
    if steps.iter().any(|s| s.verdict == Verdict::Error) {
        return "error".into();
    }
    let worst = steps
        .iter()
        .flat_map(|s| &s.findings)
        .filter_map(|f| f.severity)
        .filter(|s| *s != Severity::Model)
        .max();
    match worst {
        Some(severity) => severity.label().to_owned(),
        None if steps.iter().all(|s| s.verdict == Verdict::Skipped) => "skipped".into(),
        None => "pass".into(),
    }
}
