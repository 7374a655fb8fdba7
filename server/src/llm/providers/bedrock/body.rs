//! A [`ChatRequest`] as a Bedrock Converse(Stream) body
//! (<https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html>).

use serde_json::{json, Map, Value};

use crate::llm::providers::turns::Turns;

use crate::llm::request::{ChatMessage, ChatRequest, ContentPart, Role, ToolChoice};

/// The Converse body for `request` (the model goes in the URL).
pub fn request_body(request: &ChatRequest) -> Value {
    let mut body = Map::new();
    let system: Vec<Value> = request
        .messages
        .iter()
        .filter(|m| matches!(m.role, Role::System | Role::Developer))
        .map(|m| json!({"text": m.text()}))
        .collect();
    if !system.is_empty() {
        body.insert("system".into(), Value::Array(system));
    }
    body.insert("messages".into(), Value::Array(turns(&request.messages)));
    let mut inference = Map::new();
    if let Some(max) = request.max_completion_tokens {
        inference.insert("maxTokens".into(), json!(max));
    }
    if let Some(temperature) = request.temperature {
        inference.insert("temperature".into(), json!(temperature));
    }
    if let Some(top_p) = request.top_p {
        inference.insert("topP".into(), json!(top_p));
    }
    if !inference.is_empty() {
        body.insert("inferenceConfig".into(), Value::Object(inference));
    }
    if !request.tools.is_empty() {
        let tools: Vec<Value> = request
            .tools
            .iter()
            .map(|tool| {
                let schema = tool
                    .parameters
                    .clone()
                    .unwrap_or_else(|| json!({"type": "object", "properties": {}}));
                let mut spec = json!({"name": tool.name, "inputSchema": {"json": schema}});
                if let Some(description) = &tool.description {
                    spec["description"] = json!(description);
                }
                json!({"toolSpec": spec})
            })
            .collect();
        let mut config = json!({"tools": tools});
        // Converse has no "none": the tools stay declared (earlier turns use them).
        match &request.tool_choice {
            ToolChoice::Auto | ToolChoice::None => {}
            ToolChoice::Required => config["toolChoice"] = json!({"any": {}}),
            ToolChoice::Function(name) => config["toolChoice"] = json!({"tool": {"name": name}}),
        }
        body.insert("toolConfig".into(), config);
    }
    Value::Object(body)
}

/// Alternating user and assistant turns; tool results join the following user turn.
fn turns(messages: &[ChatMessage]) -> Vec<Value> {
    let mut turns = Turns::default();
    for message in messages {
        let (role, blocks) = match message.role {
            Role::System | Role::Developer => continue,
            Role::User => ("user", user_blocks(message)),
            Role::Tool => (
                "user",
                vec![json!({"toolResult": {
                "toolUseId": message.tool_call_id.clone().unwrap_or_default(),
                "content": [{"text": message.text()}]}})],
            ),
            Role::Assistant => {
                let mut blocks = Vec::new();
                let text = message.text();
                if !text.is_empty() {
                    blocks.push(json!({"text": text}));
                }
                for call in &message.tool_calls {
                    let input = serde_json::from_str::<Value>(&call.arguments)
                        .ok()
                        .filter(Value::is_object)
                        .unwrap_or_else(|| json!({}));
                    blocks.push(json!({"toolUse": {"toolUseId": call.id, "name": call.name, "input": input}}));
                }
                ("assistant", blocks)
            }
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
            ContentPart::Text(text) => Some(json!({"text": text})),
            // Converse takes image bytes only; a data URL carries them.
            ContentPart::ImageUrl { url, .. } => url
                .strip_prefix("data:image/")
                .and_then(|rest| rest.split_once(";base64,"))
                .map(|(format, data)| json!({"image": {"format": format, "source": {"bytes": data}}})),
        })
        .collect()
}
