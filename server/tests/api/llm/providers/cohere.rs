//! The native Cohere v2 chat adapter against a fake that speaks Cohere's documented
//! wire format. The events follow "A Guide to Streaming Responses"
//! (<https://docs.cohere.com/docs/streaming>: `message-start`, `content-start`,
//! `content-delta` with `delta.message.content.text`, `content-end`, `message-end` with
//! `finish_reason` and `usage.billed_units`/`usage.tokens`) and "Streaming for tool use"
//! (<https://docs.cohere.com/docs/tool-use-streaming>: `tool-plan-delta`,
//! `tool-call-start` with `delta.message.tool_calls.{id,type,function.name}`,
//! `tool-call-delta` with `function.arguments` pieces, `tool-call-end`, finish
//! `TOOL_CALL`); error bodies are `{"message": ...}` (<https://docs.cohere.com/reference/errors>).
//! The run tests send the seed service's README request: `model="cohere/command-r-plus"`
//! with the Cohere key in an `api-key` header.

use serde_json::{json, Value};
use server::llm::providers::{Dialect, NativeModel};
use server::llm::{collect, ChatModel, FinishReason, LlmErrorKind, UpstreamConfig};

use super::support::{
    assert_tool_result, deltas, no_keys, provider_app, streamed_run, submit_all, tool_turns,
    typed_sse as sse, weather_run,
};
use crate::support::llm::{hello_request, FakeUpstream, Reply};

fn message_end(reason: &str, input: u32, output: u32) -> Value {
    json!({"type": "message-end", "delta": {"finish_reason": reason, "usage": {
        "billed_units": {"input_tokens": input, "output_tokens": output},
        "tokens": {"input_tokens": input + 200, "output_tokens": output}}}})
}

fn text(piece: &str) -> Value {
    json!({"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": piece}}}})
}

fn hello_events() -> Vec<String> {
    sse(&[
        json!({"type": "message-start", "id": "29f14a5a-11de-4cae-9800-25e4747408ea",
            "delta": {"message": {"role": "assistant", "content": [], "tool_plan": "", "tool_calls": [], "citations": []}}}),
        json!({"type": "content-start", "index": 0, "delta": {"message": {"content": {"type": "text", "text": ""}}}}),
        text("A large"),
        text(" language model"),
        json!({"type": "content-end", "index": 0}),
        message_end("COMPLETE", 7, 4),
    ])
}

fn tool_events() -> Vec<String> {
    let start = |index: u32, id: &str| {
        json!({"type": "tool-call-start", "index": index, "delta": {"message":
        {"tool_calls": {"id": id, "type": "function", "function": {"name": "get_weather", "arguments": ""}}}}})
    };
    let piece = |index: u32, part: &str| {
        json!({"type": "tool-call-delta", "index": index, "delta": {"message":
        {"tool_calls": {"function": {"arguments": part}}}}})
    };
    sse(&[
        json!({"type": "message-start", "id": "m1", "delta": {"message": {"role": "assistant"}}}),
        json!({"type": "tool-plan-delta", "delta": {"message": {"tool_plan": "I will look up the weather."}}}),
        start(0, "get_weather_1byjy32y4hvq"),
        piece(0, "{\n    \"location\": \""),
        piece(0, "Toronto\"\n}"),
        json!({"type": "tool-call-end", "index": 0}),
        start(1, "get_weather_2cmwtaaqbxpq"),
        piece(1, "{\"location\": \"Oslo\"}"),
        json!({"type": "tool-call-end", "index": 1}),
        message_end("TOOL_CALL", 37, 28),
    ])
}

fn cohere(fake: &FakeUpstream) -> NativeModel {
    NativeModel::new(
        Dialect::Cohere,
        UpstreamConfig {
            api_key: Some("co-operator".into()),
            ..fake.config()
        },
    )
    .unwrap()
}

#[tokio::test]
async fn a_text_stream_becomes_deltas_finish_and_usage() {
    let fake = FakeUpstream::start(vec![Reply::Sse(hello_events())]).await;
    let mut request = hello_request();
    request.model = "command-r-plus".into();
    request.top_p = Some(0.9);
    let completion = collect(cohere(&fake).stream(request).await.unwrap())
        .await
        .unwrap();
    assert_eq!(completion.text, "A large language model");
    assert_eq!(completion.finish_reason, FinishReason::Stop);
    assert_eq!(
        (
            completion.usage.prompt_tokens,
            completion.usage.completion_tokens
        ),
        (207, 4)
    );
    assert!(!completion.usage.estimated);
    assert_eq!(
        fake.header(0, "authorization").as_deref(),
        Some("Bearer co-operator")
    );
    let body = fake.body(0);
    assert_eq!(body["model"], "command-r-plus");
    assert_eq!(
        body["messages"][0],
        json!({"role": "system", "content": "Be brief."})
    );
    assert_eq!(
        body["messages"][1],
        json!({"role": "user", "content": [{"type": "text", "text": "Hello, world!"}]})
    );
    assert_eq!(
        (body["p"].clone(), body["stream"].clone()),
        (json!(0.9), json!(true))
    );
}

