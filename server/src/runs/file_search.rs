//! file_search inside runs: the search is offered to the model as a function
//! ([`search_function`]), and when the model calls it the server searches the vector
//! stores of the assistant's and the thread's `tool_resources` itself (waiting, bounded,
//! for files still being ingested), records a `file_search` tool call in the step and
//! hands the results back to the model for its next turn.

use std::time::Duration;

use serde_json::{json, Value};

use super::progress::Progress;
use super::{RunEngine, RunKey};
use crate::ids::unix_now;
use crate::llm::offline::file_search::FILE_SEARCH_FUNCTION;
use crate::llm::{ChatCompletion, FunctionTool};
use crate::models::{Run, RunStep, RunUsage, StepStatus};
use crate::store::{StoreError, StoreResult};
use crate::vector_stores::{search_with, SearchOptions};

/// OpenAI's default number of results for file_search (gpt-4 family).
const DEFAULT_MAX_NUM_RESULTS: u64 = 20;
/// How often the run looks again at a store whose files are still being ingested.
const INGESTION_POLL: Duration = Duration::from_millis(100);
/// How many times it looks before searching whatever is ready (about 30 seconds).
const INGESTION_POLLS: usize = 300;

/// The run's file_search tool, if it has one.
pub fn file_search_tool(tools: &[Value]) -> Option<&Value> {
    tools.iter().find(|tool| tool["type"] == "file_search")
}

/// The function through which the model asks for a search.
pub fn search_function() -> FunctionTool {
    FunctionTool {
        name: FILE_SEARCH_FUNCTION.into(),
        description: Some(
            "Search the files the user made available; results come back with \
             【n:m†filename】 markers to cite."
                .into(),
        ),
        parameters: Some(json!({"type": "object",
            "properties": {"queries": {"type": "array", "items": {"type": "string"},
                "description": "Search queries, one question each."}},
            "required": ["queries"]})),
        strict: None,
    }
}

/// The tool's `ranking_options` as steps show them.
pub fn ranking_options(tool: &Value) -> Value {
    let given = &tool["file_search"]["ranking_options"];
    json!({"ranker": given["ranker"].as_str().unwrap_or("default_2024_08_21"),
        "score_threshold": given["score_threshold"].as_f64().unwrap_or(0.0)})
}

/// The queries of a search call's arguments; the whole text when they do not parse.
fn queries_of(arguments: &str) -> Vec<String> {
    let parsed: Value = serde_json::from_str(arguments).unwrap_or(Value::Null);
    match &parsed["queries"] {
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Value::String(query) => vec![query.clone()],
        _ => vec![arguments.to_owned()],
    }
}

/// A step as shown without `include[]=…file_search.results[*].content`: no `results`.
pub fn without_results(mut step: RunStep) -> RunStep {
    // `get_mut`, not indexing: indexing a missing key would insert `null`.
    let calls = step
        .step_details
        .get_mut("tool_calls")
        .and_then(Value::as_array_mut);
    if let Some(calls) = calls {
        for call in calls
            .iter_mut()
            .filter(|call| call["type"] == "file_search")
        {
            if let Some(search) = call.get_mut("file_search").and_then(Value::as_object_mut) {
                search.remove("results");
            }
        }
    }
    step
}

