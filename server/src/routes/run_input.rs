//! The body of createRun and createThreadAndRun: per-run overrides of the assistant's
//! configuration, checked with OpenAI's errors, and the new run object they describe.

use serde_json::{json, Value};

use crate::api_error::ApiError;
use crate::ids::{new_id, unix_now, IdKind};
use crate::models::{Assistant, JsonMap, Run, RunStatus};
use crate::validation::content::{message_input, MessageInput};
use crate::validation::tools::{normalize_response_format, normalize_tools, MAX_TOOLS};
use crate::validation::{json_type_name, Checked, Field, Fields};

/// Body keys both run-creating operations accept.
pub const RUN_FIELDS: &[&str] = &[
    "assistant_id",
    "model",
    "instructions",
    "tools",
    "metadata",
    "temperature",
    "top_p",
    "stream",
    "max_prompt_tokens",
    "max_completion_tokens",
    "truncation_strategy",
    "tool_choice",
    "parallel_tool_calls",
    "response_format",
    "reasoning_effort",
];
/// Most messages `additional_messages` may hold.
const MAX_ADDITIONAL_MESSAGES: usize = 32;
/// The one `include[]` value OpenAI offered for runs and steps.
pub const FILE_SEARCH_CONTENT: &str = "step_details.tool_calls[*].file_search.results[*].content";

/// A checked run-creating body.
#[derive(Debug, Clone)]
pub struct RunRequest {
    /// The assistant to run.
    pub assistant_id: String,
    /// Model override.
    pub model: Option<String>,
    /// Instructions override (null clears them).
    pub instructions: Field<String>,
    /// Appended to the instructions of this run only.
    pub additional_instructions: Option<String>,
    /// Messages added to the thread before the run.
    pub additional_messages: Vec<MessageInput>,
    /// Tools override.
    pub tools: Option<Vec<Value>>,
    /// The run's metadata.
    pub metadata: JsonMap,
    /// Sampling overrides.
    pub temperature: Option<f64>,
    /// Sampling overrides.
    pub top_p: Option<f64>,
    /// Answer with an event stream.
    pub stream: bool,
    /// Prompt token limit per turn.
    pub max_prompt_tokens: Option<i64>,
    /// Completion token limit over the run.
    pub max_completion_tokens: Option<i64>,
    /// `{type, last_messages}`.
    pub truncation_strategy: Value,
    /// `"auto"` unless given.
    pub tool_choice: Value,
    /// `true` unless given.
    pub parallel_tool_calls: bool,
    /// Response format override.
    pub response_format: Option<Value>,
    /// Reasoning effort override.
    pub reasoning_effort: Option<String>,
}

/// Reads the run fields of `body` (its other keys are checked by the caller).
pub fn read_run_request(body: &JsonMap) -> Checked<RunRequest> {
    let fields = Fields::new(body, "");
    let assistant_id = fields.required_string("assistant_id", usize::MAX)?;
    let additional_messages = match fields.array("additional_messages", MAX_ADDITIONAL_MESSAGES)? {
        Field::Set(items) => items
            .iter()
            .enumerate()
            .map(|(index, item)| {
                let param = format!("additional_messages[{index}]");
                let Value::Object(map) = item else {
                    return Err(ApiError::invalid_type(
                        &param,
                        "an object",
                        json_type_name(item),
                    ));
                };
                message_input(map, &format!("{param}."))
            })
            .collect::<Checked<Vec<_>>>()?,
        _ => Vec::new(),
    };
    let tools = match fields.array("tools", MAX_TOOLS)? {
        Field::Set(items) => Some(normalize_tools(items)?),
        Field::Null | Field::Absent => None,
    };
    Ok(RunRequest {
        assistant_id,
        model: fields.string("model", 256)?.set(),
        instructions: fields.string("instructions", 256_000)?,
        additional_instructions: fields.string("additional_instructions", 256_000)?.set(),
        additional_messages,
        tools,
        metadata: fields.metadata()?.set().unwrap_or_default(),
        temperature: fields.number("temperature", 0.0, 2.0)?.set(),
        top_p: fields.number("top_p", 0.0, 1.0)?.set(),
        stream: fields.boolean("stream")?.set().unwrap_or(false),
        max_prompt_tokens: fields.integer("max_prompt_tokens", 256, i64::MAX)?.set(),
        max_completion_tokens: fields.integer("max_completion_tokens", 1, i64::MAX)?.set(),
        truncation_strategy: truncation_strategy(&fields)?,
        tool_choice: tool_choice(&fields)?,
        parallel_tool_calls: fields.boolean("parallel_tool_calls")?.set().unwrap_or(true),
        response_format: fields
            .value("response_format")
            .map(normalize_response_format)
            .transpose()?,
        reasoning_effort: fields
            .choice("reasoning_effort", &["minimal", "low", "medium", "high"])?
            .set(),
    })
}

