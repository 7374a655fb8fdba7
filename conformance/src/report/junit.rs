//! JUnit XML (`--junit FILE`) for CI systems: one testcase per scenario, its steps and findings
//! in the testcase's output; a failing verdict is a `<failure>`, SKIPPED and XFAIL are
//! `<skipped>`. Rendered from the results alone, without times, so the same results always
//! render the same XML.

use std::fmt::Write;

use crate::results::{Results, ScenarioResult};
use crate::verdict::Verdict;

/// Renders the JUnit XML document.
pub fn render_junit(results: &Results) -> String {
    let failures = results
        .scenarios
        .iter()
        .filter(|s| !s.verdict.is_ok())
        .count();
    let skipped = results
        .scenarios
        .iter()
        .filter(|s| matches!(s.verdict, Verdict::Skipped | Verdict::Xfail))
        .count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"assistants-conformance\" tests=\"{total}\" failures=\"{failures}\" skipped=\"{skipped}\">\n  \
         <testsuite name=\"{}\" tests=\"{total}\" failures=\"{failures}\" skipped=\"{skipped}\">",
        escape(&results.run.base_url),
        total = results.scenarios.len(),
    );
    for scenario in &results.scenarios {
        testcase(&mut out, scenario);
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

fn testcase(out: &mut String, scenario: &ScenarioResult) {
    let classname = scenario
        .id
        .rsplit_once('/')
        .map_or("", |(family, _)| family)
        .replace('/', ".");
    let _ = writeln!(
        out,
        "    <testcase classname=\"{}\" name=\"{}\">",
        escape(&classname),
        escape(&scenario.id)
    );
    let reason = scenario.reason.clone().unwrap_or_default();
    if !scenario.verdict.is_ok() {
        let first = scenario
            .steps
            .iter()
            .filter(|step| step.verdict == scenario.raw_verdict)
            .flat_map(|step| {
                step.findings
                    .iter()
                    .filter(|f| f.verdict == step.verdict)
                    .map(move |f| format!("{}: {}", step.name, f.message))
            })
            .next()
            .unwrap_or(reason);
        let _ = writeln!(
            out,
            "      <failure type=\"{}\" message=\"{}\"/>",
            scenario.verdict,
            escape(&first)
        );
    } else if matches!(scenario.verdict, Verdict::Skipped | Verdict::Xfail) {
        let message = format!("{}: {reason}", scenario.verdict);
        let _ = writeln!(out, "      <skipped message=\"{}\"/>", escape(&message));
    }
    let mut steps = String::new();
    for step in &scenario.steps {
        let operation = step.operation.as_deref().unwrap_or("raw URL");
        let _ = writeln!(steps, "{} {} ({operation})", step.verdict, step.name);
        for finding in &step.findings {
            let severity = finding
                .severity
                .map_or(String::new(), |s| format!(" ({s})"));
            let _ = writeln!(
                steps,
                "  - {}{severity}: {}",
                finding.verdict, finding.message
            );
        }
    }
    let _ = writeln!(
        out,
        "      <system-out>{}</system-out>\n    </testcase>",
        escape(&steps)
    );
}

/// Text as XML character data or attribute value; characters XML 1.0 forbids are dropped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_forbidden_characters_are_escaped() {
        assert_eq!(
            escape("a<b> & \"c\" 'd'\u{1}\n"),
            "a&lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;\n"
        );
    }
}
