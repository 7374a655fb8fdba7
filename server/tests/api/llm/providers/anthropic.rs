//! The native Anthropic Messages adapter against a fake that speaks Anthropic's
//! documented wire format. The streams follow the examples of "Streaming Messages"
//! (<https://docs.anthropic.com/en/docs/build-with-claude/streaming>: a basic text
//! stream, and "Streaming request with tool use" with `input_json_delta` pieces), the
//! error bodies and statuses "Errors" (<https://docs.anthropic.com/en/api/errors>: 429
//! `rate_limit_error`, 529 `overloaded_error`, 400 `invalid_request_error`, an `error`
//! event mid-stream), and the request shape "Messages" (<https://docs.anthropic.com/en/api/messages>).

use futures::StreamExt;
use serde_json::{json, Value};
use server::llm::providers::{Dialect, NativeModel};
use server::llm::{collect, ChatModel, FinishReason, FunctionTool, LlmErrorKind, UpstreamConfig};

use super::support::{
    deltas, provider_app, streamed_run, submit_all, typed_sse as sse, weather_run,
};
use crate::support::llm::{hello_request, FakeUpstream, Reply};

fn message_start(input_tokens: u32) -> Value {
    json!({"type": "message_start", "message": {"id": "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY",
        "type": "message", "role": "assistant", "content": [], "model": "claude-3-5-sonnet-20241022",
        "stop_reason": null, "stop_sequence": null,
        "usage": {"input_tokens": input_tokens, "cache_read_input_tokens": 3, "output_tokens": 1}}})
}

/// The documented basic stream: one text block, `end_turn`.
fn hello_events() -> Vec<String> {
    sse(&[
        message_start(25),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "ping"}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "!"}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": 15}}),
        json!({"type": "message_stop"}),
    ])
}

/// Text, then two parallel `tool_use` blocks whose input arrives in pieces.
fn tool_events() -> Vec<String> {
    let tool = |index: u32, id: &str| {
        json!({"type": "content_block_start", "index": index,
        "content_block": {"type": "tool_use", "id": id, "name": "get_weather", "input": {}}})
    };
    let piece = |index: u32, json_part: &str| {
        json!({"type": "content_block_delta", "index": index,
        "delta": {"type": "input_json_delta", "partial_json": json_part}})
    };
    sse(&[
        message_start(472),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Okay, let's check the weather:"}}),
        json!({"type": "content_block_stop", "index": 0}),
        tool(1, "toolu_01T1x1fJ34qAmk2tNTrN7Up6"),
        piece(1, ""),
        piece(1, "{\"location\":"),
        piece(1, " \"San Fra"),
        piece(1, "ncisco, CA\"}"),
        json!({"type": "content_block_stop", "index": 1}),
        tool(2, "toolu_02Bx7kQ1jJ34qAmk2tNTrN7U"),
        piece(2, "{\"location\": \"Oslo\"}"),
        json!({"type": "content_block_stop", "index": 2}),
        json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null}, "usage": {"output_tokens": 89}}),
        json!({"type": "message_stop"}),
    ])
}

fn error_body(kind: &str, message: &str) -> String {
    json!({"type": "error", "error": {"type": kind, "message": message}}).to_string()
}

fn anthropic(fake: &FakeUpstream) -> NativeModel {
    NativeModel::new(
        Dialect::Anthropic,
        UpstreamConfig {
            api_key: Some("sk-ant-operator".into()),
            ..fake.config()
        },
    )
    .unwrap()
}