impl RunEngine {
    /// Runs one search call of the model and returns its step tool call, results included.
    pub(super) async fn run_search(
        &self,
        key: &RunKey,
        run: &Run,
        call_id: &str,
        arguments: &str,
    ) -> StoreResult<Value> {
        let tool = file_search_tool(&run.tools).cloned().unwrap_or(Value::Null);
        let ranking = ranking_options(&tool);
        let store_ids = self.run_vector_stores(key, run).await?;
        self.await_ingestion(key, &store_ids).await?;
        let options = SearchOptions {
            queries: queries_of(arguments),
            max_num_results: u32::try_from(
                tool["file_search"]["max_num_results"]
                    .as_u64()
                    .unwrap_or(DEFAULT_MAX_NUM_RESULTS),
            )
            .unwrap_or(20),
            score_threshold: ranking["score_threshold"].as_f64().unwrap_or(0.0),
            filter: None,
        };
        let access = self.access_of(&key.run_id);
        let embeddings = self
            .embeddings
            .as_deref()
            .map(|client| client.for_run(&access.credentials, &run.model));
        let results = search_with(
            self.store.as_ref(),
            embeddings.as_ref(),
            &key.tenant,
            &store_ids,
            &options,
        )
        .await?;
        let results: Vec<Value> = results
            .into_iter()
            .map(|r| {
                json!({"file_id": r.file_id, "file_name": r.filename, "score": r.score,
                    "attributes": r.attributes, "content": r.content})
            })
            .collect();
        Ok(json!({"id": call_id, "type": "file_search",
            "file_search": {"ranking_options": ranking, "results": results}}))
    }

    /// The vector stores of the assistant's and the thread's `tool_resources`.
    async fn run_vector_stores(&self, key: &RunKey, run: &Run) -> StoreResult<Vec<String>> {
        let mut resources = Vec::new();
        match self
            .store
            .get_assistant(&key.tenant, &run.assistant_id)
            .await
        {
            Ok(assistant) => resources.push(assistant.tool_resources),
            Err(StoreError::NotFound) => {}
            Err(error) => return Err(error),
        }
        match self.store.get_thread(&key.tenant, &run.thread_id).await {
            Ok(thread) => resources.push(thread.tool_resources),
            Err(StoreError::NotFound) => {}
            Err(error) => return Err(error),
        }
        let mut ids: Vec<String> = Vec::new();
        for resource in &resources {
            let listed = resource["file_search"]["vector_store_ids"].as_array();
            for id in listed.into_iter().flatten().filter_map(Value::as_str) {
                if !ids.iter().any(|known| known == id) {
                    ids.push(id.to_owned());
                }
            }
        }
        Ok(ids)
    }

    /// Waits (bounded) until no file of `store_ids` is still being ingested.
    async fn await_ingestion(&self, key: &RunKey, store_ids: &[String]) -> StoreResult<()> {
        for _ in 0..INGESTION_POLLS {
            let mut busy = false;
            for id in store_ids {
                match self
                    .store
                    .get_vector_store(&key.tenant, id, unix_now())
                    .await
                {
                    Ok(store) => busy |= store.file_counts.in_progress > 0,
                    Err(StoreError::NotFound) => {}
                    Err(error) => return Err(error),
                }
            }
            if !busy {
                return Ok(());
            }
            tokio::time::sleep(INGESTION_POLL).await;
        }
        Ok(())
    }
}

impl RunEngine {
    /// Ends a turn whose calls include searches: runs them, completes the tool_calls
    /// step with their results and asks for another turn (other calls of the same
    /// turn are dropped: the model sees only the search results).
    pub(super) async fn run_searches(
        &self,
        key: &RunKey,
        mut progress: Progress,
        completion: &ChatCompletion,
    ) -> StoreResult<bool> {
        let Some(mut step) = progress.tool_step.take() else {
            return Ok(false);
        };
        let mut calls = Vec::new();
        for index in &progress.search_calls {
            let (Some(id), Some(call)) = (
                progress.call_ids.get(*index),
                completion.tool_calls.get(*index),
            ) else {
                continue;
            };
            calls.push(
                self.run_search(key, &progress.run, id, &call.arguments)
                    .await?,
            );
        }
        step.step_details = json!({"type": "tool_calls", "tool_calls": calls});
        step.status = StepStatus::Completed;
        step.completed_at = Some(unix_now());
        step.usage = Some(RunUsage::from_turn(&completion.usage));
        self.store.update_step(&key.tenant, &step).await?;
        let shown = if self.access_of(&key.run_id).include_search_results {
            step
        } else {
            without_results(step)
        };
        self.emit(&key.run_id, "thread.run.step.completed", &shown);
        Ok(true)
    }
}
