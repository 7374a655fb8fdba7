//! What the runner needs from the OpenAPI document, as a trait: the real [`Spec`] implements it,
//! and tests use a small in-memory catalogue so the runner can be tested without the document.

use serde_json::Value;

use crate::spec::{Family, Operation, SchemaError, Spec};

/// The operations and response validation the runner relies on.
pub trait Catalog: Sync {
    /// Every covered operation, in document order.
    fn operations(&self) -> Vec<Operation>;
    /// One operation by operationId.
    fn operation(&self, operation_id: &str) -> Option<Operation>;
    /// The covered operation a concrete method and path (relative to the base URL) addresses.
    fn find_operation(&self, method: &str, path: &str) -> Option<Operation>;
    /// Schema errors of a response body (`ErrorResponse` for 4xx/5xx); empty when valid.
    fn validate_response(&self, operation_id: &str, status: u16, body: &Value) -> Vec<SchemaError>;
    /// Schema errors of one stream event's data, against the branch its name selects (`done`'s
    /// data is the string `[DONE]`); an unknown name is an error.
    fn validate_stream_event(&self, event: &str, data: &Value) -> Vec<SchemaError>;
}

impl Catalog for Spec {
    fn operations(&self) -> Vec<Operation> {
        Spec::operations(self).to_vec()
    }

    fn operation(&self, operation_id: &str) -> Option<Operation> {
        Spec::operation(self, operation_id).cloned()
    }

    fn find_operation(&self, method: &str, path: &str) -> Option<Operation> {
        Spec::find_operation(self, method, path).cloned()
    }

    fn validate_response(&self, operation_id: &str, status: u16, body: &Value) -> Vec<SchemaError> {
        Spec::validate_response(self, operation_id, status, body)
    }

    fn validate_stream_event(&self, event: &str, data: &Value) -> Vec<SchemaError> {
        Spec::validate_stream_event(self, event, data)
    }
}

/// The heading a family is reported under in `coverage.md`.
pub fn family_label(family: Family) -> &'static str {
    match family {
        Family::Assistants => "Assistants",
        Family::Threads => "Threads",
        Family::Messages => "Messages",
        Family::Runs => "Runs",
        Family::RunSteps => "Run steps",
        Family::Files => "Files",
        Family::Uploads => "Uploads",
        Family::VectorStores => "Vector stores",
    }
}

/// Whether requests to this family carry `OpenAI-Beta: assistants=v2` by default.
pub fn family_needs_beta_header(family: Family) -> bool {
    matches!(
        family,
        Family::Assistants | Family::Threads | Family::Messages | Family::Runs | Family::RunSteps
    )
}

/// Whether a raw path (a step with `url:`) belongs to the beta families, judged by its first segment.
pub fn path_needs_beta_header(path: &str) -> bool {
    let first = path
        .trim_start_matches('/')
        .split(['/', '?'])
        .next()
        .unwrap_or("");
    matches!(first, "assistants" | "threads")
}

/// A catalogue built in memory: for tests of the runner and for embedding the harness without the
/// OpenAPI document. Its validation is deliberately small: error statuses need OpenAI's error
/// envelope, other statuses need each operation's listed top-level keys; stream events need a
/// known name and, as data, an object with `id` and `object` (`done`: the string `[DONE]`).
#[derive(Debug, Clone, Default)]
pub struct InMemoryCatalog {
    /// The operations, in report order.
    pub operations: Vec<Operation>,
    /// Top-level keys a successful response of an operation must have, by operationId.
    pub required_keys: std::collections::BTreeMap<String, Vec<String>>,
}

impl InMemoryCatalog {
    /// Adds an operation whose successful responses must carry `required` keys.
    pub fn with(
        mut self,
        id: &str,
        method: &str,
        path: &str,
        family: Family,
        required: &[&str],
    ) -> Self {
        self.operations.push(Operation {
            id: id.into(),
            method: method.into(),
            path: path.into(),
            family,
        });
        self.required_keys.insert(
            id.into(),
            required.iter().map(|key| key.to_string()).collect(),
        );
        self
    }
}

impl Catalog for InMemoryCatalog {
    fn operations(&self) -> Vec<Operation> {
        self.operations.clone()
    }

    fn operation(&self, operation_id: &str) -> Option<Operation> {
        self.operations
            .iter()
            .find(|op| op.id == operation_id)
            .cloned()
    }

    fn find_operation(&self, method: &str, path: &str) -> Option<Operation> {
        self.operations
            .iter()
            .find(|op| op.method == method && template_matches(&op.path, path))
            .cloned()
    }

    fn validate_response(&self, operation_id: &str, status: u16, body: &Value) -> Vec<SchemaError> {
        let required: Vec<String> = if status >= 400 {
            vec!["error".into()]
        } else {
            self.required_keys
                .get(operation_id)
                .cloned()
                .unwrap_or_default()
        };
        required
            .iter()
            .filter(|key| body.get(key.as_str()).is_none())
            .map(|key| SchemaError {
                instance_path: String::new(),
                schema_path: "/required".into(),
                message: format!("\"{key}\" is a required property"),
            })
            .collect()
    }

    fn validate_stream_event(&self, event: &str, data: &Value) -> Vec<SchemaError> {
        let whole = |message: String| SchemaError {
            instance_path: String::new(),
            schema_path: String::new(),
            message,
        };
        if !crate::spec::KNOWN_EVENTS.contains(&event) {
            return vec![whole(format!(
                "{event} is not an event of AssistantStreamEvent"
            ))];
        }
        match (event, data) {
            ("done", Value::String(text)) if text == "[DONE]" => Vec::new(),
            ("done", other) => vec![whole(format!("{other} is not \"[DONE]\""))],
            ("error", Value::Object(map)) if map.contains_key("message") => Vec::new(),
            (_, Value::Object(map)) => ["id", "object"]
                .iter()
                .filter(|key| !map.contains_key(**key))
                .map(|key| whole(format!("\"{key}\" is a required property")))
                .collect(),
            (_, other) => vec![whole(format!("{other} is not of type \"object\""))],
        }
    }
}

/// Whether a concrete path fits a template like `/threads/{thread_id}/messages`.
pub fn template_matches(template: &str, path: &str) -> bool {
    let wanted: Vec<&str> = template.trim_matches('/').split('/').collect();
    let given: Vec<&str> = path.trim_matches('/').split('/').collect();
    wanted.len() == given.len()
        && wanted
            .iter()
            .zip(&given)
            .all(|(want, got)| (want.starts_with('{') && !got.is_empty()) || want == got)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("/threads/{thread_id}/messages", "/threads/thread_1/messages", true)]
    #[case("/threads/{thread_id}/messages", "/threads//messages", false)]
    #[case("/threads/{thread_id}", "/threads/thread_1/messages", false)]
    #[case("/assistants", "/assistants/", true)]
    #[case("/assistants", "/threads", false)]
    fn templates_match_concrete_paths(
        #[case] template: &str,
        #[case] path: &str,
        #[case] matches: bool,
    ) {
        assert_eq!(template_matches(template, path), matches);
    }

    #[rstest]
    #[case("/threads/thread_1/runs", true)]
    #[case("/assistants?limit=1", true)]
    #[case("/files", false)]
    #[case("/vector_stores/vs_1", false)]
    #[case("/does-not-exist", false)]
    fn raw_paths_get_the_beta_header_by_family(#[case] path: &str, #[case] beta: bool) {
        assert_eq!(path_needs_beta_header(path), beta);
    }
}