fn truncation_strategy(fields: &Fields<'_>) -> Checked<Value> {
    let Some(map) = fields.object("truncation_strategy")?.set() else {
        return Ok(json!({"type": "auto", "last_messages": null}));
    };
    let inner = Fields::new(map, "truncation_strategy.");
    inner.only(&["type", "last_messages"])?;
    let kind = inner
        .choice("type", &["auto", "last_messages"])?
        .set()
        .ok_or_else(|| ApiError::missing_parameter("truncation_strategy.type"))?;
    let last = inner.integer("last_messages", 1, i64::MAX)?.set();
    if kind == "last_messages" && last.is_none() {
        return Err(ApiError::missing_parameter(
            "truncation_strategy.last_messages",
        ));
    }
    Ok(json!({"type": kind, "last_messages": last}))
}

fn tool_choice(fields: &Fields<'_>) -> Checked<Value> {
    const MODES: &[&str] = &["none", "auto", "required"];
    match fields.value("tool_choice") {
        None => Ok(json!("auto")),
        Some(Value::String(mode)) if MODES.contains(&mode.as_str()) => Ok(json!(mode)),
        Some(Value::String(mode)) => Err(ApiError::invalid_value("tool_choice", mode, MODES)),
        Some(Value::Object(map)) => {
            let inner = Fields::new(map, "tool_choice.");
            inner.only(&["type", "function"])?;
            let kind = inner.required_string("type", usize::MAX)?;
            match kind.as_str() {
                "function" => {
                    let function = inner
                        .object("function")?
                        .set()
                        .ok_or_else(|| ApiError::missing_parameter("tool_choice.function"))?;
                    let named = Fields::new(function, "tool_choice.function.");
                    named.only(&["name"])?;
                    let name = named.required_string("name", 64)?;
                    Ok(json!({"type": "function", "function": {"name": name}}))
                }
                "file_search" | "code_interpreter" => Ok(json!({"type": kind})),
                other => Err(ApiError::invalid_value(
                    "tool_choice.type",
                    other,
                    &["function", "file_search", "code_interpreter"],
                )),
            }
        }
        Some(other) => Err(ApiError::invalid_type(
            "tool_choice",
            "a string",
            json_type_name(other),
        )),
    }
}

/// The new queued run `request` describes on `thread_id`, the assistant filling the gaps.
pub fn new_run(
    assistant: &Assistant,
    thread_id: &str,
    request: &RunRequest,
    expiry_secs: i64,
) -> Run {
    let created_at = unix_now();
    let base = match &request.instructions {
        Field::Set(text) => Some(text.clone()),
        Field::Null => None,
        Field::Absent => assistant.instructions.clone(),
    };
    let instructions = match (&base, &request.additional_instructions) {
        (Some(base), Some(extra)) => Some(format!("{base}\n\n{extra}")),
        (None, Some(extra)) => Some(extra.clone()),
        (base, None) => base.clone(),
    };
    Run {
        id: new_id(IdKind::Run),
        object: "thread.run".into(),
        created_at,
        assistant_id: assistant.id.clone(),
        thread_id: thread_id.to_owned(),
        status: RunStatus::Queued,
        started_at: None,
        expires_at: Some(created_at.saturating_add(expiry_secs)),
        cancelled_at: None,
        failed_at: None,
        completed_at: None,
        required_action: None,
        last_error: None,
        model: request
            .model
            .clone()
            .unwrap_or_else(|| assistant.model.clone()),
        instructions,
        tools: request
            .tools
            .clone()
            .unwrap_or_else(|| assistant.tools.clone()),
        tool_resources: json!({}),
        metadata: request.metadata.clone(),
        temperature: Some(request.temperature.unwrap_or(assistant.temperature)),
        top_p: Some(request.top_p.unwrap_or(assistant.top_p)),
        reasoning_effort: request
            .reasoning_effort
            .clone()
            .or_else(|| assistant.reasoning_effort.clone()),
        max_completion_tokens: request.max_completion_tokens,
        max_prompt_tokens: request.max_prompt_tokens,
        truncation_strategy: request.truncation_strategy.clone(),
        incomplete_details: None,
        usage: None,
        response_format: request
            .response_format
            .clone()
            .unwrap_or_else(|| assistant.response_format.clone()),
        tool_choice: request.tool_choice.clone(),
        parallel_tool_calls: request.parallel_tool_calls,
    }
}

/// Checks the `include[]` query parameters of runs and steps; true when they ask for
/// the file_search results' content.
pub fn check_include(query: Option<&str>) -> Checked<bool> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.unwrap_or_default()).unwrap_or_default();
    let mut wanted = false;
    for (key, value) in pairs {
        if key == "include[]" || key == "include" {
            if value != FILE_SEARCH_CONTENT {
                return Err(ApiError::invalid_value(
                    "include[0]",
                    &value,
                    &[FILE_SEARCH_CONTENT],
                ));
            }
            wanted = true;
        }
    }
    Ok(wanted)
}
