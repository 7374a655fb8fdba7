//! The offline model's file_search rule: with the server's search function on offer it
//! searches with the latest user message (when `tool_choice` forces the search or the
//! message ends with `?`), and once the results come back it answers by quoting the
//! best one with its `【n:m†filename】` source marker, which the run turns into a
//! `file_citation` annotation.

use serde_json::json;

use super::rules::{latest_user_text, OfflineRule, Plan, PlannedCall};
use crate::llm::request::{ChatRequest, Role, ToolChoice};
use crate::llm::LlmError;

/// The name of the function through which a model asks the server to search files.
pub const FILE_SEARCH_FUNCTION: &str = "file_search";

/// Longest quote taken from a result, in characters (chunks run to 800 tokens).
const MAX_QUOTE_CHARS: usize = 300;

/// Searches, then cites; consulted before every other rule, since a forced
/// `tool_choice` must not call the search again once its results are in.
#[derive(Debug, Default)]
pub struct SearchFilesThenCite;

impl OfflineRule for SearchFilesThenCite {
    fn plan(&self, request: &ChatRequest) -> Result<Option<Plan>, LlmError> {
        if !request.tools.iter().any(|t| t.name == FILE_SEARCH_FUNCTION) {
            return Ok(None);
        }
        if let Some(results) = trailing_search_output(request) {
            return Ok(Some(Plan::Reply(cite_best(results))));
        }
        if searched_since_user_spoke(request) {
            return Ok(None);
        }
        let Some(question) = latest_user_text(request) else {
            return Ok(None);
        };
        let forced = request.tool_choice == ToolChoice::Function(FILE_SEARCH_FUNCTION.into());
        if !forced && !question.trim_end().ends_with('?') {
            return Ok(None);
        }
        Ok(Some(Plan::Call(vec![PlannedCall {
            name: FILE_SEARCH_FUNCTION.into(),
            arguments: json!({"queries": [question]}).into(),
        }])))
    }
}

/// The output of the search call the conversation ends with, if it ends with one.
fn trailing_search_output(request: &ChatRequest) -> Option<String> {
    let last = request.messages.last()?;
    let call_id = last.tool_call_id.as_deref()?;
    let is_search = request
        .messages
        .iter()
        .flat_map(|message| &message.tool_calls)
        .any(|call| call.id == call_id && call.name == FILE_SEARCH_FUNCTION);
    is_search.then(|| last.text())
}

/// Whether a search was called after the latest user message.
fn searched_since_user_spoke(request: &ChatRequest) -> bool {
    request
        .messages
        .iter()
        .rev()
        .take_while(|message| message.role != Role::User)
        .flat_map(|message| &message.tool_calls)
        .any(|call| call.name == FILE_SEARCH_FUNCTION)
}

/// The answer quoting the first (best) result of a search output formatted with
/// source markers, each on its own line before its text.
fn cite_best(output: String) -> String {
    let mut lines = output.lines();
    let Some(marker) = lines.find(|line| line.starts_with('【') && line.ends_with('】')) else {
        return "I found nothing about that in the files.".to_owned();
    };
    let body: Vec<&str> = lines
        .take_while(|line| !(line.starts_with('【') && line.ends_with('】')))
        .flat_map(|line| line.split_whitespace())
        .collect();
    let mut quote: String = body.join(" ");
    if quote.chars().count() > MAX_QUOTE_CHARS {
        quote = quote.chars().take(MAX_QUOTE_CHARS).collect::<String>() + "…";
    }
    let name = marker
        .trim_end_matches('】')
        .split_once('†')
        .map_or("", |(_, name)| name);
    format!("According to {name}: \"{quote}\"{marker}.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_best_result_is_quoted_with_its_marker() {
        let output = "【0:0†foods.txt】\nFilip: cake\nEffie: pizza\n\n【0:1†b.txt】\nother";
        assert_eq!(
            cite_best(output.to_owned()),
            "According to foods.txt: \"Filip: cake Effie: pizza\"【0:0†foods.txt】."
        );
    }

    #[test]
    fn no_results_give_no_citation() {
        assert!(!cite_best("No results found.".to_owned()).contains('【'));
    }
}
