//! Prompt assembly: what one model turn of a run is asked. Instructions first, then the
//! thread's messages (after `truncation_strategy` and `max_prompt_tokens` cut the
//! oldest), then this run's earlier tool rounds with their submitted outputs.

use serde_json::Value;

use crate::llm::tokens::count_prompt;
use crate::llm::{
    ChatMessage, ChatRequest, ContentPart, FunctionTool, ResponseFormat, Role, ToolCall, ToolChoice,
};
use crate::models::{Message, Run, RunStep, StepStatus};
use crate::store::{Order, PageRequest, Store, StoreError, Tenant};

use super::citations::format_results;
use super::file_search::{file_search_tool, search_function};
use super::RunAccess;
use crate::llm::offline::file_search::FILE_SEARCH_FUNCTION;

/// Why no request could be built.
#[derive(Debug)]
pub enum PromptStop {
    /// Even the newest message does not fit `max_prompt_tokens`.
    PromptTooLong,
    /// The run has used up `max_completion_tokens` in earlier turns.
    NoCompletionTokensLeft,
    /// The store failed.
    Store(StoreError),
}

impl From<StoreError> for PromptStop {
    fn from(error: StoreError) -> Self {
        PromptStop::Store(error)
    }
}

/// Every message of a thread, oldest first.
pub async fn thread_messages(
    store: &dyn Store,
    tenant: &Tenant,
    thread_id: &str,
) -> Result<Vec<Message>, StoreError> {
    let mut all = Vec::new();
    let mut page = PageRequest {
        limit: 100,
        order: Order::Asc,
        after: None,
        before: None,
    };
    loop {
        let batch = store.list_messages(tenant, thread_id, None, &page).await?;
        page.after = batch.items.last().map(|m| m.id.clone());
        all.extend(batch.items);
        if !batch.has_more {
            return Ok(all);
        }
    }
}

/// Builds the request for the next model turn of `run`; `steps` are its steps so far.
pub async fn build_request(
    store: &dyn Store,
    tenant: &Tenant,
    run: &Run,
    steps: &[RunStep],
    access: RunAccess,
) -> Result<ChatRequest, PromptStop> {
    let completion_budget = match run.max_completion_tokens {
        None => None,
        Some(max) => {
            let used: u64 = steps
                .iter()
                .filter_map(|s| s.usage)
                .map(|u| u.completion_tokens)
                .sum();
            let left = u64::try_from(max).unwrap_or(0).saturating_sub(used);
            if left == 0 {
                return Err(PromptStop::NoCompletionTokensLeft);
            }
            Some(u32::try_from(left).unwrap_or(u32::MAX))
        }
    };
    let mut history: Vec<ChatMessage> = thread_messages(store, tenant, &run.thread_id)
        .await?
        .iter()
        .filter(|m| !(m.run_id.as_deref() == Some(run.id.as_str()) && m.content.is_empty()))
        .map(chat_message)
        .collect();
    if let Some(last) = run.truncation_strategy["last_messages"].as_u64() {
        let keep = usize::try_from(last).unwrap_or(usize::MAX);
        if history.len() > keep {
            history.drain(..history.len() - keep);
        }
    }
    let mut request = ChatRequest {
        model: run.model.clone(),
        messages: Vec::new(),
        tools: function_tools(&run.tools),
        tool_choice: tool_choice(&run.tool_choice, searched(steps)),
        parallel_tool_calls: Some(run.parallel_tool_calls),
        response_format: response_format(&run.response_format),
        temperature: run.temperature,
        top_p: run.top_p,
        max_completion_tokens: completion_budget,
        extra: access.extra,
        credentials: access.credentials,
    };
    let instructions: Vec<ChatMessage> = run
        .instructions
        .iter()
        .filter(|text| !text.is_empty())
        .map(|text| ChatMessage::system(text.clone()))
        .collect();
    let rounds = tool_rounds(steps);
    loop {
        request.messages = instructions
            .iter()
            .chain(&history)
            .chain(&rounds)
            .cloned()
            .collect();
        let Some(max) = run.max_prompt_tokens else {
            break;
        };
        if i64::from(count_prompt(&request)) <= max {
            break;
        }
        if history.len() <= 1 {
            return Err(PromptStop::PromptTooLong);
        }
        history.remove(0);
    }
    Ok(request)
}

