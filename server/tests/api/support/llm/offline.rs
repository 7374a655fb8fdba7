//! Requests and helpers for the offline model's tests.

use futures::StreamExt;
use serde_json::{json, Value};
use server::llm::{
    complete, ChatCompletion, ChatEvent, ChatMessage, ChatModel, ChatRequest, FunctionTool,
    OfflineModel,
};

/// A function tool with a test description.
pub(crate) fn tool(name: &str, parameters: Value) -> FunctionTool {
    FunctionTool {
        name: name.into(),
        description: Some(format!("{name} for tests")),
        parameters: Some(parameters),
        strict: None,
    }
}

/// Three tools: required and enum properties, no properties, an empty schema.
pub(crate) fn weather_tools() -> Vec<FunctionTool> {
    vec![
        tool(
            "get_weather",
            json!({"type": "object", "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
            "required": ["city", "unit"]}),
        ),
        tool("get_time", json!({"type": "object", "properties": {}})),
        tool("get_news", json!({})),
    ]
}

/// A gpt-4o request: a system message, `text` from the user, the weather tools.
pub(crate) fn asking(text: &str) -> ChatRequest {
    ChatRequest {
        model: "gpt-4o".into(),
        messages: vec![
            ChatMessage::system("You are terse."),
            ChatMessage::user(text),
        ],
        tools: weather_tools(),
        ..ChatRequest::default()
    }
}

/// The offline model's whole answer.
pub(crate) async fn run(request: ChatRequest) -> ChatCompletion {
    complete(&OfflineModel::new(), request).await.unwrap()
}

/// The offline model's events.
pub(crate) async fn events(request: ChatRequest) -> Vec<ChatEvent> {
    let stream = OfflineModel::new().stream(request).await.unwrap();
    stream.map(Result::unwrap).collect().await
}

/// The names of the called functions.
pub(crate) fn names(completion: &ChatCompletion) -> Vec<&str> {
    completion
        .tool_calls
        .iter()
        .map(|c| c.name.as_str())
        .collect()
}
