//! A [`ChatRequest`] as an Anthropic Messages request body
//! (<https://docs.anthropic.com/en/api/messages>): system and developer messages become
//! `system`, tool calls `tool_use` blocks, tool outputs `tool_result` blocks in the
//! following user turn, and tools get an `input_schema`.

use serde_json::{json, Map, Value};

use crate::llm::providers::turns::Turns;

use crate::llm::request::{
    ChatMessage, ChatRequest, ContentPart, ResponseFormat, Role, ToolChoice,
};

/// `max_tokens` is required by Anthropic; this is sent when the run sets no limit
/// (every current Claude model can produce at least this many tokens).
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// Body parameters an `LLM-PARAM-<name>` header may not replace.
const RESERVED_PARAMS: [&str; 4] = ["model", "messages", "stream", "system"];

/// The Messages body for `request` (always streamed).
pub fn request_body(request: &ChatRequest) -> Value {
    let mut system: Vec<String> = request
        .messages
        .iter()
        .filter(|m| matches!(m.role, Role::System | Role::Developer))
        .map(ChatMessage::text)
        .filter(|text| !text.is_empty())
        .collect();
    if let Some(rule) = json_instruction(&request.response_format) {
        system.push(rule);
    }
    let mut body = Map::new();
    body.insert("model".into(), json!(request.model));
    body.insert(
        "max_tokens".into(),
        json!(request.max_completion_tokens.unwrap_or(DEFAULT_MAX_TOKENS)),
    );
    if !system.is_empty() {
        body.insert("system".into(), json!(system.join("\n\n")));
    }
    body.insert("messages".into(), Value::Array(turns(&request.messages)));
    if !request.tools.is_empty() {
        let tools: Vec<Value> = request
            .tools
            .iter()
            .map(|tool| {
                let mut value = json!({
                    "name": tool.name,
                    "input_schema": tool.parameters.clone()
                        .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
                });
                if let Some(description) = &tool.description {
                    value["description"] = json!(description);
                }
                value
            })
            .collect();
        body.insert("tools".into(), Value::Array(tools));
        body.insert(
            "tool_choice".into(),
            tool_choice(&request.tool_choice, request.parallel_tool_calls),
        );
    }
    if let Some(temperature) = request.temperature {
        body.insert("temperature".into(), json!(temperature));
    }
    if let Some(top_p) = request.top_p {
        body.insert("top_p".into(), json!(top_p));
    }
    body.insert("stream".into(), json!(true));
    for (name, value) in &request.extra {
        if !RESERVED_PARAMS.contains(&name.as_str()) {
            body.insert(name.clone(), value.clone());
        }
    }
    Value::Object(body)
}

/// Anthropic has no JSON mode: the response format becomes an instruction.
fn json_instruction(format: &ResponseFormat) -> Option<String> {
    match format {
        ResponseFormat::Text => None,
        ResponseFormat::JsonObject => {
            Some("Answer with one JSON object only, without any other text.".to_owned())
        }
        ResponseFormat::JsonSchema { schema, .. } => Some(match schema {
            Some(schema) => format!(
                "Answer with one JSON value only, without any other text, valid against this \
                 JSON Schema: {schema}"
            ),
            None => "Answer with one JSON value only, without any other text.".to_owned(),
        }),
    }
}

fn tool_choice(choice: &ToolChoice, parallel: Option<bool>) -> Value {
    let mut value = match choice {
        ToolChoice::None => return json!({"type": "none"}),
        ToolChoice::Auto => json!({"type": "auto"}),
        ToolChoice::Required => json!({"type": "any"}),
        ToolChoice::Function(name) => json!({"type": "tool", "name": name}),
    };
    if parallel == Some(false) {
        value["disable_parallel_tool_use"] = json!(true);
    }
    value
}

/// The conversation as alternating user and assistant turns: consecutive user-side
/// messages (user text and tool outputs) are merged, as tool results must all sit in
/// the user turn right after the calls.
fn turns(messages: &[ChatMessage]) -> Vec<Value> {
    let mut turns = Turns::default();
    for message in messages {
        let (role, blocks) = match message.role {
            Role::System | Role::Developer => continue,
            Role::User => ("user", user_blocks(message)),
            Role::Tool => (
                "user",
                vec![json!({
                    "type": "tool_result",
                    "tool_use_id": message.tool_call_id.clone().unwrap_or_default(),
                    "content": message.text(),
                })],
            ),
            Role::Assistant => ("assistant", assistant_blocks(message)),
        };
        turns.push(role, blocks);
    }
    turns.into_messages("content")
}

