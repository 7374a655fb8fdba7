//! The Markdown report (`--report`): totals by verdict, a table of scenarios, and the failure
//! details of every scenario that did not pass. Rendered from the results alone; it names the
//! base URL but no times, so the same results always render the same report.

use crate::report::text::failure_details;
use crate::report::{excerpt, markdown_table};
use crate::results::Results;
use crate::verdict::Verdict;

/// Characters of a reason shown in the scenario table.
const NOTE_CHARS: usize = 120;

/// Renders the Markdown report.
pub fn render_report(results: &Results) -> String {
    let mut sorted = results.clone();
    sorted.scenarios.sort_by(|a, b| a.id.cmp(&b.id));
    let results = &sorted;
    let mut out = format!(
        "# Conformance report\n\nImplementation: `{}`; model `{}`{}.\n\n## Totals\n\n",
        results.run.base_url,
        results.run.model,
        if results.run.filters.is_empty() {
            String::new()
        } else {
            format!(
                "; filters {}",
                results
                    .run
                    .filters
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    let totals = results
        .totals()
        .into_iter()
        .map(|(verdict, count)| vec![verdict.label().to_owned(), count.to_string()]);
    out.push_str(&markdown_table(&["Verdict", "Scenarios"], totals.collect()));
    out.push_str(&format!(
        "\n\n{} scenarios, {} steps run. Result: **{}**.\n\n## Scenarios\n\n",
        results.scenarios.len(),
        results.steps_run(),
        if results.all_ok() { "OK" } else { "FAILED" }
    ));
    let rows = results
        .scenarios
        .iter()
        .map(|scenario| {
            let ran = scenario
                .steps
                .iter()
                .filter(|step| step.response.is_some())
                .count();
            vec![
                format!("`{}`", scenario.id),
                scenario.verdict.label().to_owned(),
                format!("{ran}/{}", scenario.steps.len()),
                scenario
                    .reason
                    .as_deref()
                    .map(|r| excerpt(r, NOTE_CHARS))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    out.push_str(&markdown_table(
        &["Scenario", "Verdict", "Steps run", "Note"],
        rows,
    ));
    out.push('\n');
    let failing: Vec<_> = results
        .scenarios
        .iter()
        .filter(|s| !s.verdict.is_ok() || s.verdict == Verdict::Xfail)
        .collect();
    if !failing.is_empty() {
        out.push_str("\n## Failures\n");
        for scenario in failing {
            out.push_str(&format!(
                "\n### `{}`: {}\n\n````text\n{}````\n",
                scenario.id,
                scenario.verdict,
                failure_details(scenario)
            ));
        }
    }
    let non_strict: Vec<_> = results
        .scenarios
        .iter()
        .filter(|s| s.verdict == Verdict::NonStrict)
        .collect();
    if !non_strict.is_empty() {
        out.push_str("\n## Non-strict findings\n\n");
        for scenario in non_strict {
            for step in scenario
                .steps
                .iter()
                .filter(|step| step.verdict == Verdict::NonStrict)
            {
                for finding in step
                    .findings
                    .iter()
                    .filter(|f| f.verdict == Verdict::NonStrict)
                {
                    out.push_str(&format!(
                        "- `{}#{}`: {}\n",
                        scenario.id, step.name, finding.message
                    ));
                }
            }
        }
    }
    out
}
