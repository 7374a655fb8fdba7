//! Validating recorded exchanges against the spec: each exchange is matched to a covered
//! operation by method and path (the `/v1` base stripped); its JSON body is validated for its
//! status, and a stream is validated event by event, each against the branch its name selects.

use serde_json::Value;

use super::exchange::{Body, Exchange};
use super::report::{Failure, FileReport, NotCovered};
use crate::spec::{SchemaError, Spec, StreamError};

/// The request path relative to the API base: `https://host/v1/threads?x=1` gives `/threads`.
pub fn api_path(url: &str) -> String {
    let path = match url::Url::parse(url) {
        Ok(parsed) => parsed.path().to_string(),
        Err(_) => url.split(['?', '#']).next().unwrap_or(url).to_string(),
    };
    match path.strip_prefix("/v1") {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => rest.to_string(),
        _ => path,
    }
}

/// Checks one file's exchanges, adding to `report`.
pub(super) fn check_exchanges(spec: &Spec, exchanges: &[Exchange], report: &mut FileReport) {
    report.exchanges += exchanges.len();
    for exchange in exchanges {
        let Some(operation) = spec.find_operation(&exchange.method, &api_path(&exchange.url))
        else {
            report.not_covered.push(NotCovered {
                entry: exchange.index,
                method: exchange.method.clone(),
                url: exchange.url.clone(),
            });
            continue;
        };
        let operation = operation.id.clone();
        let mut fail = |event: Option<(usize, String)>, error: SchemaError| {
            report.failures.push(Failure {
                file: report.path.clone(),
                entry: exchange.index,
                method: exchange.method.clone(),
                url: exchange.url.clone(),
                status: exchange.status,
                operation: operation.clone(),
                event,
                instance_path: error.instance_path,
                schema_path: error.schema_path,
                message: error.message,
            })
        };
        let whole = |message: String| SchemaError {
            instance_path: String::new(),
            schema_path: String::new(),
            message,
        };
        match &exchange.body {
            Body::Json(body) => {
                for error in spec.validate_response(&operation, exchange.status, body) {
                    fail(None, error);
                }
                for error in misplaced_citations(body) {
                    fail(None, error);
                }
            }
            Body::Text(text) => {
                // Only a document that declares a string body (file content) can accept text.
                for error in spec.validate_response(
                    &operation,
                    exchange.status,
                    &Value::String(text.clone()),
                ) {
                    fail(None, error);
                }
            }
            Body::Sse(text) => {
                let (events, errors) = spec.validate_event_stream(text);
                for (index, event) in events.iter().enumerate() {
                    for error in event
                        .json
                        .as_ref()
                        .map(misplaced_citations)
                        .unwrap_or_default()
                    {
                        fail(Some((index, event.event.clone())), error);
                    }
                    *report.events.entry(event.event.clone()).or_default() += 1;
                    *report
                        .operation_events
                        .entry(operation.clone())
                        .or_default() += 1;
                }
                for violation in crate::exec::stream::delta_disagreements(&events) {
                    let error = SchemaError {
                        instance_path: String::new(),
                        schema_path: "(deltas add up to the message)".into(),
                        message: violation.message,
                    };
                    fail(Some((violation.index, violation.event)), error);
                }
                for StreamError { event, error } in errors {
                    fail(event, error);
                }
            }
            Body::Binary(_) => {
                // a download is judged like text: only where the document declares a string
                // body (file content); its bytes cannot be shown as JSON
                for error in spec.validate_response(
                    &operation,
                    exchange.status,
                    &Value::String(String::new()),
                ) {
                    fail(None, error);
                }
            }
            Body::Invalid(reason) => fail(None, whole(reason.clone())),
            Body::Empty => fail(None, whole("the response has no body".into())),
        }
        *report.responses.entry(operation).or_default() += 1;
    }
}

/// Annotations whose span does not hold their text, as schema-like errors (see
/// [`crate::annotations`]): the check must never call the real service's answers wrong.
fn misplaced_citations(body: &Value) -> Vec<SchemaError> {
    crate::annotations::misplaced_annotations(body, "")
        .into_iter()
        .map(|misplaced| SchemaError {
            instance_path: misplaced.pointer,
            schema_path: "(citation indices)".into(),
            message: misplaced.message,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_v1_base_is_stripped_and_the_query_ignored() {
        assert_eq!(
            api_path("https://api.openai.com/v1/threads/runs?include[]=x"),
            "/threads/runs"
        );
        assert_eq!(api_path("http://127.0.0.1:8080/v1"), "");
        assert_eq!(api_path("https://example.com/v10/x"), "/v10/x");
        assert_eq!(api_path("/v1/assistants"), "/assistants");
    }
}