fn user_blocks(message: &ChatMessage) -> Vec<Value> {
    message
        .content
        .iter()
        .filter_map(|part| match part {
            ContentPart::Text(text) if text.is_empty() => None,
            ContentPart::Text(text) => Some(json!({"type": "text", "text": text})),
            ContentPart::ImageUrl { url, .. } => Some(image_block(url)),
        })
        .collect()
}

/// An image from a URL, or inline for a `data:` URL.
fn image_block(url: &str) -> Value {
    let inline = url
        .strip_prefix("data:")
        .and_then(|rest| rest.split_once(";base64,"));
    match inline {
        Some((media_type, data)) => json!({"type": "image", "source":
            {"type": "base64", "media_type": media_type, "data": data}}),
        None => json!({"type": "image", "source": {"type": "url", "url": url}}),
    }
}

fn assistant_blocks(message: &ChatMessage) -> Vec<Value> {
    let text = message.text();
    let mut blocks = Vec::new();
    if !text.is_empty() {
        blocks.push(json!({"type": "text", "text": text}));
    }
    for call in &message.tool_calls {
        // The model's arguments went through the run as text; Anthropic wants an object.
        let input = serde_json::from_str::<Value>(&call.arguments)
            .ok()
            .filter(Value::is_object)
            .unwrap_or_else(|| json!({}));
        blocks.push(json!({"type": "tool_use", "id": call.id, "name": call.name, "input": input}));
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::request::{FunctionTool, ToolCall};

    #[test]
    fn a_tool_round_becomes_tool_use_and_tool_result_blocks() {
        let call = |id: &str, city: &str| ToolCall {
            id: id.into(),
            name: "get_weather".into(),
            arguments: format!(r#"{{"city":"{city}"}}"#),
        };
        let request = ChatRequest {
            model: "claude-3-5-haiku-latest".into(),
            messages: vec![
                ChatMessage::system("Be brief."),
                ChatMessage::user("Weather in Paris and Oslo?"),
                ChatMessage::assistant_tool_calls(vec![
                    call("toolu_1", "Paris"),
                    call("toolu_2", "Oslo"),
                ]),
                ChatMessage::tool("toolu_1", "12C"),
                ChatMessage::tool("toolu_2", "-3C"),
            ],
            tools: vec![FunctionTool {
                name: "get_weather".into(),
                description: Some("Weather of a city".into()),
                parameters: None,
                strict: None,
            }],
            parallel_tool_calls: Some(false),
            tool_choice: ToolChoice::Required,
            ..ChatRequest::default()
        };
        let body = request_body(&request);
        assert_eq!(body["system"], "Be brief.");
        assert_eq!(body["max_tokens"], DEFAULT_MAX_TOKENS);
        assert_eq!(body["stream"], true);
        assert_eq!(
            body["tool_choice"],
            json!({"type": "any", "disable_parallel_tool_use": true})
        );
        assert_eq!(
            body["tools"][0]["input_schema"],
            json!({"type": "object", "properties": {}})
        );
        let messages = body["messages"].as_array().unwrap();
        assert_eq!(messages.len(), 3);
        assert_eq!(
            messages[1]["content"][1],
            json!({"type": "tool_use", "id": "toolu_2", "name": "get_weather", "input": {"city": "Oslo"}})
        );
        assert_eq!(messages[2]["role"], "user");
        assert_eq!(
            messages[2]["content"],
            json!([
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "12C"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": "-3C"},
            ])
        );
    }

    #[test]
    fn json_formats_become_instructions_and_images_sources() {
        let mut request = ChatRequest {
            model: "claude-3-5-haiku-latest".into(),
            messages: vec![ChatMessage {
                role: Role::User,
                content: vec![
                    ContentPart::Text("What is this?".into()),
                    ContentPart::ImageUrl {
                        url: "data:image/png;base64,iVBO".into(),
                        detail: None,
                    },
                ],
                tool_calls: Vec::new(),
                tool_call_id: None,
            }],
            response_format: ResponseFormat::JsonObject,
            ..ChatRequest::default()
        };
        request.extra.insert("top_k".into(), json!(5));
        request.extra.insert("model".into(), json!("other"));
        let body = request_body(&request);
        assert!(body["system"].as_str().unwrap().contains("JSON object"));
        assert_eq!(
            body["messages"][0]["content"][1]["source"],
            json!({"type": "base64", "media_type": "image/png", "data": "iVBO"})
        );
        assert_eq!(body["top_k"], 5);
        assert_eq!(body["model"], "claude-3-5-haiku-latest");
        assert!(body.get("tool_choice").is_none());
    }
}
