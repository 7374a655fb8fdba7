//! Judging a body against the recording: the recorded body with its matchers (a missing key is
//! a deviation, since a key the schema requires is already a breaking schema finding), exact raw
//! bytes, OpenAI's pretty-printing, and the captures later steps need.

use serde_json::Value;

use crate::client::Received;
use crate::fixture::ExpectedBytes;
use crate::matcher::{match_body, Mismatch, MISSING_KEY};
use crate::results::{excerpt, Finding, FindingKind};
use crate::vars::Vars;
use crate::verdict::{Severity, Verdict};

/// FAIL when the body's bytes are not exactly `expected` (a downloaded file).
pub(super) fn compare_raw_body(
    expected: &ExpectedBytes,
    received: &Received,
    vars: &Vars,
    findings: &mut Vec<Finding>,
) {
    let wanted = match expected {
        ExpectedBytes::Text(text) => match vars.splice(text) {
            Ok(text) => text.into_bytes(),
            Err(unknown) => {
                let message = format!("expected raw body: {unknown}");
                findings.push(Finding::new(FindingKind::Variable, Verdict::Error, message));
                return;
            }
        },
        ExpectedBytes::Encoded { base64 } => {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD
                .decode(base64)
                .unwrap_or_default()
        }
    };
    if received.body != wanted {
        let differs_at = wanted
            .iter()
            .zip(&received.body)
            .position(|(a, b)| a != b)
            .unwrap_or(wanted.len().min(received.body.len()));
        let message = format!(
            "raw body differs from the expected {} bytes at byte {differs_at} (got {} bytes: {})",
            wanted.len(),
            received.body.len(),
            excerpt(&String::from_utf8_lossy(&received.body), 200)
        );
        findings.push(Finding {
            expected: Some(Value::String(String::from_utf8_lossy(&wanted).into_owned())),
            actual: Some(Value::String(
                String::from_utf8_lossy(&received.body).into_owned(),
            )),
            ..Finding::new(FindingKind::Body, Verdict::Fail, message)
        });
    }
}

/// Compares `body` with the recorded `expected` one. `at` prefixes every pointer (e.g.
/// `/events/3/data` for a stream event), so findings say where in the exchange they are.
pub fn compare_recorded(
    expected: &Value,
    body: &Value,
    at: &str,
    vars: &Vars,
    now: i64,
    findings: &mut Vec<Finding>,
) {
    let mut report = match_body(expected, body, vars, now);
    let locate = |pointer: &mut String| {
        if !at.is_empty() {
            *pointer = format!("{at}{}", if pointer == "/" { "" } else { pointer.as_str() });
        }
    };
    report
        .mismatches
        .iter_mut()
        .for_each(|m| locate(&mut m.pointer));
    report.extra_keys.iter_mut().for_each(locate);
    report.key_order.iter_mut().for_each(locate);
    for mismatch in report.mismatches {
        findings.push(mismatch_finding(mismatch));
    }
    for name in report.unknown_variables {
        let message = format!("expected body references unknown variable ${{{name}}}");
        findings.push(Finding::new(FindingKind::Variable, Verdict::Error, message));
    }
    for pointer in report.extra_keys {
        let message = format!("extra key {pointer} not in the recorded response");
        findings.push(Finding::new(FindingKind::ExtraKey, Verdict::NonStrict, message).at(pointer));
    }
    for pointer in report.key_order {
        let message = format!("keys of {pointer} are in a different order than recorded");
        findings.push(Finding::new(FindingKind::KeyOrder, Verdict::NonStrict, message).at(pointer));
    }
}

/// Maps whose keys the client chose: a key missing inside one is data the client stored and lost.
const CLIENT_MAPS: [&str; 3] = ["metadata", "attributes", "tool_resources"];

/// One mismatch as a finding. A missing key is a deviation: a key the schema requires is also a
/// (breaking) schema finding, so what is left is a key the document calls optional or OpenAI
/// sent only at times; except inside a map the client filled (`metadata`, ...), where it is
/// lost data and breaking. Different error wording is a deviation too: clients act on the status.
fn mismatch_finding(mismatch: Mismatch) -> Finding {
    let missing = mismatch.reason == MISSING_KEY;
    let lost = missing && inside_client_map(&mismatch.pointer);
    let message = if missing {
        format!(
            "body {}: {} (expected {})",
            mismatch.pointer, mismatch.reason, mismatch.expected
        )
    } else {
        format!(
            "body {}: {} (expected {}, got {})",
            mismatch.pointer, mismatch.reason, mismatch.expected, mismatch.actual
        )
    };
    let deviation = (missing && !lost) || mismatch.pointer.ends_with("/error/message");
    let finding = Finding {
        pointer: Some(mismatch.pointer),
        expected: Some(mismatch.expected),
        actual: (!missing).then_some(mismatch.actual),
        ..Finding::new(FindingKind::Body, Verdict::Fail, message)
    };
    if deviation {
        finding.severity(Severity::Deviation)
    } else {
        finding
    }
}

