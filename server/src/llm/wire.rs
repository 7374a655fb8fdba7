//! The Chat Completions wire format: rendering a [`ChatRequest`] as a request body and
//! reading streamed chunks, whole (non-streamed) completions and error bodies back.

use serde_json::{json, Map, Value};

use super::config::UpstreamConfig;
use super::event::{ChatEvent, FinishReason, ToolCallDelta, Usage};
use super::request::{ChatMessage, ChatRequest, ContentPart, ResponseFormat, Role, ToolChoice};
use super::LlmError;

/// Body parameters that [`ChatRequest::extra`] may not replace.
const RESERVED_PARAMS: [&str; 4] = ["model", "messages", "stream", "stream_options"];

/// The JSON body of a streamed `/chat/completions` call.
pub(crate) fn request_body(request: &ChatRequest, config: &UpstreamConfig) -> Value {
    let mut body = Map::new();
    body.insert("model".into(), json!(request.model));
    let messages: Vec<Value> = request.messages.iter().map(message_json).collect();
    body.insert("messages".into(), Value::Array(messages));
    if !request.tools.is_empty() {
        let tools = request.tools.iter().map(|tool| {
            let mut function = Map::new();
            function.insert("name".into(), json!(tool.name));
            if let Some(description) = &tool.description {
                function.insert("description".into(), json!(description));
            }
            if let Some(parameters) = &tool.parameters {
                function.insert("parameters".into(), parameters.clone());
            }
            if let Some(strict) = tool.strict {
                function.insert("strict".into(), json!(strict));
            }
            json!({"type": "function", "function": function})
        });
        body.insert("tools".into(), Value::Array(tools.collect()));
        // Upstreams reject tool_choice and parallel_tool_calls without tools; `auto` is
        // everyone's default, so it is left out for servers that do not know the field.
        if request.tool_choice != ToolChoice::Auto {
            body.insert("tool_choice".into(), tool_choice_json(&request.tool_choice));
        }
        if let Some(parallel) = request.parallel_tool_calls {
            body.insert("parallel_tool_calls".into(), json!(parallel));
        }
    }
    match &request.response_format {
        ResponseFormat::Text => {}
        ResponseFormat::JsonObject => {
            body.insert("response_format".into(), json!({"type": "json_object"}));
        }
        ResponseFormat::JsonSchema {
            name,
            description,
            schema,
            strict,
        } => {
            let mut json_schema = Map::new();
            json_schema.insert("name".into(), json!(name));
            if let Some(description) = description {
                json_schema.insert("description".into(), json!(description));
            }
            if let Some(schema) = schema {
                json_schema.insert("schema".into(), schema.clone());
            }
            if let Some(strict) = strict {
                json_schema.insert("strict".into(), json!(strict));
            }
            body.insert(
                "response_format".into(),
                json!({"type": "json_schema", "json_schema": json_schema}),
            );
        }
    }
    if let Some(temperature) = request.temperature {
        body.insert("temperature".into(), json!(temperature));
    }
    if let Some(top_p) = request.top_p {
        body.insert("top_p".into(), json!(top_p));
    }
    if let Some(max) = request.max_completion_tokens {
        body.insert(config.max_tokens_param.clone(), json!(max));
    }
    body.insert("stream".into(), json!(true));
    if config.include_usage {
        body.insert("stream_options".into(), json!({"include_usage": true}));
    }
    for (name, value) in &request.extra {
        if !RESERVED_PARAMS.contains(&name.as_str()) {
            body.insert(name.clone(), value.clone());
        }
    }
    Value::Object(body)
}

/// The body without the parameter an older OpenAI-compatible server just refused
/// (`stream_options` on older Azure API versions and servers; `max_completion_tokens`
/// where only `max_tokens` is known), or `None` when the error is about something else.
pub(crate) fn without_unsupported_param(body: &Value, error: &LlmError) -> Option<Value> {
    if !matches!(error.status, Some(400 | 422)) {
        return None;
    }
    let mut body = body.as_object()?.clone();
    if error.message.contains("stream_options") && body.remove("stream_options").is_some() {
        return Some(Value::Object(body));
    }
    if error.message.contains("max_completion_tokens") {
        let limit = body.remove("max_completion_tokens")?;
        body.insert("max_tokens".into(), limit);
        return Some(Value::Object(body));
    }
    None
}

