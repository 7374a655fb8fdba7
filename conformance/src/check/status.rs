//! The status check, and telling a route the implementation lacks from an object it could not
//! find. The evidence is the answer, not OpenAI's wording: 405 or 501 anywhere; a 404 on a path
//! that names no object (creates, lists); a 404 whose body is not about a missing object (a web
//! framework's `{"detail": "Not Found"}`, Express's `Cannot GET /x`, OpenAI's `Invalid URL`).

use serde_json::Value;

use crate::client::Received;
use crate::fixture::ExpectedStatus;
use crate::results::{excerpt, Finding, FindingKind};
use crate::verdict::Verdict;

/// Characters of an error body quoted in a wrong-status finding.
const QUOTED_ERROR_CHARS: usize = 300;

/// What the request addressed, as far as a 404 needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Route {
    /// Whether the path names an object by id (`/assistants/{assistant_id}`): only there may a
    /// 404 mean "no such object" rather than "no such route".
    pub names_object: bool,
    /// The ids in the path, so that a 404 quoting one is known to be about that object.
    pub ids: Vec<String>,
}

impl Route {
    /// The route of a path (relative to the base URL, without query) sent for an operation
    /// whose template is `template`: the segments in `{...}` positions are its ids.
    pub fn of_template(template: &str, path: &str) -> Route {
        let wanted: Vec<&str> = template.trim_matches('/').split('/').collect();
        let given: Vec<&str> = path.trim_matches('/').split('/').collect();
        let ids: Vec<String> = wanted
            .iter()
            .zip(&given)
            .filter(|(want, _)| want.starts_with('{'))
            .map(|(_, got)| decode(got))
            .collect();
        Route {
            names_object: !ids.is_empty(),
            ids,
        }
    }

    /// The route of a raw `url` step that matches no operation: it names an object when the
    /// fixture spliced a variable (an id) into it.
    pub fn of_raw_url(url_in_fixture: &str) -> Route {
        Route {
            names_object: url_in_fixture.contains("${"),
            ids: Vec::new(),
        }
    }
}