#[tokio::test]
async fn parallel_tool_calls_arrive_by_index() {
    let fake = FakeUpstream::start(vec![Reply::Sse(tool_events())]).await;
    let completion = collect(cohere(&fake).stream(hello_request()).await.unwrap())
        .await
        .unwrap();
    assert_eq!(completion.finish_reason, FinishReason::ToolCalls);
    assert_eq!(completion.text, "", "the tool plan is not answer text");
    let calls: Vec<_> = completion
        .tool_calls
        .iter()
        .map(|c| (c.id.as_str(), c.arguments.as_str()))
        .collect();
    assert_eq!(
        calls,
        [
            (
                "get_weather_1byjy32y4hvq",
                "{\n    \"location\": \"Toronto\"\n}"
            ),
            ("get_weather_2cmwtaaqbxpq", "{\"location\": \"Oslo\"}"),
        ]
    );
}

#[tokio::test]
async fn rate_limits_are_retried_and_errors_mapped() {
    let limited =
        json!({"message": "You are using a Trial key, which is limited to 10 API calls / minute."})
            .to_string();
    let fake = FakeUpstream::start(vec![
        Reply::Status(429, vec![], limited.clone()),
        Reply::Sse(hello_events()),
    ])
    .await;
    let completion = collect(cohere(&fake).stream(hello_request()).await.unwrap())
        .await
        .unwrap();
    assert_eq!(completion.text, "A large language model");
    assert_eq!(fake.hits(), 2);

    let fake = FakeUpstream::start(vec![Reply::Status(429, vec![], limited)]).await;
    let error = cohere(&fake).stream(hello_request()).await.err().unwrap();
    assert_eq!(error.kind, LlmErrorKind::RateLimitExceeded);
    assert!(
        error.message.starts_with("You are using a Trial key"),
        "{}",
        error.message
    );

    let invalid =
        json!({"message": "invalid request: message must be at least 1 token long"}).to_string();
    let fake = FakeUpstream::start(vec![Reply::Status(400, vec![], invalid)]).await;
    let error = cohere(&fake).stream(hello_request()).await.err().unwrap();
    assert_eq!(
        (error.kind, error.message.as_str()),
        (
            LlmErrorKind::InvalidPrompt,
            "invalid request: message must be at least 1 token long"
        )
    );

    let mut events = hello_events();
    events.truncate(3);
    events.extend(sse(&[json!({"type": "message-end", "delta": {"finish_reason": "ERROR", "error": "internal error"}})]));
    let fake = FakeUpstream::start(vec![Reply::Sse(events)]).await;
    let error = collect(cohere(&fake).stream(hello_request()).await.unwrap())
        .await
        .unwrap_err();
    assert_eq!(error.message, "Cohere failed: internal error");
}

#[tokio::test]
async fn a_run_with_a_function_tool_goes_through_cohere_with_the_api_key_header() {
    let fake =
        FakeUpstream::start(vec![Reply::Sse(tool_events()), Reply::Sse(hello_events())]).await;
    let app = provider_app("cohere", &fake, no_keys).await;
    let key = [("api-key", "co-from-header")];
    let question = "Weather in Toronto and Oslo?";
    let model = "cohere/command-r-plus";
    let (run, calls) = weather_run(&app, model, question, &key).await;
    assert_eq!(calls.len(), 2);
    assert_eq!(fake.body(0)["model"], "command-r-plus");
    assert_eq!(
        fake.header(0, "authorization").as_deref(),
        Some("Bearer co-from-header")
    );
    let run = submit_all(&app, &run, "5C", &key).await;
    assert_eq!(run["status"], "completed", "{run}");
    let (assistant, last) = tool_turns(&fake.body(1), 2);
    assert_eq!(assistant["tool_calls"][1]["id"], calls[1]["id"]);
    assert_tool_result(&last, calls[1]["id"].as_str().unwrap(), "5C");
    assert_eq!(
        fake.header(1, "authorization").as_deref(),
        Some("Bearer co-from-header")
    );
}

#[tokio::test]
async fn a_streamed_run_with_a_bare_command_name_goes_through_cohere() {
    let fake = FakeUpstream::start(vec![Reply::Sse(hello_events())]).await;
    let app = provider_app("cohere", &fake, no_keys).await;
    let stream = streamed_run(&app, "command-r", &[("api-key", "co-from-header")]).await;
    assert_eq!(deltas(&stream), 2, "{stream}");
    assert!(stream.contains("\"value\":\" language model\""), "{stream}");
    assert_eq!(fake.body(0)["model"], "command-r");
}
