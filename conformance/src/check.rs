//! Judging one response against its step: unimplemented routes, status, content type, JSON,
//! schema, the recorded body, formatting, headers, and captures. Each problem becomes a
//! [`Finding`] carrying the verdict it implies.

use serde_json::Value;

use crate::catalog::Catalog;
use crate::client::Received;
use crate::fixture::{ExpectedBytes, ExpectedStatus, Step};
use crate::matcher::match_body;
use crate::results::{Finding, FindingKind};
use crate::spec::Family;
use crate::vars::Vars;
use crate::verdict::Verdict;

/// Spaces per indent level of OpenAI's JSON bodies unless a step says otherwise.
const DEFAULT_INDENT: usize = 2;

/// The indent of OpenAI's edge (authentication) bodies, which also end with a newline.
const EDGE_INDENT: usize = 4;

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
    let text = String::from_utf8_lossy(&received.body);
    let parsed: Option<Value> = serde_json::from_slice(&received.body).ok();
    let mut findings = match status_findings(step, received, parsed.as_ref()) {
        Ok(findings) => findings,
        Err(unimplemented) => return vec![*unimplemented],
    };
    if let Some(expected) = &step.expect.raw_body {
        if let Some(media) = &step.expect.content_type {
            check_content_type(received, media, &mut findings);
        }
        compare_raw_body(expected, received, vars, &mut findings);
        check_always_sent_headers(received, &mut findings);
        return findings;
    }
    let media = step
        .expect
        .content_type
        .as_deref()
        .unwrap_or("application/json");
    check_content_type(received, media, &mut findings);
    let Some(body) = parsed else {
        let message = format!(
            "response body is not JSON: {}",
            crate::report::excerpt(&text, 200)
        );
        findings.push(Finding::new(FindingKind::Json, Verdict::Fail, message));
        return findings;
    };
    if let Some(operation_id) = operation_id {
        findings.extend(schema_findings(
            catalog,
            operation_id,
            received.status,
            &body,
        ));
    }
    if let Some(expected) = &step.expect.body {
        compare_recorded(
            expected,
            &body,
            "",
            vars,
            received.received_at,
            &mut findings,
        );
    }
    findings.extend(citation_findings(&body, ""));
    let indent = step.expect.indent.unwrap_or(DEFAULT_INDENT);
    let newline = step
        .expect
        .trailing_newline
        .unwrap_or_else(|| indent == EDGE_INDENT || is_file_service_step(step, catalog));
    let wanted = format!(
        "{}{}",
        pretty(&body, indent),
        if newline { "\n" } else { "" }
    );
    if text != wanted {
        let ending = if newline { "one" } else { "no" };
        let message = format!(
            "body is not pretty-printed with a {indent}-space indent and {ending} trailing newline as OpenAI's is"
        );
        findings.push(Finding::new(
            FindingKind::Formatting,
            Verdict::NonStrict,
            message,
        ));
    }
    check_always_sent_headers(received, &mut findings);
    capture(&step.capture, &body, vars, &mut findings);
    findings
}

/// A FAIL finding for each annotation whose span does not hold its text (see
/// [`crate::annotations`]); `base` locates `body` in the step's answer.
pub fn citation_findings(body: &Value, base: &str) -> Vec<Finding> {
    crate::annotations::misplaced_annotations(body, base)
        .into_iter()
        .map(|misplaced| {
            let message = format!("citation indices: {}", misplaced.message);
            Finding::new(FindingKind::Body, Verdict::Fail, message).at(misplaced.pointer)
        })
        .collect()
}

/// The status check: `Err` with the one finding that makes the step UNIMPLEMENTED (the route
/// does not exist), else a FAIL finding when the status is not an expected one.
pub fn status_findings(
    step: &Step,
    received: &Received,
    parsed: Option<&Value>,
) -> Result<Vec<Finding>, Box<Finding>> {
    let expected = step.expected_status();
    if let Some(reason) = unimplemented(&expected, received.status, parsed) {
        return Err(Box::new(Finding::new(
            FindingKind::Unimplemented,
            Verdict::Unimplemented,
            reason,
        )));
    }
    let mut findings = Vec::new();
    if !expected.accepts(received.status) {
        let message = format!(
            "expected status {}, got {}",
            expected.describe(),
            received.status
        );
        findings.push(Finding::new(FindingKind::Status, Verdict::Fail, message));
    }
    Ok(findings)
}