/// A stored message as the model sees it: text parts and image URLs.
fn chat_message(message: &Message) -> ChatMessage {
    let content = message
        .content
        .iter()
        .filter_map(|part| match part["type"].as_str() {
            Some("text") => Some(ContentPart::Text(
                part["text"]["value"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )),
            Some("image_url") => Some(ContentPart::ImageUrl {
                url: part["image_url"]["url"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                detail: part["image_url"]["detail"].as_str().map(str::to_owned),
            }),
            _ => None,
        })
        .collect();
    ChatMessage {
        role: if message.role == "assistant" {
            Role::Assistant
        } else {
            Role::User
        },
        content,
        tool_calls: Vec::new(),
        tool_call_id: None,
    }
}

/// Whether the run already searched its files (a forced search is then not forced again).
fn searched(steps: &[RunStep]) -> bool {
    steps.iter().any(|step| {
        step.step_details["tool_calls"]
            .as_array()
            .is_some_and(|calls| calls.iter().any(|c| c["type"] == "file_search"))
    })
}

/// The run's finished tool rounds: each an assistant turn with its calls, then the outputs.
fn tool_rounds(steps: &[RunStep]) -> Vec<ChatMessage> {
    let mut messages = Vec::new();
    let mut searches = 0;
    for step in steps
        .iter()
        .filter(|s| s.kind == "tool_calls" && s.status == StepStatus::Completed)
    {
        let search_calls: Vec<&Value> = step.step_details["tool_calls"]
            .as_array()
            .map(|calls| {
                calls
                    .iter()
                    .filter(|c| c["type"] == "file_search")
                    .collect()
            })
            .unwrap_or_default();
        if !search_calls.is_empty() {
            // The queries are not kept (the step has no place for them on the wire).
            messages.push(ChatMessage::assistant_tool_calls(
                search_calls
                    .iter()
                    .map(|call| ToolCall {
                        id: call["id"].as_str().unwrap_or_default().to_owned(),
                        name: FILE_SEARCH_FUNCTION.to_owned(),
                        arguments: "{}".to_owned(),
                    })
                    .collect(),
            ));
            for call in search_calls {
                let results = call["file_search"]["results"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                messages.push(ChatMessage::tool(
                    call["id"].as_str().unwrap_or_default(),
                    format_results(searches, results),
                ));
                searches += 1;
            }
            continue;
        }
        let calls: Vec<&Value> = step.step_details["tool_calls"]
            .as_array()
            .map(|calls| calls.iter().filter(|c| c["type"] == "function").collect())
            .unwrap_or_default();
        messages.push(ChatMessage::assistant_tool_calls(
            calls
                .iter()
                .map(|call| ToolCall {
                    id: call["id"].as_str().unwrap_or_default().to_owned(),
                    name: call["function"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    arguments: call["function"]["arguments"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                })
                .collect(),
        ));
        for call in calls {
            messages.push(ChatMessage::tool(
                call["id"].as_str().unwrap_or_default(),
                call["function"]["output"].as_str().unwrap_or_default(),
            ));
        }
    }
    messages
}

/// The run's function tools, with the search function when it has file_search
/// (code_interpreter is not run by this server).
fn function_tools(tools: &[Value]) -> Vec<FunctionTool> {
    let search = file_search_tool(tools).map(|_| search_function());
    tools
        .iter()
        .filter(|tool| tool["type"] == "function")
        .map(|tool| {
            let function = &tool["function"];
            FunctionTool {
                name: function["name"].as_str().unwrap_or_default().to_owned(),
                description: function["description"].as_str().map(str::to_owned),
                parameters: function.get("parameters").filter(|p| !p.is_null()).cloned(),
                strict: function["strict"].as_bool(),
            }
        })
        .chain(search)
        .collect()
}

/// `"none"`, `"auto"`, `"required"`, a named function, or file_search (the search
/// function, forced only until the run has searched).
fn tool_choice(value: &Value, searched: bool) -> ToolChoice {
    match value {
        Value::Object(map) if map.get("type").and_then(Value::as_str) == Some("file_search") => {
            if searched {
                ToolChoice::Auto
            } else {
                ToolChoice::Function(FILE_SEARCH_FUNCTION.to_owned())
            }
        }
        Value::String(text) if text == "none" => ToolChoice::None,
        Value::String(text) if text == "required" => ToolChoice::Required,
        Value::Object(map) if map.get("type").and_then(Value::as_str) == Some("function") => {
            ToolChoice::Function(
                value["function"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        }
        _ => ToolChoice::Auto,
    }
}

/// The run's `response_format` in the model's terms.
fn response_format(value: &Value) -> ResponseFormat {
    match value["type"].as_str() {
        Some("json_object") => ResponseFormat::JsonObject,
        Some("json_schema") => {
            let schema = &value["json_schema"];
            ResponseFormat::JsonSchema {
                name: schema["name"].as_str().unwrap_or("response").to_owned(),
                description: schema["description"].as_str().map(str::to_owned),
                schema: schema.get("schema").filter(|s| !s.is_null()).cloned(),
                strict: schema["strict"].as_bool(),
            }
        }
        _ => ResponseFormat::Text,
    }
}