fn decode(segment: &str) -> String {
    url::form_urlencoded::parse(format!("x={segment}").as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_else(|| segment.to_owned())
}

/// The outcome of the status check.
#[derive(Debug, Clone, PartialEq)]
pub enum StatusJudgement {
    /// An expected status: judge the body.
    Expected,
    /// A wrong status: this one finding says it all; the body is not diffed.
    Wrong(Finding),
    /// The implementation lacks the route: the step is UNIMPLEMENTED.
    Unimplemented(Finding),
}

/// Judges the status of `received` (`body` is its JSON, when it is JSON).
pub fn judge_status(
    expected: &ExpectedStatus,
    route: &Route,
    received: &Received,
    body: Option<&Value>,
) -> StatusJudgement {
    if expected.accepts(received.status) {
        return StatusJudgement::Expected;
    }
    let said = error_text(body, &received.body);
    if let Some(reason) = unimplemented(received.status, route, &said) {
        let finding = Finding::new(FindingKind::Unimplemented, Verdict::Unimplemented, reason);
        return StatusJudgement::Unimplemented(finding);
    }
    let message = format!(
        "expected status {}, got {}: {}",
        expected.describe(),
        received.status,
        excerpt(&said, QUOTED_ERROR_CHARS)
    );
    StatusJudgement::Wrong(Finding::new(FindingKind::Status, Verdict::Fail, message))
}

/// What an error body says: OpenAI's `error.message`, a framework's `detail` or `message`, or
/// the body itself.
pub fn error_text(body: Option<&Value>, raw: &[u8]) -> String {
    let said = body.and_then(|body| {
        ["/error/message", "/detail", "/message", "/error"]
            .iter()
            .find_map(|pointer| body.pointer(pointer))
    });
    match said {
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
        None if raw.is_empty() => "(empty body)".into(),
        None => String::from_utf8_lossy(raw).trim().to_owned(),
    }
}

/// Why the answer shows the route is missing, or `None` when it may be an ordinary wrong answer.
fn unimplemented(status: u16, route: &Route, said: &str) -> Option<String> {
    match status {
        405 => Some(format!("the route answered 405 Method Not Allowed: {said}")),
        501 => Some(format!("the route answered 501 Not Implemented: {said}")),
        404 if !route.names_object => Some(format!(
            "the route answered 404 although its path names no object: {said}"
        )),
        404 if !about_missing_object(route, said) => Some(format!(
            "the route answered 404 with a body not about a missing object: {said}"
        )),
        _ => None,
    }
}

/// Whether a 404's text is about an object that was not found (it quotes an id of the path, or
/// says no such thing exists) rather than a generic "no such route".
fn about_missing_object(route: &Route, said: &str) -> bool {
    if route
        .ids
        .iter()
        .any(|id| !id.is_empty() && said.contains(id))
    {
        return true;
    }
    let lower = said.trim().trim_end_matches('.').to_lowercase();
    let generic = lower.is_empty()
        || lower == "not found"
        || lower == "(empty body)"
        || lower.starts_with("invalid url")
        || lower.starts_with("cannot ")
        || lower.starts_with("404 ")
        || lower.contains("<html");
    if generic {
        return false;
    }
    ["found", "exist", "no such", "unknown", "deleted"]
        .iter()
        .any(|word| lower.contains(word))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use serde_json::json;

    fn answer(status: u16, body: &Value) -> Received {
        Received {
            status,
            headers: reqwest::header::HeaderMap::new(),
            body: serde_json::to_vec(body).unwrap(),
            received_at: 0,
        }
    }

    fn by_id() -> Route {
        Route::of_template("/threads/{thread_id}", "/threads/thread_abc")
    }

    fn create() -> Route {
        Route::of_template("/vector_stores", "/vector_stores")
    }

    #[rstest]
    #[case(200, 404, create(), json!({"detail": "Not Found"}), "unimplemented")]
    #[case(200, 404, create(), json!({"error": {"message": "No vector store."}}), "unimplemented")]
    #[case(200, 405, by_id(), json!({"detail": "Method Not Allowed"}), "unimplemented")]
    #[case(200, 501, by_id(), json!({}), "unimplemented")]
    #[case(400, 405, create(), json!({}), "unimplemented")]
    #[case(200, 404, by_id(), json!({"detail": "Not Found"}), "unimplemented")]
    #[case(200, 404, by_id(), json!({"error": {"message": "Invalid URL (GET /v1/threads/x)"}}), "unimplemented")]
    #[case(200, 404, by_id(), json!({"error": {"message": "No thread found with id 'thread_abc'."}}), "wrong")]
    #[case(200, 404, by_id(), json!({"detail": "Thread not found"}), "wrong")]
    #[case(200, 500, create(), json!({"detail": "boom"}), "wrong")]
    #[case(404, 404, create(), json!({"detail": "Not Found"}), "expected")]
    #[case(405, 405, by_id(), json!({}), "expected")]
    fn unimplemented_routes_are_told_apart_from_wrong_answers(
        #[case] expected: u16,
        #[case] status: u16,
        #[case] route: Route,
        #[case] body: Value,
        #[case] outcome: &str,
    ) {
        let judged = judge_status(
            &ExpectedStatus::One(expected),
            &route,
            &answer(status, &body),
            Some(&body),
        );
        let got = match judged {
            StatusJudgement::Expected => "expected",
            StatusJudgement::Wrong(_) => "wrong",
            StatusJudgement::Unimplemented(_) => "unimplemented",
        };
        assert_eq!(got, outcome);
    }

    #[test]
    fn a_wrong_status_is_one_finding_quoting_the_error() {
        let body = json!({"error": {"message": "Missing required parameter: 'model'."}});
        let StatusJudgement::Wrong(finding) = judge_status(
            &ExpectedStatus::One(200),
            &create(),
            &answer(400, &body),
            Some(&body),
        ) else {
            panic!("a 400 for a 200 is a wrong status");
        };
        assert_eq!(
            finding.message,
            "expected status 200, got 400: Missing required parameter: 'model'."
        );
        assert_eq!(finding.verdict, Verdict::Fail);
    }

    #[test]
    fn ids_come_from_the_template_positions() {
        let route = Route::of_template(
            "/threads/{thread_id}/runs/{run_id}",
            "/threads/thread_1/runs/run%202",
        );
        assert_eq!(route.ids, vec!["thread_1".to_owned(), "run 2".to_owned()]);
        assert!(route.names_object);
        assert!(!create().names_object);
    }
}
