//! Findings grouped into problems a maintainer can act on: the same finding in many scenarios
//! (and operations) is one problem, keyed by severity, kind, the field it is about and what
//! differs (see [`group_key`]), and problems are ranked by severity, then by how many scenarios
//! share them.

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
    /// What kind of finding.
    pub kind: FindingKind,
    /// What the findings are about: a field (`created_at`), or for a wrong status the
    /// operation and status; `None` when only the message tells.
    pub subject: Option<String>,
    /// The first finding's message, as an example.
    pub message: String,
    /// The operations it was found in (`raw URL` for steps outside every covered one).
    pub operations: BTreeSet<String>,
    /// The JSON paths it was found at, indices as `*`.
    pub paths: BTreeSet<String>,
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
            let operation = step.operation.as_deref().unwrap_or("raw URL");
            for finding in &step.findings {
                let Some(severity) = finding.severity else {
                    continue;
                };
                let (subject, what) = subject_and_what(step, finding);
                let key = format!(
                    "{}|{}|{}|{what}",
                    severity.label(),
                    kind_label(finding.kind),
                    subject.as_deref().unwrap_or("")
                );
                let problem = by_key.entry(key.clone()).or_insert_with(|| Problem {
                    severity,
                    key,
                    kind: finding.kind,
                    subject,
                    message: finding.message.clone(),
                    operations: BTreeSet::new(),
                    paths: BTreeSet::new(),
                    scenarios: BTreeSet::new(),
                    findings: 0,
                    example: (scenario.id.clone(), step.clone()),
                });
                problem.operations.insert(operation.to_owned());
                if let Some(pointer) = &finding.pointer {
                    problem.paths.insert(wildcard_indices(pointer));
                }
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

/// The key findings are grouped by: `severity|kind|subject|what`. The subject is the field a
/// finding is about (the last key of its JSON path, or the property a `required` error names),
/// whichever operation and however deep it was found, so "`created_at` is a float" is one
/// problem across every object; a wrong status's subject is its operation and the status got.
/// What differs is the schema rule broken (`type`, `required`, `enum`...), `missing` or
/// `differs` for the recorded body, or the message with its numbers as `#`. E.g.
/// `breaking|schema|created_at|type`.
pub fn group_key(step: &StepResult, finding: &Finding) -> String {
    let (subject, what) = subject_and_what(step, finding);
    format!(
        "{}|{}|{}|{what}",
        finding.severity.map_or("none", Severity::label),
        kind_label(finding.kind),
        subject.as_deref().unwrap_or("")
    )
}

fn subject_and_what(step: &StepResult, finding: &Finding) -> (Option<String>, String) {
    let field = finding.pointer.as_deref().map(last_field);
    match finding.kind {
        FindingKind::Status => {
            let operation = step.operation.as_deref().unwrap_or("raw URL");
            let got = step
                .response
                .as_ref()
                .map_or("nothing".to_owned(), |r| r.status.to_string());
            (Some(format!("{operation} {got}")), String::new())
        }
        FindingKind::Schema => {
            let rule = finding
                .message
                .rsplit_once("(schema path ")
                .map(|(_, path)| {
                    let path = path.trim_end_matches(')');
                    path.rsplit('/').next().unwrap_or(path).to_owned()
                })
                .unwrap_or_default();
            let required = (rule == "required")
                .then(|| {
                    let (_, rest) = finding.message.split_once(": \"")?;
                    let (name, _) = rest.split_once("\" is a required property")?;
                    Some(name.to_owned())
                })
                .flatten();
            (required.or(field), rule)
        }
        FindingKind::Body | FindingKind::Capture if field.is_some() => {
            let what = if finding.message.contains(": missing key") {
                "missing"
            } else {
                "differs"
            };
            (field, what.to_owned())
        }
        _ => (None, numbers_as_hash(&finding.message)),
    }
}

/// The snake_case name of a finding kind, as in the results JSON.
pub fn kind_label(kind: FindingKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The last key of a JSON pointer that is not an array index (`/data/0/created_at` →
/// `created_at`); `/` for the root.
fn last_field(pointer: &str) -> String {
    pointer
        .rsplit('/')
        .find(|segment| !segment.is_empty() && !segment.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or("/")
        .to_owned()
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

    #[rstest]
    #[case("/data/3/created_at", "created_at")]
    #[case("/tools/0", "tools")]
    #[case("/", "/")]
    fn the_field_is_the_last_key(#[case] pointer: &str, #[case] field: &str) {
        assert_eq!(last_field(pointer), field);
    }

    #[test]
    fn numbers_become_hashes() {
        assert_eq!(
            numbers_as_hash("poll 3: event #12 at 1.5"),
            "poll #: event ## at #.#"
        );
    }
}