fn weather_function() -> FunctionTool {
    FunctionTool {
        name: "get_weather".into(),
        description: Some("Current weather of a city".into()),
        parameters: Some(
            json!({"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}),
        ),
        strict: None,
    }
}

#[tokio::test]
async fn a_text_stream_becomes_deltas_finish_and_usage() {
    let fake = FakeUpstream::start(vec![Reply::Sse(hello_events())]).await;
    let mut request = hello_request();
    request.model = "claude-3-5-sonnet-20241022".into();
    let events: Vec<_> = anthropic(&fake)
        .stream(request.clone())
        .await
        .unwrap()
        .collect()
        .await;
    let completion = collect(futures::stream::iter(events).boxed())
        .await
        .unwrap();
    assert_eq!(completion.text, "Hello!");
    assert_eq!(completion.finish_reason, FinishReason::Stop);
    assert_eq!(
        (
            completion.usage.prompt_tokens,
            completion.usage.completion_tokens
        ),
        (28, 15)
    );
    assert_eq!(completion.usage.cached_tokens, 3);
    assert!(!completion.usage.estimated);
    assert_eq!(
        fake.header(0, "x-api-key").as_deref(),
        Some("sk-ant-operator")
    );
    assert_eq!(
        fake.header(0, "anthropic-version").as_deref(),
        Some("2023-06-01")
    );
    assert_eq!(fake.header(0, "authorization"), None);
    let body = fake.body(0);
    assert_eq!(body["system"], "Be brief.");
    assert_eq!(
        body["messages"],
        json!([{"role": "user", "content": [{"type": "text", "text": "Hello, world!"}]}])
    );
    assert_eq!(body["stream"], true);
    assert_eq!(body["max_tokens"], 4096);
}

#[tokio::test]
async fn parallel_tool_use_blocks_become_numbered_tool_calls() {
    let fake = FakeUpstream::start(vec![Reply::Sse(tool_events())]).await;
    let mut request = hello_request();
    request.tools = vec![weather_function()];
    let completion = collect(anthropic(&fake).stream(request).await.unwrap())
        .await
        .unwrap();
    assert_eq!(completion.finish_reason, FinishReason::ToolCalls);
    assert_eq!(completion.text, "Okay, let's check the weather:");
    let calls: Vec<_> = completion
        .tool_calls
        .iter()
        .map(|c| (c.id.as_str(), c.name.as_str(), c.arguments.as_str()))
        .collect();
    assert_eq!(
        calls,
        [
            (
                "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
                "get_weather",
                "{\"location\": \"San Francisco, CA\"}"
            ),
            (
                "toolu_02Bx7kQ1jJ34qAmk2tNTrN7U",
                "get_weather",
                "{\"location\": \"Oslo\"}"
            ),
        ]
    );
    assert_eq!(
        fake.body(0)["tools"][0]["input_schema"]["required"],
        json!(["location"])
    );
    assert_eq!(fake.body(0)["tool_choice"], json!({"type": "auto"}));
}

#[tokio::test]
async fn rate_limits_and_overload_are_retried_then_errors_mapped() {
    let fake = FakeUpstream::start(vec![
        Reply::Status(
            429,
            vec![("retry-after", "0".into())],
            error_body(
                "rate_limit_error",
                "Number of request tokens has exceeded your per-minute rate limit",
            ),
        ),
        Reply::Status(529, vec![], error_body("overloaded_error", "Overloaded")),
        Reply::Sse(hello_events()),
    ])
    .await;
    let completion = collect(anthropic(&fake).stream(hello_request()).await.unwrap())
        .await
        .unwrap();
    assert_eq!(completion.text, "Hello!");
    assert_eq!(fake.hits(), 3);

    let fake = FakeUpstream::start(vec![Reply::Status(
        429,
        vec![],
        error_body("rate_limit_error", "Slow down"),
    )])
    .await;
    let error = anthropic(&fake)
        .stream(hello_request())
        .await
        .err()
        .unwrap();
    assert_eq!(error.kind, LlmErrorKind::RateLimitExceeded);
    assert_eq!(fake.hits(), 3, "two retries, then the 429 is final");

    let fake = FakeUpstream::start(vec![Reply::Status(
        400,
        vec![],
        error_body("invalid_request_error", "max_tokens: Field required"),
    )])
    .await;
    let error = anthropic(&fake)
        .stream(hello_request())
        .await
        .err()
        .unwrap();
    assert_eq!(
        (error.kind, error.message.as_str()),
        (LlmErrorKind::InvalidPrompt, "max_tokens: Field required")
    );
    assert_eq!(fake.hits(), 1);

    let fake = FakeUpstream::start(vec![Reply::Status(
        401,
        vec![],
        error_body("authentication_error", "invalid x-api-key"),
    )])
    .await;
    let error = anthropic(&fake)
        .stream(hello_request())
        .await
        .err()
        .unwrap();
    assert_eq!(error.kind, LlmErrorKind::ServerError);
    assert!(
        !error.message.contains("sk-ant-operator"),
        "{}",
        error.message
    );

    // An `error` event mid-stream ends the stream with that error.
    let mut events = hello_events();
    events.truncate(4);
    events.extend(sse(&[
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
    ]));
    let fake = FakeUpstream::start(vec![Reply::Sse(events)]).await;
    let items: Vec<_> = anthropic(&fake)
        .stream(hello_request())
        .await
        .unwrap()
        .collect()
        .await;
    assert!(items[0].is_ok());
    let error = items.last().unwrap().as_ref().unwrap_err();
    assert_eq!(
        error.message,
        "Anthropic failed (overloaded_error): Overloaded"
    );
}

fn operator_key(name: &str) -> Option<String> {
    (name == "ANTHROPIC_API_KEY").then(|| "sk-ant-operator".to_owned())
}

#[tokio::test]
async fn a_run_with_a_function_tool_goes_through_anthropic() {
    let fake =
        FakeUpstream::start(vec![Reply::Sse(tool_events()), Reply::Sse(hello_events())]).await;
    let app = provider_app("anthropic", &fake, operator_key).await;
    let model = "anthropic/claude-3-5-sonnet-20241022";
    let question = "Weather in San Francisco and Oslo?";
    let (run, calls) = weather_run(&app, model, question, &[]).await;
    assert_eq!(calls.len(), 2);
    assert_eq!(
        calls[1]["function"]["arguments"],
        "{\"location\": \"Oslo\"}"
    );
    assert_eq!(fake.body(0)["model"], "claude-3-5-sonnet-20241022");
    let run = submit_all(&app, &run, "12C", &[]).await;
    assert_eq!(run["status"], "completed", "{run}");
    let second = fake.body(1);
    let turns = second["messages"].as_array().unwrap();
    let last = turns.last().unwrap();
    assert_eq!(last["role"], "user");
    assert_eq!(last["content"][0]["type"], "tool_result");
    assert_eq!(last["content"][1]["tool_use_id"], calls[1]["id"]);
    assert_eq!(turns[turns.len() - 2]["content"][2]["type"], "tool_use");
}

#[tokio::test]
async fn a_streamed_run_goes_through_anthropic() {
    let fake = FakeUpstream::start(vec![Reply::Sse(hello_events())]).await;
    let app = provider_app("anthropic", &fake, operator_key).await;
    let key = [("api-key", "sk-ant-request")];
    let stream = streamed_run(&app, "claude-3-5-sonnet-20241022", &key).await;
    assert_eq!(deltas(&stream), 2, "{stream}");
    assert!(stream.contains("\"value\":\"Hello\""), "{stream}");
    assert_eq!(
        fake.header(0, "x-api-key").as_deref(),
        Some("sk-ant-request")
    );
    assert_eq!(fake.header(0, "authorization"), None);
}
