//! Judging one response against its step: unimplemented routes, status, content type, JSON,
//! schema, the recorded body, formatting, headers, and captures. Each problem becomes a
//! [`Finding`] carrying its severity and the verdict it implies. A wrong status is one finding:
//! the body of an error is never diffed against the success body the step expected.

mod body;
mod status;

use serde_json::Value;

pub use body::{capture, compare_recorded};
pub use status::{error_text, judge_status, Route, StatusJudgement};

use crate::catalog::Catalog;
use crate::client::Received;
use crate::fixture::Step;
use crate::results::{excerpt, Finding, FindingKind};
use crate::spec::Family;
use crate::vars::Vars;
use crate::verdict::{Severity, Verdict};

/// Spaces per indent level of OpenAI's JSON bodies unless a step says otherwise.
const DEFAULT_INDENT: usize = 2;

/// The indent of OpenAI's edge (authentication) bodies, which also end with a newline.
const EDGE_INDENT: usize = 4;

/// Headers OpenAI sends on every response; their absence makes a step NON-STRICT.
const ALWAYS_SENT_HEADERS: [&str; 2] = ["openai-version", "x-request-id"];

/// What a step's answer is judged against besides the step itself.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// The operation whose response schema applies (`None`: nothing to validate against).
    pub operation_id: Option<String>,
    /// The path as sent, for telling a missing route from a missing object.
    pub route: Route,
}

/// Judges `received` for `step`, captures variables into `vars`, and returns the findings.
pub fn judge(
    step: &Step,
    target: &Target,
    received: &Received,
    vars: &mut Vars,
    catalog: &dyn Catalog,
) -> Vec<Finding> {
    let text = String::from_utf8_lossy(&received.body);
    let parsed: Option<Value> = serde_json::from_slice(&received.body).ok();
    match judge_status(
        &step.expected_status(),
        &target.route,
        received,
        parsed.as_ref(),
    ) {
        StatusJudgement::Expected => {}
        StatusJudgement::Unimplemented(finding) => return vec![finding],
        StatusJudgement::Wrong(finding) => {
            // a success where another success was expected may still carry the ids later
            // steps need; they are taken without judging the body
            if let (true, Some(body)) = ((200..300).contains(&received.status), &parsed) {
                body::capture_quietly(&step.capture, body, vars);
            }
            return vec![finding];
        }
    }
    let mut findings = Vec::new();
    if let Some(expected) = &step.expect.raw_body {
        if let Some(media) = &step.expect.content_type {
            check_content_type(received, media, &mut findings);
        }
        body::compare_raw_body(expected, received, vars, &mut findings);
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
        let message = format!("response body is not JSON: {}", excerpt(&text, 200));
        findings.push(Finding::new(FindingKind::Json, Verdict::Fail, message));
        return findings;
    };
    if let Some(operation_id) = &target.operation_id {
        findings.extend(schema_findings(
            catalog,
            operation_id,
            received.status,
            &body,
        ));
    }
    if let Some(expected) = &step.expect.body {
        let mut recorded = Vec::new();
        compare_recorded(
            expected,
            &body,
            "",
            vars,
            received.received_at,
            &mut recorded,
        );
        // a value the schema already refused (a float `created_at` is also no `$timestamp`)
        // is one problem, said most precisely by the schema
        recorded.retain(|finding| {
            finding.kind != FindingKind::Body
                || !findings.iter().any(|schema| {
                    schema.kind == FindingKind::Schema && schema.pointer == finding.pointer
                })
        });
        findings.extend(cooperative(step, recorded));
    }
    findings.extend(citation_findings(&body, ""));
    let indent = step.expect.indent.unwrap_or(DEFAULT_INDENT);
    let newline = step
        .expect
        .trailing_newline
        .unwrap_or_else(|| indent == EDGE_INDENT || is_file_service_step(step, catalog));
    let wanted = format!(
        "{}{}",
        body::pretty(&body, indent),
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

/// For a step whose expectation only a cooperative model meets (`expect.cooperative_model`),
/// its body and event mismatches become [`Severity::Model`] findings, reported apart and never
/// the implementation's failure; other steps' findings pass through.
pub fn cooperative(step: &Step, findings: Vec<Finding>) -> Vec<Finding> {
    let Some(reason) = &step.expect.cooperative_model else {
        return findings;
    };
    findings
        .into_iter()
        .map(|finding| {
            if matches!(finding.kind, FindingKind::Body | FindingKind::Stream)
                && finding.severity.is_some()
            {
                let message = format!("{} (needs a cooperative model: {reason})", finding.message);
                Finding {
                    message,
                    ..finding.severity(Severity::Model)
                }
            } else {
                finding
            }
        })
        .collect()
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
            let finding = Finding::new(kind, verdict, message).at(pointer);
            // a value outside an enum is what a newer or older service sends too; clients
            // (whose SDKs do not check enums) keep working
            if error.schema_path.ends_with("/enum") {
                finding.severity(Severity::Deviation)
            } else {
                finding
            }
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

/// The verdict implied by a list of findings.
pub fn verdict_of(findings: &[Finding]) -> Verdict {
    Verdict::worst(findings.iter().map(|finding| finding.verdict))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Operation, SchemaError};
    use serde_json::json;

    /// Refuses every `created_at` that is not an integer, as the real document does.
    struct IntegerTimes;

    impl Catalog for IntegerTimes {
        fn operations(&self) -> Vec<Operation> {
            Vec::new()
        }
        fn operation(&self, _: &str) -> Option<Operation> {
            None
        }
        fn find_operation(&self, _: &str, _: &str) -> Option<Operation> {
            None
        }
        fn validate_response(&self, _: &str, _: u16, body: &Value) -> Vec<SchemaError> {
            match body.get("created_at") {
                Some(value) if !value.is_i64() => vec![SchemaError {
                    instance_path: "/created_at".into(),
                    schema_path: "/properties/created_at/type".into(),
                    message: format!("{value} is not of type \"integer\""),
                }],
                _ => Vec::new(),
            }
        }
        fn validate_stream_event(&self, _: &str, _: &Value) -> Vec<SchemaError> {
            Vec::new()
        }
    }

    #[test]
    fn a_value_the_schema_refuses_is_not_also_a_body_mismatch() {
        let step: Step = serde_yaml::from_str(
            "{name: get, operation: getThing, expect: {status: 200, body: {created_at: $timestamp, id: x}}}",
        )
        .unwrap();
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("content-type", "application/json".parse().unwrap());
        let received = Received {
            status: 200,
            headers,
            body: serde_json::to_vec(&json!({"created_at": 1.5, "id": "y"})).unwrap(),
            received_at: 0,
        };
        let target = Target {
            operation_id: Some("getThing".into()),
            route: Route::default(),
        };
        let mut vars = Vars::for_scenario("m");
        let findings = judge(&step, &target, &received, &mut vars, &IntegerTimes);
        let serious: Vec<(FindingKind, Option<&str>)> = findings
            .iter()
            .filter(|f| f.severity == Some(Severity::Breaking))
            .map(|f| (f.kind, f.pointer.as_deref()))
            .collect();
        assert_eq!(
            serious,
            [
                (FindingKind::Schema, Some("/created_at")),
                (FindingKind::Body, Some("/id"))
            ]
        );
    }
}
