//! The offline model's decision rules: given a request, what should the next turn be?
//! Rules are consulted in order and the first that returns a [`Plan`] wins:
//!
//! 0. [`super::file_search::SearchFilesThenCite`]: with the server's `file_search`
//!    function on offer, search with the latest user message when `tool_choice` forces
//!    it or the message ends with `?`, then answer quoting the best result with its
//!    `【n:m†filename】` citation marker (first, so a forced search is not repeated);
//! 1. [`QuoteToolOutputs`]: when the conversation ends with tool outputs, reply with
//!    text quoting each of them (this comes first so that runs with a forced
//!    `tool_choice` still finish after their outputs are submitted);
//! 2. [`ForcedToolChoice`]: `tool_choice` naming a function calls it; `required` calls
//!    the first function tool;
//! 3. extra rules added with [`super::OfflineModel::with_rule`];
//! 4. [`ToolsNamedInMessage`]: with `tool_choice` auto, call every function whose name
//!    appears as a word in the latest user message (all of them in tool order when
//!    `parallel_tool_calls` is not false, else the first);
//! 5. [`QuoteUserMessage`]: reply with a short text quoting the latest user message.

use std::fmt::Debug;

use serde_json::Value;

use crate::llm::request::{ChatRequest, FunctionTool, Role, ToolChoice};
use crate::llm::LlmError;

/// What the next turn will be.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// Call these functions (in this order) and wait for their outputs.
    Call(Vec<PlannedCall>),
    /// Answer with this text (before response-format shaping and token limits).
    Reply(String),
}

/// One function call the offline model decided to make.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedCall {
    /// The function's name.
    pub name: String,
    /// Its arguments, valid against the function's `parameters`.
    pub arguments: CallArguments,
}

/// Where a planned call's arguments come from.
#[derive(Debug, Clone, PartialEq)]
pub enum CallArguments {
    /// Exactly these (a rule chose them, e.g. the search query).
    Given(Value),
    /// Synthesised from the function's `parameters` schema when the turn is rendered,
    /// within what is left of the turn's output budget (a schema's smallest value can
    /// be arbitrarily large, so it is never built outside a budget).
    FromSchema(Option<Value>),
}

impl From<Value> for CallArguments {
    fn from(value: Value) -> Self {
        CallArguments::Given(value)
    }
}

impl PlannedCall {
    /// A call of `tool` with arguments synthesised from its schema.
    pub fn of(tool: &FunctionTool) -> Self {
        Self {
            name: tool.name.clone(),
            arguments: CallArguments::FromSchema(tool.parameters.clone()),
        }
    }
}

/// One decision rule of the offline model.
pub trait OfflineRule: Send + Sync + Debug {
    /// The turn this rule wants, `Ok(None)` to let later rules decide, or an error the
    /// run reports (e.g. `invalid_prompt` for a `tool_choice` naming an unknown function).
    fn plan(&self, request: &ChatRequest) -> Result<Option<Plan>, LlmError>;
}

/// Rule 1: the conversation ends with tool outputs → quote them.
#[derive(Debug, Default)]
pub struct QuoteToolOutputs;

impl OfflineRule for QuoteToolOutputs {
    fn plan(&self, request: &ChatRequest) -> Result<Option<Plan>, LlmError> {
        let trailing = request
            .messages
            .iter()
            .rev()
            .take_while(|message| message.role == Role::Tool)
            .count();
        if trailing == 0 {
            return Ok(None);
        }
        let outputs = &request.messages[request.messages.len() - trailing..];
        let sentences: Vec<String> = outputs
            .iter()
            .map(|output| {
                let name = output
                    .tool_call_id
                    .as_deref()
                    .and_then(|id| function_called_as(request, id))
                    .unwrap_or("tool");
                format!("{name} returned \"{}\".", output.text())
            })
            .collect();
        Ok(Some(Plan::Reply(sentences.join(" "))))
    }
}

/// The function name of call `id` in the conversation's assistant turns.
fn function_called_as<'a>(request: &'a ChatRequest, id: &str) -> Option<&'a str> {
    request
        .messages
        .iter()
        .flat_map(|message| &message.tool_calls)
        .find(|call| call.id == id)
        .map(|call| call.name.as_str())
}

/// Rule 2: a named function or `required` → call it.
#[derive(Debug, Default)]
pub struct ForcedToolChoice;

impl OfflineRule for ForcedToolChoice {
    fn plan(&self, request: &ChatRequest) -> Result<Option<Plan>, LlmError> {
        let tool = match &request.tool_choice {
            ToolChoice::Function(name) => request
                .tools
                .iter()
                .find(|tool| &tool.name == name)
                .ok_or_else(|| {
                    LlmError::invalid_prompt(format!(
                        "tool_choice names the function '{name}', which is not among the tools"
                    ))
                })?,
            ToolChoice::Required => request.tools.first().ok_or_else(|| {
                LlmError::invalid_prompt(
                    "tool_choice is 'required' but no function tools were given",
                )
            })?,
            ToolChoice::None | ToolChoice::Auto => return Ok(None),
        };
        Ok(Some(Plan::Call(vec![PlannedCall::of(tool)])))
    }
}

/// Rule 4: with `auto`, call the functions the latest user message names.
#[derive(Debug, Default)]
pub struct ToolsNamedInMessage;

impl OfflineRule for ToolsNamedInMessage {
    fn plan(&self, request: &ChatRequest) -> Result<Option<Plan>, LlmError> {
        if request.tool_choice != ToolChoice::Auto {
            return Ok(None);
        }
        let Some(text) = latest_user_text(request) else {
            return Ok(None);
        };
        let words: Vec<&str> = text
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
            .filter(|word| !word.is_empty())
            .collect();
        let mut named = request
            .tools
            .iter()
            .filter(|tool| words.contains(&tool.name.as_str()));
        let calls: Vec<PlannedCall> = if request.parallel_tool_calls == Some(false) {
            named.next().map(PlannedCall::of).into_iter().collect()
        } else {
            named.map(PlannedCall::of).collect()
        };
        Ok((!calls.is_empty()).then_some(Plan::Call(calls)))
    }
}

/// Rule 5: reply quoting the latest user message.
#[derive(Debug, Default)]
pub struct QuoteUserMessage;

impl QuoteUserMessage {
    /// The reply; this rule always has one, so it also ends the rule chain.
    pub fn reply(request: &ChatRequest) -> Plan {
        Plan::Reply(match latest_user_text(request) {
            Some(text) => format!("You said: \"{text}\""),
            None => "There is no user message to answer.".to_owned(),
        })
    }
}

impl OfflineRule for QuoteUserMessage {
    fn plan(&self, request: &ChatRequest) -> Result<Option<Plan>, LlmError> {
        Ok(Some(Self::reply(request)))
    }
}

/// The text of the latest user message.
pub fn latest_user_text(request: &ChatRequest) -> Option<String> {
    request
        .messages
        .iter()
        .rev()
        .find(|message| message.role == Role::User)
        .map(|message| message.text())
}
