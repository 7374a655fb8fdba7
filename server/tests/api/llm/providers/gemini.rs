//! The native Gemini adapter against a fake that speaks Gemini's documented wire
//! format. The chunks follow "Generating content" / `streamGenerateContent`
//! (<https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent>:
//! `data: GenerateContentResponse` events with `candidates[0].content.parts`,
//! `finishReason` on the last one and running `usageMetadata`), "Function calling"
//! (<https://ai.google.dev/gemini-api/docs/function-calling>: parallel `functionCall`
//! parts with `args` objects, answered by `functionResponse` parts) and the error
//! body of "Troubleshooting" (<https://ai.google.dev/gemini-api/docs/troubleshooting>:
//! 429 `RESOURCE_EXHAUSTED`, 400 `INVALID_ARGUMENT`).

use serde_json::{json, Value};
use server::llm::providers::{Dialect, NativeModel};
use server::llm::{collect, ChatModel, FinishReason, LlmErrorKind, UpstreamConfig};

use super::support::{deltas, no_keys, provider_app, streamed_run, submit_all, weather_run};
use crate::support::llm::{hello_request, FakeUpstream, Reply};

/// Gemini frames each chunk as `data: JSON` followed by a CRLF blank line.
fn sse(chunks: &[Value]) -> Vec<String> {
    chunks
        .iter()
        .map(|chunk| format!("data: {chunk}\r\n\r\n"))
        .collect()
}

fn usage(prompt: u32, candidates: u32) -> Value {
    json!({"promptTokenCount": prompt, "candidatesTokenCount": candidates,
        "totalTokenCount": prompt + candidates, "thoughtsTokenCount": 2})
}

fn hello_chunks() -> Vec<String> {
    sse(&[
        json!({"candidates": [{"content": {"parts": [{"text": "Hello"}], "role": "model"}, "index": 0}],
            "usageMetadata": usage(8, 1), "modelVersion": "gemini-2.0-flash"}),
        json!({"candidates": [{"content": {"parts": [{"text": " there"}], "role": "model"},
            "finishReason": "STOP", "index": 0}], "usageMetadata": usage(8, 12), "modelVersion": "gemini-2.0-flash"}),
    ])
}

fn call_chunks() -> Vec<String> {
    let call =
        |city: &str| json!({"functionCall": {"name": "get_weather", "args": {"location": city}}});
    sse(&[
        json!({"candidates": [{"content": {"parts": [call("Paris"), call("Oslo")], "role": "model"},
        "finishReason": "STOP", "index": 0}], "usageMetadata": usage(40, 20)}),
    ])
}

fn gemini(fake: &FakeUpstream) -> NativeModel {
    NativeModel::new(
        Dialect::Gemini,
        UpstreamConfig {
            api_key: Some("AIza-operator".into()),
            ..fake.config()
        },
    )
    .unwrap()
}

#[tokio::test]
async fn a_text_stream_becomes_deltas_finish_and_usage() {
    let fake = FakeUpstream::start(vec![Reply::Sse(hello_chunks())]).await;
    let mut request = hello_request();
    request.model = "gemini-2.0-flash".into();
    let completion = collect(gemini(&fake).stream(request).await.unwrap())
        .await
        .unwrap();
    assert_eq!(completion.text, "Hello there");
    assert_eq!(completion.finish_reason, FinishReason::Stop);
    let usage = completion.usage;
    assert_eq!(
        (
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.reasoning_tokens
        ),
        (8, 14, 2)
    );
    assert_eq!(
        fake.paths.lock().unwrap()[0],
        "/v1/models/gemini-2.0-flash:streamGenerateContent?alt=sse"
    );
    assert_eq!(
        fake.header(0, "x-goog-api-key").as_deref(),
        Some("AIza-operator")
    );
    assert_eq!(fake.header(0, "authorization"), None);
    let body = fake.body(0);
    assert_eq!(
        body["systemInstruction"],
        json!({"parts": [{"text": "Be brief."}]})
    );
    assert_eq!(
        body["contents"],
        json!([{"role": "user", "parts": [{"text": "Hello, world!"}]}])
    );
    assert!(body.get("model").is_none());
}

