//! `coverage.md`: every covered operation of the document grouped by family, the scenarios that
//! exercise it and its verdict, with per-family and overall summaries. Rendered only from the
//! results and free of run-specific values, so one implementation always renders the same bytes.

use std::collections::{BTreeMap, BTreeSet};

use crate::catalog::family_label;
use crate::report::markdown_table;
use crate::results::{OperationRecord, Results};
use crate::spec::Family;
use crate::verdict::Verdict;

/// What the results say about one operation.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationCoverage {
    /// The operation.
    pub operation: OperationRecord,
    /// Ids of the scenarios with a step for it, sorted.
    pub scenarios: Vec<String>,
    /// Worst verdict over those scenarios; `None` when no scenario exercises it.
    pub verdict: Option<Verdict>,
}

/// Coverage of every operation in the results, sorted by family, path and method.
pub fn operation_coverage(results: &Results) -> Vec<OperationCoverage> {
    let mut per_operation: BTreeMap<&str, BTreeMap<&str, Vec<Verdict>>> = BTreeMap::new();
    for scenario in &results.scenarios {
        for step in &scenario.steps {
            let Some(operation) = step.operation.as_deref() else {
                continue;
            };
            let verdict = if scenario.verdict == Verdict::Xfail && step.verdict.is_failure() {
                Verdict::Xfail
            } else {
                step.verdict
            };
            per_operation
                .entry(operation)
                .or_default()
                .entry(&scenario.id)
                .or_default()
                .push(verdict);
        }
    }
    let mut coverage: Vec<OperationCoverage> = results
        .operations
        .iter()
        .map(|operation| {
            let by_scenario = per_operation
                .remove(operation.id.as_str())
                .unwrap_or_default();
            let verdicts: Vec<Verdict> = by_scenario.values().flatten().copied().collect();
            let ran: Vec<Verdict> = verdicts
                .iter()
                .copied()
                .filter(|v| *v != Verdict::Skipped)
                .collect();
            // one answer showing the route is missing outweighs failures elsewhere (which are
            // then mostly the consequences of the missing route)
            let missing = ran.contains(&Verdict::Unimplemented);
            let verdict = match (verdicts.is_empty(), ran.is_empty()) {
                (true, _) => None,
                (false, true) => Some(Verdict::Skipped),
                (false, false) if missing => Some(Verdict::Unimplemented),
                (false, false) => Some(Verdict::worst(ran)),
            };
            OperationCoverage {
                operation: operation.clone(),
                scenarios: by_scenario.keys().map(|id| id.to_string()).collect(),
                verdict,
            }
        })
        .collect();
    coverage.sort_by(|a, b| {
        let key = |c: &OperationCoverage| {
            (
                c.operation.family,
                c.operation.path.clone(),
                c.operation.method.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
    coverage
}

/// Renders `coverage.md`.
pub fn render_coverage(results: &Results) -> String {
    let coverage = operation_coverage(results);
    let families: BTreeSet<Family> = coverage.iter().map(|c| c.operation.family).collect();
    let mut out = String::from(
        "# Conformance coverage\n\n\
         Generated from the harness results (`assistants-conformance --coverage coverage.md`); do not edit by hand.\n\
         An operation's verdict is the worst over the scenarios that exercise it (steps skipped because a\n\
         variable they need was never captured are ignored when others ran), except that an operation\n\
         answered anywhere as a missing route is UNIMPLEMENTED; *passing* means PASS or NON-STRICT.\n\n## Summary\n\n",
    );
    let mut summary_rows = Vec::new();
    let (mut total, mut covered_total, mut passing_total, mut missing_total) = (0, 0, 0, 0);
    for family in &families {
        let in_family: Vec<&OperationCoverage> = coverage
            .iter()
            .filter(|c| c.operation.family == *family)
            .collect();
        let covered = in_family.iter().filter(|c| c.verdict.is_some()).count();
        let passing = in_family
            .iter()
            .filter(|c| c.verdict.is_some_and(Verdict::is_passing))
            .count();
        let missing = in_family
            .iter()
            .filter(|c| c.verdict == Some(Verdict::Unimplemented))
            .count();
        summary_rows.push(vec![
            family_label(*family).to_owned(),
            in_family.len().to_string(),
            covered.to_string(),
            passing.to_string(),
            missing.to_string(),
        ]);
        total += in_family.len();
        covered_total += covered;
        passing_total += passing;
        missing_total += missing;
    }
    summary_rows.push(vec![
        "**Total**".into(),
        total.to_string(),
        covered_total.to_string(),
        passing_total.to_string(),
        missing_total.to_string(),
    ]);
    out.push_str(&markdown_table(
        &[
            "Family",
            "Operations",
            "Covered",
            "Passing",
            "Unimplemented",
        ],
        summary_rows,
    ));
    out.push_str(&format!(
        "\n\nOverall: {passing_total} of {total} operations passing ({}), {covered_total} covered ({}).\n",
        percent(passing_total, total),
        percent(covered_total, total)
    ));
    for family in &families {
        out.push_str(&format!("\n## {}\n\n", family_label(*family)));
        let rows = coverage
            .iter()
            .filter(|c| c.operation.family == *family)
            .map(|c| {
                let scenarios = if c.scenarios.is_empty() {
                    "-".to_owned()
                } else {
                    c.scenarios.join(", ")
                };
                vec![
                    format!("`{}`", c.operation.id),
                    format!("`{} {}`", c.operation.method, c.operation.path),
                    scenarios,
                    c.verdict
                        .map_or("not covered".to_owned(), |v| v.label().to_owned()),
                ]
            })
            .collect();
        out.push_str(&markdown_table(
            &["Operation", "Method and path", "Scenarios", "Verdict"],
            rows,
        ));
        out.push('\n');
    }
    out
}

/// `part / whole` as a percentage with one decimal, `0.0%` for an empty whole.
pub fn percent(part: usize, whole: usize) -> String {
    if whole == 0 {
        return "0.0%".into();
    }
    format!("{:.1}%", part as f64 * 100.0 / whole as f64)
}