fn tool_choice_json(choice: &ToolChoice) -> Value {
    match choice {
        ToolChoice::None => json!("none"),
        ToolChoice::Auto => json!("auto"),
        ToolChoice::Required => json!("required"),
        ToolChoice::Function(name) => json!({"type": "function", "function": {"name": name}}),
    }
}

fn message_json(message: &ChatMessage) -> Value {
    let mut out = Map::new();
    out.insert("role".into(), json!(message.role.as_str()));
    match message.content.as_slice() {
        // As OpenAI's own SDKs send a turn that only called tools.
        [] if !message.tool_calls.is_empty() => {
            out.insert("content".into(), Value::Null);
        }
        [] => {
            out.insert("content".into(), json!(""));
        }
        [ContentPart::Text(text)] => {
            out.insert("content".into(), json!(text));
        }
        _ => {
            let parts = message.content.iter().map(|part| match part {
                ContentPart::Text(text) => json!({"type": "text", "text": text}),
                ContentPart::ImageUrl { url, detail } => {
                    let mut image = Map::new();
                    image.insert("url".into(), json!(url));
                    if let Some(detail) = detail {
                        image.insert("detail".into(), json!(detail));
                    }
                    json!({"type": "image_url", "image_url": image})
                }
            });
            out.insert("content".into(), Value::Array(parts.collect()));
        }
    }
    if message.role == Role::Assistant && !message.tool_calls.is_empty() {
        let calls = message.tool_calls.iter().map(|call| {
            json!({"id": call.id, "type": "function",
                   "function": {"name": call.name, "arguments": call.arguments}})
        });
        out.insert("tool_calls".into(), Value::Array(calls.collect()));
    }
    if let Some(id) = &message.tool_call_id {
        out.insert("tool_call_id".into(), json!(id));
    }
    Value::Object(out)
}

/// What one streamed chunk said.
#[derive(Debug, Default)]
pub(crate) struct ChunkContent {
    /// Text and tool-call deltas, in order.
    pub deltas: Vec<ChatEvent>,
    /// The finish reason, on the chunk that ends the answer.
    pub finish: Option<FinishReason>,
    /// Usage, on the last chunk (or Groq's `x_groq.usage`).
    pub usage: Option<Usage>,
}

/// Reads one `data:` payload of a streamed answer.
pub(crate) fn parse_chunk(data: &str) -> Result<ChunkContent, LlmError> {
    let value: Value = serde_json::from_str(data).map_err(|error| {
        LlmError::server_error(format!(
            "the upstream sent a malformed stream chunk ({error}): {}",
            excerpt(data)
        ))
    })?;
    if let Some(error) = value.get("error") {
        return Err(stream_error(error));
    }
    let Some(object) = value.as_object() else {
        return Err(LlmError::server_error(format!(
            "the upstream sent a stream chunk that is not an object: {}",
            excerpt(data)
        )));
    };
    let mut content = ChunkContent::default();
    let usage = object
        .get("usage")
        .filter(|usage| !usage.is_null())
        .or_else(|| value.pointer("/x_groq/usage"));
    if let Some(usage) = usage {
        content.usage = Some(parse_usage(usage)?);
    }
    let choice = object
        .get("choices")
        .and_then(Value::as_array)
        .and_then(|choices| choices.first());
    let Some(choice) = choice else {
        return Ok(content);
    };
    if let Some(delta) = choice.get("delta") {
        for field in ["content", "refusal"] {
            if let Some(text) = delta.get(field).and_then(Value::as_str) {
                if !text.is_empty() {
                    content.deltas.push(ChatEvent::TextDelta(text.to_owned()));
                }
            }
        }
        if let Some(calls) = delta.get("tool_calls").and_then(Value::as_array) {
            for (position, call) in calls.iter().enumerate() {
                content
                    .deltas
                    .push(ChatEvent::ToolCallDelta(tool_call_delta(call, position)));
            }
        }
    }
    if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
        content.finish = Some(FinishReason::from_wire(reason));
    }
    Ok(content)
}