/// Whether `pointer` names a key inside one of [`CLIENT_MAPS`] (not the map itself).
fn inside_client_map(pointer: &str) -> bool {
    let segments: Vec<&str> = pointer.split('/').collect();
    let parents = &segments[..segments.len().saturating_sub(1)];
    parents.iter().any(|segment| CLIENT_MAPS.contains(segment))
}

/// Sets the variables of `captures` that resolve in `body`, reporting nothing: for an answer
/// already judged wrong, whose ids later steps may still use.
pub(super) fn capture_quietly(
    captures: &serde_json::Map<String, Value>,
    body: &Value,
    vars: &mut Vars,
) {
    capture(captures, body, vars, &mut Vec::new());
}

/// Sets each variable of `captures` (name → JSON pointer) from `body`; a pointer that does not
/// resolve is a FAIL finding.
pub fn capture(
    captures: &serde_json::Map<String, Value>,
    body: &Value,
    vars: &mut Vars,
    findings: &mut Vec<Finding>,
) {
    for (name, pointer) in captures {
        let pointer = pointer.as_str().unwrap_or_default();
        match body.pointer(pointer) {
            Some(value) => vars.set(name, value.clone()),
            None => {
                let message = format!(
                    "cannot capture `{name}`: {pointer} does not resolve in the response body"
                );
                findings
                    .push(Finding::new(FindingKind::Capture, Verdict::Fail, message).at(pointer));
            }
        }
    }
}

/// `value` rendered as OpenAI renders bodies: pretty, `": "` separators, `indent` spaces per level.
pub(super) fn pretty(value: &Value, indent: usize) -> String {
    let spaces = " ".repeat(indent);
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(spaces.as_bytes());
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    serde::Serialize::serialize(value, &mut serializer).expect("JSON serialises");
    String::from_utf8(out).expect("JSON is UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use serde_json::json;

    #[rstest]
    #[case(json!({"a": [1, {"b": null}]}), 2, "{\n  \"a\": [\n    1,\n    {\n      \"b\": null\n    }\n  ]\n}")]
    #[case(json!({"a": 1.0}), 4, "{\n    \"a\": 1.0\n}")]
    #[case(json!({}), 2, "{}")]
    fn bodies_render_as_openai_pretty_prints_them(
        #[case] value: Value,
        #[case] indent: usize,
        #[case] text: &str,
    ) {
        assert_eq!(pretty(&value, indent), text);
    }

    #[test]
    fn an_absent_key_reads_as_missing_and_is_a_deviation() {
        let vars = Vars::for_scenario("m");
        let mut findings = Vec::new();
        let expected = json!({"expires_at": null, "id": "a", "error": {"message": "x"}});
        let actual = json!({"id": "b", "error": {"message": "y"}});
        compare_recorded(&expected, &actual, "", &vars, 0, &mut findings);
        let seen: Vec<(&str, Option<Severity>)> = findings
            .iter()
            .map(|f| (f.message.as_str(), f.severity))
            .collect();
        assert_eq!(
            seen,
            vec![
                (
                    "body /expires_at: missing key (expected null)",
                    Some(Severity::Deviation)
                ),
                (
                    "body /id: different string (first difference at character 0) (expected \"a\", got \"b\")",
                    Some(Severity::Breaking)
                ),
                (
                    "body /error/message: different string (first difference at character 0) (expected \"x\", got \"y\")",
                    Some(Severity::Deviation)
                ),
            ]
        );
        assert_eq!(findings[0].actual, None);
        assert_eq!(findings[0].verdict, Verdict::NonStrict);
    }

    #[test]
    fn a_key_lost_from_a_client_filled_map_is_breaking() {
        let vars = Vars::for_scenario("m");
        let mut findings = Vec::new();
        let expected = json!({"metadata": {"k": "v"}, "tool_resources": {"file_search": {}}});
        let actual = json!({"metadata": {}, "tool_resources": {}});
        compare_recorded(&expected, &actual, "", &vars, 0, &mut findings);
        let seen: Vec<(&str, Option<Severity>)> = findings
            .iter()
            .map(|f| (f.message.as_str(), f.severity))
            .collect();
        assert_eq!(
            seen,
            vec![
                (
                    "body /metadata/k: missing key (expected \"v\")",
                    Some(Severity::Breaking)
                ),
                (
                    "body /tool_resources/file_search: missing key (expected {})",
                    Some(Severity::Breaking)
                ),
            ]
        );
    }
}
