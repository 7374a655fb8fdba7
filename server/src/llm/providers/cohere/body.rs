//! A [`ChatRequest`] as a Cohere v2 chat body (<https://docs.cohere.com/reference/chat>):
//! messages keep OpenAI's roles (developer becomes system), tools keep OpenAI's
//! function shape, `top_p` is `p`, JSON formats are `response_format.type =
//! json_object` (with `json_schema`), and `tool_choice` has only `REQUIRED` and `NONE`,
//! so a forced function is `REQUIRED` with that function alone.

use serde_json::{json, Map, Value};

use crate::llm::request::{
    ChatMessage, ChatRequest, ContentPart, ResponseFormat, Role, ToolChoice,
};

/// Body parameters an `LLM-PARAM-<name>` header may not replace.
const RESERVED_PARAMS: [&str; 3] = ["model", "messages", "stream"];

/// The v2 chat body for `request` (always streamed).
pub fn request_body(request: &ChatRequest) -> Value {
    let mut body = Map::new();
    body.insert("model".into(), json!(request.model));
    let messages: Vec<Value> = request.messages.iter().map(message).collect();
    body.insert("messages".into(), Value::Array(messages));
    let forced = match &request.tool_choice {
        ToolChoice::Function(name) => Some(name.as_str()),
        _ => None,
    };
    let tools: Vec<Value> = request
        .tools
        .iter()
        .filter(|tool| forced.is_none_or(|name| tool.name == name))
        .map(|tool| {
            let mut function = json!({
                "name": tool.name,
                "parameters": tool.parameters.clone()
                    .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
            });
            if let Some(description) = &tool.description {
                function["description"] = json!(description);
            }
            json!({"type": "function", "function": function})
        })
        .collect();
    if !tools.is_empty() {
        body.insert("tools".into(), Value::Array(tools));
        match request.tool_choice {
            ToolChoice::Required | ToolChoice::Function(_) => {
                body.insert("tool_choice".into(), json!("REQUIRED"));
            }
            ToolChoice::None => {
                body.insert("tool_choice".into(), json!("NONE"));
            }
            ToolChoice::Auto => {}
        }
    }
    match &request.response_format {
        ResponseFormat::Text => {}
        ResponseFormat::JsonObject => {
            body.insert("response_format".into(), json!({"type": "json_object"}));
        }
        ResponseFormat::JsonSchema { schema, .. } => {
            let mut format = json!({"type": "json_object"});
            if let Some(schema) = schema {
                format["json_schema"] = schema.clone();
            }
            body.insert("response_format".into(), format);
        }
    }
    if let Some(max) = request.max_completion_tokens {
        body.insert("max_tokens".into(), json!(max));
    }
    if let Some(temperature) = request.temperature {
        body.insert("temperature".into(), json!(temperature));
    }
    if let Some(top_p) = request.top_p {
        body.insert("p".into(), json!(top_p));
    }
    body.insert("stream".into(), json!(true));
    for (name, value) in &request.extra {
        if !RESERVED_PARAMS.contains(&name.as_str()) {
            body.insert(name.clone(), value.clone());
        }
    }
    Value::Object(body)
}

fn message(message: &ChatMessage) -> Value {
    match message.role {
        Role::System | Role::Developer => json!({"role": "system", "content": message.text()}),
        Role::User => {
            let parts: Vec<Value> = message
                .content
                .iter()
                .map(|part| match part {
                    ContentPart::Text(text) => json!({"type": "text", "text": text}),
                    ContentPart::ImageUrl { url, .. } => {
                        json!({"type": "image_url", "image_url": {"url": url}})
                    }
                })
                .collect();
            json!({"role": "user", "content": parts})
        }
        Role::Assistant => {
            let mut value = json!({"role": "assistant"});
            let text = message.text();
            if !text.is_empty() {
                value["content"] = json!(text);
            }
            if !message.tool_calls.is_empty() {
                let calls: Vec<Value> = message
                    .tool_calls
                    .iter()
                    .map(|call| {
                        json!({"id": call.id, "type": "function",
                        "function": {"name": call.name, "arguments": call.arguments}})
                    })
                    .collect();
                value["tool_calls"] = Value::Array(calls);
            }
            value
        }
        Role::Tool => json!({
            "role": "tool",
            "tool_call_id": message.tool_call_id.clone().unwrap_or_default(),
            "content": message.text(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::request::{FunctionTool, ToolCall};

    fn tool(name: &str) -> FunctionTool {
        FunctionTool {
            name: name.into(),
            description: None,
            parameters: None,
            strict: None,
        }
    }

    #[test]
    fn roles_tools_and_parameters_take_cohere_names() {
        let mut request = ChatRequest {
            model: "command-r-plus".into(),
            messages: vec![
                ChatMessage::developer("Be brief."),
                ChatMessage::user("Weather?"),
                ChatMessage::assistant_tool_calls(vec![ToolCall {
                    id: "get_weather_1".into(),
                    name: "get_weather".into(),
                    arguments: "{\"city\":\"Oslo\"}".into(),
                }]),
                ChatMessage::tool("get_weather_1", "-3C"),
            ],
            tools: vec![tool("get_weather"), tool("get_time")],
            tool_choice: ToolChoice::Function("get_time".into()),
            top_p: Some(0.5),
            response_format: ResponseFormat::JsonSchema {
                name: "w".into(),
                description: None,
                schema: Some(json!({"type": "object"})),
                strict: None,
            },
            ..ChatRequest::default()
        };
        request.extra.insert("seed".into(), json!(7));
        let body = request_body(&request);
        assert_eq!(
            body["messages"][0],
            json!({"role": "system", "content": "Be brief."})
        );
        assert_eq!(
            body["messages"][2]["tool_calls"][0]["function"]["arguments"],
            "{\"city\":\"Oslo\"}"
        );
        assert_eq!(
            body["messages"][3],
            json!({"role": "tool", "tool_call_id": "get_weather_1", "content": "-3C"})
        );
        assert_eq!(body["tools"].as_array().unwrap().len(), 1);
        assert_eq!(body["tools"][0]["function"]["name"], "get_time");
        assert_eq!(body["tool_choice"], "REQUIRED");
        assert_eq!(body["p"], 0.5);
        assert_eq!(
            body["response_format"],
            json!({"type": "json_object", "json_schema": {"type": "object"}})
        );
        assert_eq!(body["seed"], 7);
        assert!(body.get("max_tokens").is_none());
    }
}
