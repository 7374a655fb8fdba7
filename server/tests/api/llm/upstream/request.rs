//! What the upstream client sends: keys (api-key header, operator key, caller bearer,
//! Azure-style header), caller-chosen base URLs, and the rendered request body.

use crate::support::llm::{hello_request, hello_stream, model, FakeUpstream, Reply};

use serde_json::json;
use server::llm::config::AuthHeader;

use server::llm::{
    collect, ChatMessage, ChatModel, ChatRequest, FunctionTool, ResponseFormat, ToolChoice,
    UpstreamCredentials,
};

#[tokio::test]
async fn keys_follow_header_then_operator_then_caller_bearer() {
    let fake = FakeUpstream::start(vec![Reply::Sse(hello_stream())]).await;
    let mut request = hello_request();
    request.credentials = UpstreamCredentials {
        api_key: Some("sk-header".into()),
        caller_bearer: Some("sk-caller".into()),
        base_url: None,
        ..UpstreamCredentials::default()
    };
    collect(model(fake.config()).stream(request.clone()).await.unwrap())
        .await
        .unwrap();
    assert_eq!(
        fake.header(0, "authorization").as_deref(),
        Some("Bearer sk-header")
    );

    request.credentials.api_key = None;
    collect(model(fake.config()).stream(request.clone()).await.unwrap())
        .await
        .unwrap();
    assert_eq!(
        fake.header(1, "authorization").as_deref(),
        Some("Bearer sk-test")
    );

    let mut no_key = fake.config();
    no_key.api_key = None;
    collect(model(no_key.clone()).stream(request.clone()).await.unwrap())
        .await
        .unwrap();
    assert_eq!(
        fake.header(2, "authorization").as_deref(),
        Some("Bearer sk-caller")
    );

    request.credentials.caller_bearer = None;
    collect(model(no_key.clone()).stream(request.clone()).await.unwrap())
        .await
        .unwrap();
    assert_eq!(fake.header(3, "authorization"), None);

    let mut azure = fake.config();
    azure.auth_header = AuthHeader::Named("api-key".into());
    azure.base_url = format!("{}?api-version=2024-10-21", fake.base_url);
    collect(model(azure).stream(hello_request()).await.unwrap())
        .await
        .unwrap();
    assert_eq!(fake.header(4, "api-key").as_deref(), Some("sk-test"));
    assert_eq!(fake.header(4, "authorization"), None);
}

#[tokio::test]
async fn caller_chosen_upstream_urls_need_the_operators_permission() {
    let operator = FakeUpstream::start(vec![Reply::Sse(hello_stream())]).await;
    let caller = FakeUpstream::start(vec![Reply::Sse(hello_stream())]).await;
    let mut request = hello_request();
    request.credentials.base_url = Some(caller.base_url.clone());

    let refusing = model(operator.config());
    let error = refusing
        .check_credentials(&request.credentials)
        .unwrap_err();
    assert!(
        error.message.contains("--allow-caller-upstream-urls"),
        "{}",
        error.message
    );
    assert!(refusing.stream(request.clone()).await.is_err());
    assert_eq!((operator.hits(), caller.hits()), (0, 0));

    let mut allowing = operator.config();
    allowing.allow_caller_base_urls = true;
    collect(model(allowing).stream(request).await.unwrap())
        .await
        .unwrap();
    assert_eq!((operator.hits(), caller.hits()), (0, 1));
}

#[tokio::test]
async fn tools_formats_sampling_and_extra_params_reach_the_body() {
    let fake = FakeUpstream::start(vec![Reply::Sse(hello_stream())]).await;
    let mut extra = serde_json::Map::new();
    extra.insert("seed".into(), server::llm::request::parse_extra_param("7"));
    extra.insert("stream".into(), json!(false));
    extra.insert(
        "user".into(),
        server::llm::request::parse_extra_param("alice"),
    );
    let request = ChatRequest {
        model: "llama3".into(),
        messages: vec![
            ChatMessage::user("weather?"),
            ChatMessage::assistant_tool_calls(vec![server::llm::ToolCall {
                id: "call_1".into(),
                name: "get_weather".into(),
                arguments: "{}".into(),
            }]),
            ChatMessage::tool("call_1", "sunny"),
        ],
        tools: vec![FunctionTool {
            name: "get_weather".into(),
            description: Some("Weather now".into()),
            parameters: Some(json!({"type": "object", "properties": {}})),
            strict: Some(false),
        }],
        tool_choice: ToolChoice::Function("get_weather".into()),
        parallel_tool_calls: Some(false),
        response_format: ResponseFormat::JsonSchema {
            name: "answer".into(),
            description: None,
            schema: Some(json!({"type": "object"})),
            strict: Some(true),
        },
        temperature: Some(0.5),
        top_p: Some(1.0),
        max_completion_tokens: Some(64),
        extra,
        credentials: UpstreamCredentials::default(),
    };
    let mut config = fake.config();
    config.max_tokens_param = "max_tokens".into();
    collect(model(config).stream(request).await.unwrap())
        .await
        .unwrap();
    assert_eq!(
        fake.body(0),
        json!({
            "model": "llama3",
            "messages": [
                {"role": "user", "content": "weather?"},
                {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
                    "function": {"name": "get_weather", "arguments": "{}"}}]},
                {"role": "tool", "content": "sunny", "tool_call_id": "call_1"}
            ],
            "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather now",
                "parameters": {"type": "object", "properties": {}}, "strict": false}}],
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
            "parallel_tool_calls": false,
            "response_format": {"type": "json_schema", "json_schema": {"name": "answer", "schema": {"type": "object"}, "strict": true}},
            "temperature": 0.5,
            "top_p": 1.0,
            "max_tokens": 64,
            "stream": true,
            "stream_options": {"include_usage": true},
            "seed": 7,
            "user": "alice"
        })
    );
}

#[tokio::test]
async fn parameters_an_older_server_refuses_are_dropped_and_the_call_repeated() {
    let refuse = |param: &str| {
        let body = json!({"error": {"message": format!("Unrecognized request argument supplied: {param}"),
                                    "type": "invalid_request_error"}});
        Reply::Status(400, vec![], body.to_string())
    };
    let fake = FakeUpstream::start(vec![
        refuse("stream_options"),
        refuse("max_completion_tokens"),
        Reply::Sse(hello_stream()),
    ])
    .await;
    let mut request = hello_request();
    request.max_completion_tokens = Some(10);
    let completion = collect(model(fake.config()).stream(request).await.unwrap())
        .await
        .unwrap();
    assert_eq!(completion.text, "Hello world");
    assert_eq!(fake.hits(), 3);
    assert!(fake.body(0).get("stream_options").is_some());
    assert!(fake.body(1).get("stream_options").is_none());
    assert_eq!(fake.body(1)["max_completion_tokens"], 10);
    assert_eq!(fake.body(2)["max_tokens"], 10);
    assert!(fake.body(2).get("max_completion_tokens").is_none());
}

#[tokio::test]
async fn other_400s_are_not_repeated() {
    let body = json!({"error": {"message": "messages: too long", "type": "invalid_request_error"}});
    let fake = FakeUpstream::start(vec![Reply::Status(400, vec![], body.to_string())]).await;
    let error = model(fake.config())
        .stream(hello_request())
        .await
        .err()
        .unwrap();
    assert_eq!(
        (error.code(), error.message.as_str()),
        ("invalid_prompt", "messages: too long")
    );
    assert_eq!(fake.hits(), 1);
}