/// Schema errors of a JSON body as FAIL findings.
pub fn schema_findings(
    catalog: &dyn Catalog,
    operation_id: &str,
    status: u16,
    body: &Value,
) -> Vec<Finding> {
    catalog
        .validate_response(operation_id, status, body)
        .into_iter()
        .map(|error| {
            let pointer = if error.instance_path.is_empty() {
                "/".to_owned()
            } else {
                error.instance_path
            };
            let message = format!(
                "schema error at {pointer}: {} (schema path {})",
                error.message, error.schema_path
            );
            let (kind, verdict) = crate::schema_severity::classify(&error.schema_path);
            Finding::new(kind, verdict, message).at(pointer)
        })
        .collect()
}

/// NON-STRICT findings for headers OpenAI sends on every response but `received` lacks.
pub fn check_always_sent_headers(received: &Received, findings: &mut Vec<Finding>) {
    for header in ALWAYS_SENT_HEADERS {
        if !received.headers.contains_key(header) {
            findings.push(Finding::new(
                FindingKind::Header,
                Verdict::NonStrict,
                format!("missing `{header}` header"),
            ));
        }
    }
}

/// Why a response means the route does not exist, when the scenario expected it to.
fn unimplemented(expected: &ExpectedStatus, status: u16, body: Option<&Value>) -> Option<String> {
    if expected.accepts(status) {
        return None;
    }
    match status {
        405 => Some("the route answered 405 Method Not Allowed".into()),
        501 => Some("the route answered 501 Not Implemented".into()),
        404 => {
            let message = body?.pointer("/error/message")?.as_str()?;
            message
                .starts_with("Invalid URL")
                .then(|| format!("the route answered 404 `{message}`"))
        }
        _ => None,
    }
}

/// The Content-Type header's media type (before any `;`), lower-cased; empty when absent.
pub fn media_type(received: &Received) -> String {
    received
        .headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Whether the step addresses OpenAI's file service (`/files*`, `/uploads*`), whose JSON bodies
/// end with one `\n` (every recorded `/v1/files` and `/v1/uploads` answer, errors included).
pub fn is_file_service_step(step: &Step, catalog: &dyn Catalog) -> bool {
    if let Some(operation) = step
        .operation
        .as_deref()
        .and_then(|id| catalog.operation(id))
    {
        return matches!(operation.family, Family::Files | Family::Uploads);
    }
    let first = step
        .url
        .as_deref()
        .unwrap_or("")
        .trim_start_matches('/')
        .split(['/', '?'])
        .next()
        .unwrap_or("");
    matches!(first, "files" | "uploads")
}

/// FAIL when the body's bytes are not exactly `expected` (a downloaded file).
fn compare_raw_body(
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
            crate::report::excerpt(&String::from_utf8_lossy(&received.body), 200)
        );
        findings.push(Finding {
            kind: FindingKind::Body,
            verdict: Verdict::Fail,
            pointer: None,
            expected: Some(Value::String(String::from_utf8_lossy(&wanted).into_owned())),
            actual: Some(Value::String(
                String::from_utf8_lossy(&received.body).into_owned(),
            )),
            message,
        });
    }
}

fn check_content_type(received: &Received, media: &str, findings: &mut Vec<Finding>) {
    let content_type = received
        .headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case(media) {
        let message = format!("expected Content-Type {media}, got {content_type:?}");
        findings.push(Finding::new(
            FindingKind::ContentType,
            Verdict::Fail,
            message,
        ));
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
            unimplemented(&ExpectedStatus::One(expected), status, body.as_ref()).is_some(),
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
