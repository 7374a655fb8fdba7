//! A [`ChatRequest`] as a Gemini `GenerateContentRequest`: system and developer
//! messages become `systemInstruction`, turns `contents` with roles `user` and `model`,
//! tool calls `functionCall` parts, tool outputs `functionResponse` parts (named after
//! the call they answer, as Gemini matches them by name), tools `functionDeclarations`
//! with a JSON Schema, `tool_choice` a `functionCallingConfig`, and the sampling and
//! JSON settings `generationConfig`.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use crate::llm::providers::turns::Turns;

use crate::llm::request::{
    ChatMessage, ChatRequest, ContentPart, ResponseFormat, Role, ToolChoice,
};

/// Body parameters an `LLM-PARAM-<name>` header may not replace.
const RESERVED_PARAMS: [&str; 3] = ["contents", "systemInstruction", "model"];

/// The request body for `request` (the model goes in the URL).
pub fn request_body(request: &ChatRequest) -> Value {
    let mut body = Map::new();
    let system: Vec<Value> = request
        .messages
        .iter()
        .filter(|m| matches!(m.role, Role::System | Role::Developer))
        .map(|m| json!({"text": m.text()}))
        .collect();
    if !system.is_empty() {
        body.insert("systemInstruction".into(), json!({"parts": system}));
    }
    body.insert("contents".into(), Value::Array(contents(&request.messages)));
    if !request.tools.is_empty() {
        let declarations: Vec<Value> = request
            .tools
            .iter()
            .map(|tool| {
                let mut value = json!({"name": tool.name});
                if let Some(description) = &tool.description {
                    value["description"] = json!(description);
                }
                if let Some(schema) = &tool.parameters {
                    value["parametersJsonSchema"] = schema.clone();
                }
                value
            })
            .collect();
        body.insert(
            "tools".into(),
            json!([{"functionDeclarations": declarations}]),
        );
        let config = match &request.tool_choice {
            ToolChoice::Auto => json!({"mode": "AUTO"}),
            ToolChoice::None => json!({"mode": "NONE"}),
            ToolChoice::Required => json!({"mode": "ANY"}),
            ToolChoice::Function(name) => json!({"mode": "ANY", "allowedFunctionNames": [name]}),
        };
        body.insert(
            "toolConfig".into(),
            json!({"functionCallingConfig": config}),
        );
    }
    let mut generation = Map::new();
    if let Some(temperature) = request.temperature {
        generation.insert("temperature".into(), json!(temperature));
    }
    if let Some(top_p) = request.top_p {
        generation.insert("topP".into(), json!(top_p));
    }
    if let Some(max) = request.max_completion_tokens {
        generation.insert("maxOutputTokens".into(), json!(max));
    }
    match &request.response_format {
        ResponseFormat::Text => {}
        ResponseFormat::JsonObject => {
            generation.insert("responseMimeType".into(), json!("application/json"));
        }
        ResponseFormat::JsonSchema { schema, .. } => {
            generation.insert("responseMimeType".into(), json!("application/json"));
            if let Some(schema) = schema {
                generation.insert("responseJsonSchema".into(), schema.clone());
            }
        }
    }
    if !generation.is_empty() {
        body.insert("generationConfig".into(), Value::Object(generation));
    }
    for (name, value) in &request.extra {
        if !RESERVED_PARAMS.contains(&name.as_str()) {
            body.insert(name.clone(), value.clone());
        }
    }
    Value::Object(body)
}

/// The conversation as `contents`, consecutive same-role turns merged (parallel
/// function responses must share one turn).
fn contents(messages: &[ChatMessage]) -> Vec<Value> {
    let names: HashMap<&str, &str> = messages
        .iter()
        .flat_map(|m| &m.tool_calls)
        .map(|call| (call.id.as_str(), call.name.as_str()))
        .collect();
    let mut turns = Turns::default();
    for message in messages {
        let (role, parts) = match message.role {
            Role::System | Role::Developer => continue,
            Role::User => ("user", user_parts(message)),
            Role::Assistant => {
                let mut parts = Vec::new();
                let text = message.text();
                if !text.is_empty() {
                    parts.push(json!({"text": text}));
                }
                for call in &message.tool_calls {
                    let args = serde_json::from_str::<Value>(&call.arguments)
                        .ok()
                        .filter(Value::is_object)
                        .unwrap_or_else(|| json!({}));
                    parts.push(json!({"functionCall": {"name": call.name, "args": args}}));
                }
                ("model", parts)
            }
            Role::Tool => {
                let id = message.tool_call_id.as_deref().unwrap_or_default();
                let name = names.get(id).copied().unwrap_or(id);
                let response = json!({"name": name, "response": {"content": message.text()}});
                ("user", vec![json!({"functionResponse": response})])
            }
        };
        turns.push(role, parts);
    }
    turns.into_messages("parts")
}

fn user_parts(message: &ChatMessage) -> Vec<Value> {
    message
        .content
        .iter()
        .filter_map(|part| match part {
            ContentPart::Text(text) if text.is_empty() => None,
            ContentPart::Text(text) => Some(json!({"text": text})),
            ContentPart::ImageUrl { url, .. } => Some(
                match url
                    .strip_prefix("data:")
                    .and_then(|r| r.split_once(";base64,"))
                {
                    Some((mime, data)) => json!({"inlineData": {"mimeType": mime, "data": data}}),
                    None => json!({"fileData": {"fileUri": url}}),
                },
            ),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::request::{FunctionTool, ToolCall};

    #[test]
    fn tool_rounds_become_function_calls_and_named_responses() {
        let call = |id: &str, city: &str| ToolCall {
            id: id.into(),
            name: "get_weather".into(),
            arguments: format!(r#"{{"city":"{city}"}}"#),
        };
        let request = ChatRequest {
            model: "gemini-2.0-flash".into(),
            messages: vec![
                ChatMessage::system("Be brief."),
                ChatMessage::user("Weather?"),
                ChatMessage::assistant_tool_calls(vec![
                    call("call_1", "Paris"),
                    call("call_2", "Oslo"),
                ]),
                ChatMessage::tool("call_1", "12C"),
                ChatMessage::tool("call_2", "-3C"),
            ],
            tools: vec![FunctionTool {
                name: "get_weather".into(),
                description: None,
                parameters: Some(json!({"type": "object"})),
                strict: None,
            }],
            tool_choice: ToolChoice::Function("get_weather".into()),
            max_completion_tokens: Some(100),
            response_format: ResponseFormat::JsonObject,
            ..ChatRequest::default()
        };
        let body = request_body(&request);
        assert_eq!(
            body["systemInstruction"],
            json!({"parts": [{"text": "Be brief."}]})
        );
        let contents = body["contents"].as_array().unwrap();
        assert_eq!(contents.len(), 3);
        assert_eq!(contents[1]["role"], "model");
        assert_eq!(
            contents[1]["parts"][1],
            json!({"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}})
        );
        assert_eq!(
            contents[2]["parts"][1],
            json!({"functionResponse": {"name": "get_weather", "response": {"content": "-3C"}}})
        );
        assert_eq!(
            body["toolConfig"],
            json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}})
        );
        assert_eq!(
            body["tools"][0]["functionDeclarations"][0]["parametersJsonSchema"],
            json!({"type": "object"})
        );
        assert_eq!(
            body["generationConfig"],
            json!({"maxOutputTokens": 100, "responseMimeType": "application/json"})
        );
    }
}