#[tokio::test]
async fn parallel_function_calls_get_ids_and_the_tool_calls_reason() {
    let fake = FakeUpstream::start(vec![Reply::Sse(call_chunks())]).await;
    let completion = collect(gemini(&fake).stream(hello_request()).await.unwrap())
        .await
        .unwrap();
    assert_eq!(completion.finish_reason, FinishReason::ToolCalls);
    assert_eq!(completion.tool_calls.len(), 2);
    assert_eq!(completion.tool_calls[1].arguments, r#"{"location":"Oslo"}"#);
    assert!(completion
        .tool_calls
        .iter()
        .all(|c| c.id.starts_with("call_")));
    assert_ne!(completion.tool_calls[0].id, completion.tool_calls[1].id);
}

#[tokio::test]
async fn quota_errors_are_retried_then_mapped() {
    let exhausted =
        json!({"error": {"code": 429, "message": "Resource has been exhausted (e.g. check quota).",
        "status": "RESOURCE_EXHAUSTED"}})
        .to_string();
    let fake = FakeUpstream::start(vec![
        Reply::Status(429, vec![], exhausted.clone()),
        Reply::Sse(hello_chunks()),
    ])
    .await;
    assert_eq!(
        collect(gemini(&fake).stream(hello_request()).await.unwrap())
            .await
            .unwrap()
            .text,
        "Hello there"
    );
    let fake = FakeUpstream::start(vec![Reply::Status(429, vec![], exhausted)]).await;
    let error = gemini(&fake).stream(hello_request()).await.err().unwrap();
    assert_eq!(
        (error.kind, error.message.as_str()),
        (
            LlmErrorKind::RateLimitExceeded,
            "Resource has been exhausted (e.g. check quota)."
        )
    );
    let invalid = json!({"error": {"code": 400, "message": "* GenerateContentRequest.contents: contents is not specified",
        "status": "INVALID_ARGUMENT"}}).to_string();
    let fake = FakeUpstream::start(vec![Reply::Status(400, vec![], invalid)]).await;
    let error = gemini(&fake).stream(hello_request()).await.err().unwrap();
    assert_eq!(error.kind, LlmErrorKind::InvalidPrompt);
    // A stream cut before any finish reason is a failure, not a short answer.
    let mut cut = hello_chunks();
    cut.truncate(1);
    let fake = FakeUpstream::start(vec![Reply::Sse(cut)]).await;
    let error = collect(gemini(&fake).stream(hello_request()).await.unwrap())
        .await
        .unwrap_err();
    assert_eq!(
        error.message,
        "Gemini closed the stream before the answer finished"
    );
}

#[tokio::test]
async fn a_run_with_a_function_tool_goes_through_gemini() {
    let fake =
        FakeUpstream::start(vec![Reply::Sse(call_chunks()), Reply::Sse(hello_chunks())]).await;
    let app = provider_app("gemini", &fake, no_keys).await;
    let key = [("api-key", "AIza-request")];
    let model = "gemini/gemini-2.0-flash";
    let question = "Weather in Paris and Oslo?";
    let (run, _) = weather_run(&app, model, question, &key).await;
    assert_eq!(
        submit_all(&app, &run, "5C", &key).await["status"],
        "completed"
    );
    let contents = fake.body(1)["contents"].as_array().unwrap().clone();
    let last = contents.last().unwrap();
    assert_eq!(
        last["parts"][1],
        json!({"functionResponse": {"name": "get_weather", "response": {"content": "5C"}}})
    );
    assert_eq!(
        contents[contents.len() - 2]["parts"][0]["functionCall"]["args"],
        json!({"location": "Paris"})
    );
    assert_eq!(
        fake.header(1, "x-goog-api-key").as_deref(),
        Some("AIza-request")
    );
}

#[tokio::test]
async fn a_streamed_run_with_a_bare_gemini_name_goes_through_gemini() {
    let fake = FakeUpstream::start(vec![Reply::Sse(hello_chunks())]).await;
    let app = provider_app("gemini", &fake, no_keys).await;
    let stream = streamed_run(&app, "gemini-1.5-flash", &[("api-key", "AIza-request")]).await;
    assert_eq!(deltas(&stream), 2, "{stream}");
    assert_eq!(
        fake.paths.lock().unwrap()[0],
        "/v1/models/gemini-1.5-flash:streamGenerateContent?alt=sse"
    );
}
