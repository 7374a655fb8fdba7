//! A [`ChatRequest`] as a Bedrock Converse body
//! (<https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html>)
//! and a Converse answer as [`ChatEvent`]s.

use serde_json::{json, Map, Value};

use crate::llm::event::{ChatEvent, FinishReason, ToolCallDelta, Usage};
use crate::llm::request::{ChatMessage, ChatRequest, ContentPart, Role, ToolChoice};
use crate::llm::LlmError;

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
    let mut turns: Vec<(&'static str, Vec<Value>)> = Vec::new();
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
        if blocks.is_empty() {
            continue;
        }
        match turns.last_mut() {
            Some((last, existing)) if *last == role => existing.extend(blocks),
            _ => turns.push((role, blocks)),
        }
    }
    turns
        .into_iter()
        .map(|(role, content)| json!({"role": role, "content": content}))
        .collect()
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

/// The events of a whole Converse answer, ending with `Finish` and `Usage`.
pub fn answer_events(text: &str) -> Result<Vec<ChatEvent>, LlmError> {
    let answer: Value = serde_json::from_str(text)
        .map_err(|_| LlmError::server_error("Bedrock answered with something that is not JSON"))?;
    let content = answer["output"]["message"]["content"]
        .as_array()
        .ok_or_else(|| LlmError::server_error("the Bedrock answer has no output message"))?;
    let mut events = Vec::new();
    let mut calls = 0;
    for block in content {
        if let Some(text) = block["text"].as_str().filter(|t| !t.is_empty()) {
            events.push(ChatEvent::TextDelta(text.to_owned()));
        }
        if let Some(call) = block.get("toolUse") {
            events.push(ChatEvent::ToolCallDelta(ToolCallDelta {
                index: calls,
                id: call["toolUseId"].as_str().map(str::to_owned),
                name: call["name"].as_str().map(str::to_owned),
                arguments: call
                    .get("input")
                    .map_or_else(|| "{}".to_owned(), Value::to_string),
            }));
            calls += 1;
        }
    }
    let finish = match answer["stopReason"].as_str().unwrap_or("end_turn") {
        "tool_use" => FinishReason::ToolCalls,
        "max_tokens" => FinishReason::Length,
        "content_filtered" | "guardrail_intervened" => FinishReason::ContentFilter,
        _ => FinishReason::Stop,
    };
    let count =
        |name: &str| u32::try_from(answer["usage"][name].as_u64().unwrap_or(0)).unwrap_or(u32::MAX);
    let (prompt, completion) = (count("inputTokens"), count("outputTokens"));
    events.push(ChatEvent::Finish(finish));
    events.push(ChatEvent::Usage(Usage {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: prompt.saturating_add(completion),
        cached_tokens: count("cacheReadInputTokens"),
        reasoning_tokens: 0,
        estimated: answer["usage"].is_null(),
    }));
    Ok(events)
}
