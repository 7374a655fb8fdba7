//! Pages and search results: a list page holds no more than the `limit` asked for (20 when none
//! was given, shared/docs/openai-behaviour.md §3.2 and the API reference), no object twice, and
//! `first_id`/`last_id` name its first and last object; a vector store search returns at most
//! `max_num_results` results (default 10) and, like every file_search call's results, best first.

use std::collections::BTreeSet;

use serde_json::Value;

use super::kind;
use crate::results::RequestRecord;

/// The page size of the Assistants lists when the request names none.
const DEFAULT_LIMIT: u64 = 20;
/// Results a vector store search returns when the request names no `max_num_results`.
const DEFAULT_MAX_RESULTS: u64 = 10;

type Found = Vec<(String, String)>;

/// Adds a `(pointer, message)` for each page or ranking problem of `value`.
pub(crate) fn check(value: &Value, at: &str, request: &RequestRecord, found: &mut Found) {
    match kind(value) {
        "list" => check_list(value, at, request, found),
        "vector_store.search_results.page" => check_search(value, at, request, found),
        "thread.run.step" => check_step_results(value, at, found),
        _ => {}
    }
    if let Some(items) = value.get("data").and_then(Value::as_array) {
        for (index, item) in items.iter().enumerate() {
            if kind(item) == "thread.run.step" {
                check_step_results(item, &format!("{at}/data/{index}"), found);
            }
        }
    }
}

fn query_number(request: &RequestRecord, name: &str) -> Option<u64> {
    let url = url::Url::parse(&request.url).ok()?;
    let value = url
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())?;
    value.parse().ok()
}

fn check_list(list: &Value, at: &str, request: &RequestRecord, found: &mut Found) {
    let Some(items) = list.get("data").and_then(Value::as_array) else {
        return;
    };
    // `GET /files` pages up to 10,000 by default; every other list pages by 20
    let is_files = url::Url::parse(&request.url)
        .map(|url| url.path().ends_with("/files") && !url.path().contains("/vector_stores/"))
        .unwrap_or(false);
    let limit = query_number(request, "limit").or((!is_files).then_some(DEFAULT_LIMIT));
    if let Some(limit) = limit.filter(|limit| items.len() as u64 > *limit) {
        found.push((
            format!("{at}/data"),
            format!(
                "list: the page holds {} objects, more than the limit of {limit}",
                items.len()
            ),
        ));
    }
    let ids: Vec<&str> = items
        .iter()
        .filter_map(|item| item.get("id").and_then(Value::as_str))
        .collect();
    let mut seen = BTreeSet::new();
    if let Some(twice) = ids.iter().find(|id| !seen.insert(**id)) {
        found.push((
            format!("{at}/data"),
            format!("list: {twice} is on the page twice"),
        ));
    }
    let ends = [("first_id", ids.first()), ("last_id", ids.last())];
    for (key, expected) in ends {
        let Some(actual) = list.get(key) else {
            continue;
        };
        let expected = expected.map_or(Value::Null, |id| Value::String((*id).to_owned()));
        if ids.len() == items.len() && *actual != expected {
            found.push((
                format!("{at}/{key}"),
                format!("list: {key} is {actual}, but the page's objects give {expected}"),
            ));
        }
    }
}

fn check_search(page: &Value, at: &str, request: &RequestRecord, found: &mut Found) {
    let Some(items) = page.get("data").and_then(Value::as_array) else {
        return;
    };
    let asked = request
        .body
        .as_deref()
        .and_then(|body| serde_json::from_str::<Value>(body).ok())
        .and_then(|body| body.get("max_num_results").and_then(Value::as_u64))
        .unwrap_or(DEFAULT_MAX_RESULTS);
    if items.len() as u64 > asked {
        found.push((
            format!("{at}/data"),
            format!(
                "search: {} results, more than max_num_results {asked}",
                items.len()
            ),
        ));
    }
    check_order(items, &format!("{at}/data"), found);
}

fn check_step_results(step: &Value, at: &str, found: &mut Found) {
    let Some(calls) = step
        .pointer("/step_details/tool_calls")
        .and_then(Value::as_array)
    else {
        return;
    };
    for (index, call) in calls.iter().enumerate() {
        if let Some(results) = call
            .pointer("/file_search/results")
            .and_then(Value::as_array)
        {
            let at = format!("{at}/step_details/tool_calls/{index}/file_search/results");
            check_order(results, &at, found);
        }
    }
}

/// Scores never increase down a list of results.
fn check_order(results: &[Value], at: &str, found: &mut Found) {
    let scores: Vec<Option<f64>> = results
        .iter()
        .map(|result| result.get("score").and_then(Value::as_f64))
        .collect();
    for (index, pair) in scores.windows(2).enumerate() {
        if let [Some(higher), Some(lower)] = pair {
            if lower > higher {
                found.push((
                    format!("{at}/{}/score", index + 1),
                    format!(
                        "search: result {} scores {lower}, above the {higher} of the result before it; results come best first",
                        index + 1
                    ),
                ));
                return;
            }
        }
    }
}