fn tool_call_delta(call: &Value, position: usize) -> ToolCallDelta {
    let text = |pointer: &str| {
        call.pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    ToolCallDelta {
        // Some servers send whole calls without `index`: their position is the index.
        index: call
            .get("index")
            .and_then(Value::as_u64)
            .map_or(position, |index| index as usize),
        id: text("/id").filter(|id| !id.is_empty()),
        name: text("/function/name").filter(|name| !name.is_empty()),
        arguments: match call.pointer("/function/arguments") {
            Some(Value::String(arguments)) => arguments.clone(),
            // Ollama has sent arguments as an object.
            Some(object @ Value::Object(_)) => object.to_string(),
            _ => String::new(),
        },
    }
}

/// Reads a `usage` object; missing counts are zero.
pub(crate) fn parse_usage(usage: &Value) -> Result<Usage, LlmError> {
    if !usage.is_object() {
        return Err(LlmError::server_error(format!(
            "the upstream sent usage that is not an object: {}",
            excerpt(&usage.to_string())
        )));
    }
    let count = |pointer: &str| {
        usage
            .pointer(pointer)
            .and_then(Value::as_u64)
            .map_or(0, |n| n.min(u32::MAX as u64) as u32)
    };
    let prompt_tokens = count("/prompt_tokens");
    let completion_tokens = count("/completion_tokens");
    let total = count("/total_tokens");
    Ok(Usage {
        prompt_tokens,
        completion_tokens,
        total_tokens: if total == 0 {
            prompt_tokens + completion_tokens
        } else {
            total
        },
        cached_tokens: count("/prompt_tokens_details/cached_tokens"),
        reasoning_tokens: count("/completion_tokens_details/reasoning_tokens"),
        estimated: false,
    })
}

/// Reads a whole `chat.completion` (an upstream that ignored `stream: true`) as the
/// events a stream would have carried, except usage, which may be missing.
pub(crate) fn parse_completion(body: &str) -> Result<ChunkContent, LlmError> {
    let value: Value = serde_json::from_str(body).map_err(|error| {
        LlmError::server_error(format!(
            "the upstream sent a malformed completion ({error}): {}",
            excerpt(body)
        ))
    })?;
    if let Some(error) = value.get("error") {
        return Err(stream_error(error));
    }
    let message = value.pointer("/choices/0/message").ok_or_else(|| {
        LlmError::server_error(format!(
            "the upstream's completion has no choices[0].message: {}",
            excerpt(body)
        ))
    })?;
    let mut content = ChunkContent::default();
    for field in ["content", "refusal"] {
        if let Some(text) = message.get(field).and_then(Value::as_str) {
            if !text.is_empty() {
                content.deltas.push(ChatEvent::TextDelta(text.to_owned()));
            }
        }
    }
    if let Some(calls) = message.get("tool_calls").and_then(Value::as_array) {
        for (position, call) in calls.iter().enumerate() {
            let mut delta = tool_call_delta(call, position);
            delta.index = position;
            content.deltas.push(ChatEvent::ToolCallDelta(delta));
        }
    }
    let reason = value
        .pointer("/choices/0/finish_reason")
        .and_then(Value::as_str);
    content.finish = reason.map(FinishReason::from_wire);
    if let Some(usage) = value.get("usage").filter(|usage| !usage.is_null()) {
        content.usage = Some(parse_usage(usage)?);
    }
    Ok(content)
}

/// An `error` object sent inside a 200 answer (OpenAI does this mid-stream).
fn stream_error(error: &Value) -> LlmError {
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| error.to_string());
    let code = error
        .get("code")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let kind = error
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if code == "rate_limit_exceeded" || kind == "rate_limit_exceeded" {
        LlmError::rate_limited(message)
    } else if kind == "invalid_request_error" {
        LlmError::invalid_prompt(message)
    } else {
        LlmError::server_error(format!("the upstream failed mid-answer: {message}"))
    }
}

/// The human message of an upstream error body: OpenAI's `{"error":{"message"}}`,
/// vLLM/Ollama's `{"message"}` or `{"error":"…"}`, else the body itself, shortened.
pub(crate) fn error_message(body: &str) -> String {
    if let Ok(value) = serde_json::from_str::<Value>(body) {
        let candidates = ["/error/message", "/error", "/message", "/detail"];
        for pointer in candidates {
            if let Some(message) = value.pointer(pointer).and_then(Value::as_str) {
                return message.to_owned();
            }
        }
    }
    let trimmed = body.trim();
    if trimmed.is_empty() {
        "(empty body)".to_owned()
    } else {
        excerpt(trimmed)
    }
}

/// At most 300 characters of an upstream's text, for error messages.
pub(crate) fn excerpt(text: &str) -> String {
    const LIMIT: usize = 300;
    match text.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}
