//! Checks that hold on every answer whatever the fixture expects: properties no single recorded
//! body can pin down because they relate several values or several answers of one scenario
//! (unique tool-call ids that agree between a run, its step and its stream; usage arithmetic;
//! pages no longer than asked; search scores in order; one tenant never seeing another's
//! objects). [`Observed`] lives for one scenario run and reviews each step after it was judged,
//! adding FAIL findings of kind `body` whose message names the invariant.

mod isolation;
mod pages;
mod tool_calls;
mod usage;

use serde_json::Value;

use crate::check::verdict_of;
use crate::fixture::tenants::{tenant_of, Tenant};
use crate::fixture::Step;
use crate::results::{Finding, FindingKind, RequestRecord, StepResult};
use crate::verdict::Verdict;

/// What one scenario run has shown so far, for the checks that span answers.
#[derive(Debug, Default)]
pub struct Observed {
    /// Tool-call ids by run and by step.
    tool_calls: tool_calls::ToolCalls,
    /// Which tenant's answers showed each object id.
    owners: isolation::Owners,
}

/// One JSON value of an answer: the body, or one event's data, with the pointer locating it.
pub(crate) struct Answer {
    /// Where the value is in the step's answer (`""` for the body, `/events/N/data`).
    pub at: String,
    /// The value.
    pub value: Value,
}

impl Observed {
    /// Applies every invariant to the answer of `step` and adds what is violated to `result`'s
    /// findings (and verdict). Error answers and bodies cut short are not judged.
    pub fn review(&mut self, step: &Step, result: &mut StepResult) {
        let Some(response) = &result.response else {
            return;
        };
        if response.body_truncated || !(200..300).contains(&response.status) {
            return;
        }
        let is_stream = response
            .content_type
            .as_deref()
            .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("text/event-stream"));
        let events = if is_stream {
            let mut parser = crate::sse::SseParser::new();
            parser.feed(&response.body)
        } else {
            Vec::new()
        };
        let answers: Vec<Answer> = if is_stream {
            events
                .iter()
                .enumerate()
                .filter_map(|(index, event)| {
                    Some(Answer {
                        at: format!("/events/{index}/data"),
                        value: event.json.clone()?,
                    })
                })
                .collect()
        } else {
            match serde_json::from_str(&response.body) {
                Ok(value) => vec![Answer {
                    at: String::new(),
                    value,
                }],
                Err(_) => Vec::new(),
            }
        };
        let findings = self.findings(tenant_of(step), result.request.as_ref(), &answers);
        if !findings.is_empty() {
            result.verdict = Verdict::worst([result.verdict, verdict_of(&findings)]);
            result.findings.extend(findings);
        }
    }

    fn findings(
        &mut self,
        tenant: Tenant,
        request: Option<&RequestRecord>,
        answers: &[Answer],
    ) -> Vec<Finding> {
        let mut found = Vec::new();
        for answer in answers {
            for (at, object) in objects(&answer.value, &answer.at) {
                usage::check(object, &at, &mut found);
                self.tool_calls.observe(object, &at, &mut found);
            }
            if let Some(request) = request {
                pages::check(&answer.value, &answer.at, request, &mut found);
            }
            self.owners
                .observe(tenant, &answer.value, &answer.at, &mut found);
        }
        found
            .into_iter()
            .map(|(pointer, message)| {
                Finding::new(FindingKind::Body, Verdict::Fail, message).at(if pointer.is_empty() {
                    "/".to_owned()
                } else {
                    pointer
                })
            })
            .collect()
    }
}

/// The API objects of a value: itself when it has an `object` kind, and the items of a list's
/// `data`, each with its pointer.
pub(crate) fn objects<'a>(value: &'a Value, at: &str) -> Vec<(String, &'a Value)> {
    let mut found = Vec::new();
    if value.get("object").and_then(Value::as_str).is_some() {
        found.push((at.to_owned(), value));
    }
    if let Some(items) = value.get("data").and_then(Value::as_array) {
        for (index, item) in items.iter().enumerate() {
            if item.get("object").and_then(Value::as_str).is_some() {
                found.push((format!("{at}/data/{index}"), item));
            }
        }
    }
    found
}

/// The `object` kind of an API object (`thread.run`, ...).
pub(crate) fn kind(object: &Value) -> &str {
    object.get("object").and_then(Value::as_str).unwrap_or("")
}

/// A string field of an object, empty when missing.
pub(crate) fn text<'a>(object: &'a Value, key: &str) -> &'a str {
    object.get(key).and_then(Value::as_str).unwrap_or("")
}

#[cfg(test)]
mod tests;
