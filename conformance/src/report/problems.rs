//! Findings grouped into problems a maintainer can act on: the same finding in many scenarios is
//! one problem, keyed by operation, JSON path with indices wildcarded, kind and what differs,
//! and problems are ranked by severity, then by how many scenarios share them.

use std::collections::{BTreeMap, BTreeSet};

use crate::results::{Finding, FindingKind, Results, StepResult};
use crate::verdict::{Severity, Verdict};

/// One problem: every finding with the same [`group_key`].
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// How much it matters.
    pub severity: Severity,
    /// The grouping key, stable across runs (see [`group_key`]).
    pub key: String,
    /// The operation, `None` for raw URL steps outside every covered operation.
    pub operation: Option<String>,
    /// What kind of finding.
    pub kind: FindingKind,
    /// The JSON path with array indices as `*`, when the findings have one.
    pub path: Option<String>,
    /// The first finding's message, as an example.
    pub message: String,
    /// Ids of the scenarios that have it, sorted.
    pub scenarios: BTreeSet<String>,
    /// How many findings it groups.
    pub findings: usize,
    /// The first scenario and step that show it, to reproduce it from.
    pub example: (String, StepResult),
}

/// The problems of `results`, worst first: by severity, then scenarios, then findings, then
/// key. Scenarios excused by the expected-failures list (XFAIL) and findings without severity
/// (skips, harness errors, unimplemented routes) are left out.
pub fn problems(results: &Results) -> Vec<Problem> {
    let mut by_key: BTreeMap<String, Problem> = BTreeMap::new();
    for scenario in &results.scenarios {
        if scenario.verdict == Verdict::Xfail {
            continue;
        }
        for step in &scenario.steps {
            for finding in &step.findings {
                let Some(severity) = finding.severity else {
                    continue;
                };
                let key = group_key(step, finding);
                let problem = by_key.entry(key.clone()).or_insert_with(|| Problem {
                    severity,
                    key,
                    operation: step.operation.clone(),
                    kind: finding.kind,
                    path: finding.pointer.as_deref().map(wildcard_indices),
                    message: finding.message.clone(),
                    scenarios: BTreeSet::new(),
                    findings: 0,
                    example: (scenario.id.clone(), step.clone()),
                });
                problem.scenarios.insert(scenario.id.clone());
                problem.findings += 1;
            }
        }
    }
    let mut ranked: Vec<Problem> = by_key.into_values().collect();
    ranked.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.scenarios.len().cmp(&a.scenarios.len()))
            .then(b.findings.cmp(&a.findings))
            .then(a.key.cmp(&b.key))
    });
    ranked
}

/// The key findings are grouped by: severity, operation, kind, JSON path with indices as `*`,
/// and what differs (the status received, the schema rule broken, a missing key or a different
/// value, or the message with its numbers as `#`), e.g.
/// `breaking|createAssistant|schema|/tools/*/type|/properties/tools/items/oneOf`.
pub fn group_key(step: &StepResult, finding: &Finding) -> String {
    let severity = finding.severity.map_or("none", Severity::label);
    let operation = step.operation.as_deref().unwrap_or("raw URL");
    let path = finding
        .pointer
        .as_deref()
        .map(wildcard_indices)
        .unwrap_or_default();
    let what = match finding.kind {
        FindingKind::Status => format!(
            "got {}",
            step.response
                .as_ref()
                .map_or("nothing".to_owned(), |r| r.status.to_string())
        ),
        FindingKind::Schema => finding.message.rsplit_once("(schema path ").map_or_else(
            || numbers_as_hash(&finding.message),
            |(_, rule)| wildcard_indices(rule.trim_end_matches(')')),
        ),
        FindingKind::Body if finding.pointer.is_some() => {
            if finding.message.contains(": missing key") {
                "missing".to_owned()
            } else {
                "differs".to_owned()
            }
        }
        _ => numbers_as_hash(&finding.message),
    };
    let kind = serde_json::to_value(finding.kind)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default();
    format!("{severity}|{operation}|{kind}|{path}|{what}")
}

/// `/data/3/content/0/text` → `/data/*/content/*/text`.
pub fn wildcard_indices(pointer: &str) -> String {
    pointer
        .split('/')
        .map(|segment| {
            if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
                "*"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// A message with every run of digits as `#`, so "poll 3" and "event #12" group together.
fn numbers_as_hash(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut in_number = false;
    for c in message.chars() {
        if c.is_ascii_digit() {
            if !in_number {
                out.push('#');
            }
            in_number = true;
        } else {
            in_number = false;
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("/data/3/content/0/text", "/data/*/content/*/text")]
    #[case("/", "/")]
    #[case("/a1/b", "/a1/b")]
    fn indices_become_wildcards(#[case] pointer: &str, #[case] expected: &str) {
        assert_eq!(wildcard_indices(pointer), expected);
    }

    #[test]
    fn numbers_become_hashes() {
        assert_eq!(
            numbers_as_hash("poll 3: event #12 at 1.5"),
            "poll #: event ## at #.#"
        );
    }
}
