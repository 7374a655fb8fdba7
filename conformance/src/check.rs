//! Judging one response against its step: unimplemented routes, status, content type, JSON,
//! schema, the recorded body, formatting, headers, and captures. Each problem becomes a
//! [`Finding`] carrying the verdict it implies.

use serde_json::Value;

use crate::catalog::Catalog;
use crate::client::Received;
use crate::fixture::Step;
use crate::matcher::match_body;
use crate::results::{Finding, FindingKind};
use crate::vars::Vars;
use crate::verdict::Verdict;

/// Spaces per indent level of OpenAI's JSON bodies unless a step says otherwise.
const DEFAULT_INDENT: usize = 2;

/// Headers OpenAI sends on every response; their absence makes a step NON-STRICT.
const ALWAYS_SENT_HEADERS: [&str; 2] = ["openai-version", "x-request-id"];

/// Judges `received` for `step`, captures variables into `vars`, and returns the findings.
/// `operation_id` selects the response schema (`None`: nothing to validate against).
pub fn judge(
    step: &Step,
    operation_id: Option<&str>,
    received: &Received,
    vars: &mut Vars,
    catalog: &dyn Catalog,
) -> Vec<Finding> {
    let expected_status = step.expected_status();
    let text = String::from_utf8_lossy(&received.body);
    let parsed: Option<Value> = serde_json::from_slice(&received.body).ok();
    if let Some(reason) = unimplemented(expected_status, received.status, parsed.as_ref()) {
        return vec![Finding::new(
            FindingKind::Unimplemented,
            Verdict::Unimplemented,
            reason,
        )];
    }
    let mut findings = Vec::new();
    if received.status != expected_status {
        let message = format!("expected status {expected_status}, got {}", received.status);
        findings.push(Finding::new(FindingKind::Status, Verdict::Fail, message));
    }
    check_content_type(received, &mut findings);
    let Some(body) = parsed else {
        let message = format!(
            "response body is not JSON: {}",
            crate::report::excerpt(&text, 200)
        );
        findings.push(Finding::new(FindingKind::Json, Verdict::Fail, message));
        return findings;
    };
    if let Some(operation_id) = operation_id {
        for error in catalog.validate_response(operation_id, received.status, &body) {
            let pointer = if error.instance_path.is_empty() {
                "/".to_owned()
            } else {
                error.instance_path
            };
            let message = format!(
                "schema error at {pointer}: {} (schema path {})",
                error.message, error.schema_path
            );
            findings.push(Finding::new(FindingKind::Schema, Verdict::Fail, message).at(pointer));
        }
    }
    if let Some(expected) = &step.expect.body {
        compare_recorded(expected, &body, vars, received.received_at, &mut findings);
    }
    let indent = step.expect.indent.unwrap_or(DEFAULT_INDENT);
    if text.trim_end() != pretty(&body, indent) {
        let message =
            format!("body is not pretty-printed with a {indent}-space indent as OpenAI's is");
        findings.push(Finding::new(
            FindingKind::Formatting,
            Verdict::NonStrict,
            message,
        ));
    }
    for header in ALWAYS_SENT_HEADERS {
        if !received.headers.contains_key(header) {
            findings.push(Finding::new(
                FindingKind::Header,
                Verdict::NonStrict,
                format!("missing `{header}` header"),
            ));
        }
    }
    capture(step, &body, vars, &mut findings);
    findings
}

/// Why a response means the route does not exist, when the scenario expected it to.
fn unimplemented(expected_status: u16, status: u16, body: Option<&Value>) -> Option<String> {
    if expected_status == status {
        return None;
    }
    match status {
        405 => Some("the route answered 405 Method Not Allowed".into()),
        501 => Some("the route answered 501 Not Implemented".into()),
        404 if expected_status != 404 => {
            let message = body?.pointer("/error/message")?.as_str()?;
            message
                .starts_with("Invalid URL")
                .then(|| format!("the route answered 404 `{message}`"))
        }
        _ => None,
    }
}

fn check_content_type(received: &Received, findings: &mut Vec<Finding>) {
    let content_type = received
        .headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        let message = format!("expected Content-Type application/json, got {content_type:?}");
        findings.push(Finding::new(
            FindingKind::ContentType,
            Verdict::Fail,
            message,
        ));
    }
}

fn compare_recorded(
    expected: &Value,
    body: &Value,
    vars: &Vars,
    now: i64,
    findings: &mut Vec<Finding>,
) {
    let report = match_body(expected, body, vars, now);
    for mismatch in report.mismatches {
        let message = format!(
            "body {}: {} (expected {}, got {})",
            mismatch.pointer, mismatch.reason, mismatch.expected, mismatch.actual
        );
        findings.push(Finding {
            kind: FindingKind::Body,
            verdict: Verdict::Fail,
            pointer: Some(mismatch.pointer),
            expected: Some(mismatch.expected),
            actual: Some(mismatch.actual),
            message,
        });
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

fn capture(step: &Step, body: &Value, vars: &mut Vars, findings: &mut Vec<Finding>) {
    for (name, pointer) in &step.capture {
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

/// The verdict implied by a list of findings.
pub fn verdict_of(findings: &[Finding]) -> Verdict {
    Verdict::worst(findings.iter().map(|finding| finding.verdict))
}

/// `value` rendered as OpenAI renders bodies: pretty, `": "` separators, `indent` spaces per level.
fn pretty(value: &Value, indent: usize) -> String {
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

    fn invalid_url() -> Value {
        json!({"error": {"message": "Invalid URL (GET /v1/threads/runs)", "type": "invalid_request_error"}})
    }

    #[rstest]
    #[case(200, 404, Some(invalid_url()), true)]
    #[case(200, 405, None, true)]
    #[case(200, 501, None, true)]
    #[case(400, 405, None, true)]
    #[case(404, 404, Some(invalid_url()), false)]
    #[case(405, 405, None, false)]
    #[case(200, 404, Some(json!({"error": {"message": "No thread found with id 'x'."}})), false)]
    #[case(200, 404, Some(json!({"detail": "Not Found"})), false)]
    #[case(200, 404, None, false)]
    #[case(200, 500, None, false)]
    fn unimplemented_routes_are_told_apart_from_wrong_answers(
        #[case] expected: u16,
        #[case] status: u16,
        #[case] body: Option<Value>,
        #[case] unimplemented_route: bool,
    ) {
        assert_eq!(
            unimplemented(expected, status, body.as_ref()).is_some(),
            unimplemented_route
        );
    }

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
}
