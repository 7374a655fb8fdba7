//! Which operations of the document the harness covers (everything under `/assistants`,
//! `/threads`, `/files`, `/uploads` and `/vector_stores`, deprecated or not), which family each
//! belongs to, and how a concrete request path is matched to an operation's template.

use serde_json::Value;

use super::{Family, Operation, SpecError};

/// Path prefixes of the covered resources.
const COVERED_PREFIXES: &[&str] = &[
    "/assistants",
    "/threads",
    "/files",
    "/uploads",
    "/vector_stores",
];

/// HTTP methods an OpenAPI path item may hold operations under.
const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The family an operation path belongs to; `None` for paths outside the covered resources.
pub(super) fn family_of(path: &str) -> Option<Family> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let family = match segments.as_slice() {
        ["assistants", ..] => Family::Assistants,
        ["threads", "runs", ..] => Family::Runs,
        ["threads"] | ["threads", _] => Family::Threads,
        ["threads", _, "messages", ..] => Family::Messages,
        ["threads", _, "runs", _, "steps", ..] => Family::RunSteps,
        ["threads", _, "runs", ..] => Family::Runs,
        ["files", ..] => Family::Files,
        ["uploads", ..] => Family::Uploads,
        ["vector_stores", ..] => Family::VectorStores,
        _ => return None,
    };
    Some(family)
}

fn is_covered(path: &str) -> bool {
    COVERED_PREFIXES
        .iter()
        .any(|prefix| path == *prefix || path.starts_with(&format!("{prefix}/")))
}

/// The covered operations in document order.
pub(super) fn covered_operations(document: &Value) -> Result<Vec<Operation>, SpecError> {
    let paths = document
        .get("paths")
        .and_then(Value::as_object)
        .ok_or_else(|| SpecError::Parse("the document has no `paths` object".into()))?;
    let mut operations = Vec::new();
    for (path, item) in paths.iter().filter(|(path, _)| is_covered(path)) {
        let Some(family) = family_of(path) else {
            continue;
        };
        for method in METHODS {
            let Some(operation) = item.get(*method) else {
                continue;
            };
            let id = operation
                .get("operationId")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    SpecError::Parse(format!(
                        "{} {path} has no operationId",
                        method.to_uppercase()
                    ))
                })?;
            operations.push(Operation {
                id: id.to_string(),
                method: method.to_uppercase(),
                path: path.clone(),
                family,
            });
        }
    }
    Ok(operations)
}

/// How well a concrete path matches a template: `None` if it does not, otherwise the number of
/// literal segments matched, so `/threads/runs` prefers `/threads/runs` over `/threads/{thread_id}`.
pub(super) fn match_score(template: &str, path: &str) -> Option<usize> {
    let template: Vec<&str> = template.trim_matches('/').split('/').collect();
    let concrete: Vec<&str> = path
        .trim_end_matches('/')
        .trim_start_matches('/')
        .split('/')
        .collect();
    if template.len() != concrete.len() {
        return None;
    }
    let mut literals = 0;
    for (expected, actual) in template.iter().zip(&concrete) {
        if expected.starts_with('{') && expected.ends_with('}') {
            if actual.is_empty() {
                return None;
            }
        } else if expected == actual {
            literals += 1;
        } else {
            return None;
        }
    }
    Some(literals)
}

/// The best-matching covered operation for `method` and `path` (relative to the server URL).
pub(super) fn find<'a>(
    operations: &'a [Operation],
    method: &str,
    path: &str,
) -> Option<&'a Operation> {
    operations
        .iter()
        .filter(|op| op.method.eq_ignore_ascii_case(method))
        .filter_map(|op| match_score(&op.path, path).map(|score| (score, op)))
        .max_by_key(|(score, _)| *score)
        .map(|(_, op)| op)
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case("/assistants/{assistant_id}", Some(Family::Assistants))]
    #[case("/threads", Some(Family::Threads))]
    #[case("/threads/{thread_id}", Some(Family::Threads))]
    #[case("/threads/runs", Some(Family::Runs))]
    #[case("/threads/{thread_id}/messages/{message_id}", Some(Family::Messages))]
    #[case(
        "/threads/{thread_id}/runs/{run_id}/submit_tool_outputs",
        Some(Family::Runs)
    )]
    #[case(
        "/threads/{thread_id}/runs/{run_id}/steps/{step_id}",
        Some(Family::RunSteps)
    )]
    #[case(
        "/vector_stores/{vector_store_id}/file_batches",
        Some(Family::VectorStores)
    )]
    #[case("/chat/completions", None)]
    fn families_follow_the_path(#[case] path: &str, #[case] family: Option<Family>) {
        assert_eq!(family_of(path), family);
    }

    fn op(method: &str, path: &str) -> Operation {
        Operation {
            id: path.into(),
            method: method.into(),
            path: path.into(),
            family: Family::Threads,
        }
    }

    #[test]
    fn literal_segments_win_over_parameters() {
        let ops = [
            op("POST", "/threads/{thread_id}"),
            op("POST", "/threads/runs"),
        ];
        assert_eq!(
            find(&ops, "POST", "/threads/runs").unwrap().path,
            "/threads/runs"
        );
        assert_eq!(
            find(&ops, "POST", "/threads/thread_abc").unwrap().path,
            "/threads/{thread_id}"
        );
        assert!(find(&ops, "GET", "/threads/runs").is_none());
        assert!(find(&ops, "POST", "/threads/a/b").is_none());
        assert!(find(&ops, "POST", "/threads/").is_none());
    }
}
