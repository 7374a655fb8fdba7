//! The OpenAI-compatible provider family (`mistral/`, `groq/`, `together_ai/`, ...,
//! `openai_compatible/NAME/`): a run with a function tool and a streamed run through a
//! fake answering in Chat Completions' streamed chunk format
//! (<https://platform.openai.com/docs/api-reference/chat-streaming>), with the operator's
//! key from the provider's variable and the request's `api-key` header winning over it.

use serde_json::json;

use super::support::{
    assert_tool_result, deltas, provider_app, streamed_run, submit_all, tool_turns, weather_run,
};
use crate::support::llm::{finish_chunk, hello_stream, FakeUpstream, Reply};

fn operator_key(name: &str) -> Option<String> {
    (name == "MISTRAL_API_KEY").then(|| "mistral-operator".to_owned())
}

/// Two parallel `get_weather` calls, their arguments in pieces.
fn tool_chunks() -> Vec<String> {
    let chunk = |delta: serde_json::Value| {
        let chunk = json!({"id": "cmpl-1", "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "finish_reason": null}]});
        format!("data: {chunk}\n\n")
    };
    let start = |index: u32, id: &str| {
        chunk(
            json!({"tool_calls": [{"index": index, "id": id, "type": "function",
            "function": {"name": "get_weather", "arguments": ""}}]}),
        )
    };
    let piece = |index: u32, text: &str| {
        chunk(json!({"tool_calls": [{"index": index, "function": {"arguments": text}}]}))
    };
    vec![
        start(0, "call_paris"),
        piece(0, "{\"location\": "),
        piece(0, "\"Paris\"}"),
        start(1, "call_oslo"),
        piece(1, "{\"location\": \"Oslo\"}"),
        finish_chunk("tool_calls"),
        "data: [DONE]\n\n".to_owned(),
    ]
}

#[tokio::test]
async fn a_run_with_a_function_tool_goes_through_an_openai_compatible_provider() {
    let fake =
        FakeUpstream::start(vec![Reply::Sse(tool_chunks()), Reply::Sse(hello_stream())]).await;
    let app = provider_app("mistral", &fake, operator_key).await;
    let model = "mistral/mistral-large-latest";
    let question = "Weather in Paris and Oslo?";
    let (run, calls) = weather_run(&app, model, question, &[]).await;
    assert_eq!(calls.len(), 2);
    assert_eq!(
        calls[0]["function"]["arguments"],
        "{\"location\": \"Paris\"}"
    );
    let body = fake.body(0);
    assert_eq!(body["model"], "mistral-large-latest");
    assert_eq!(body["tools"][0]["function"]["name"], "get_weather");
    assert_eq!(
        fake.header(0, "authorization").as_deref(),
        Some("Bearer mistral-operator")
    );
    let run = submit_all(&app, &run, "5C", &[]).await;
    assert_eq!(run["status"], "completed", "{run}");
    let (assistant, last) = tool_turns(&fake.body(1), 2);
    assert_eq!(assistant["tool_calls"][1]["id"], "call_oslo");
    assert_tool_result(&last, "call_oslo", "5C");
}

#[tokio::test]
async fn a_streamed_run_goes_through_an_openai_compatible_provider() {
    let fake = FakeUpstream::start(vec![Reply::Sse(hello_stream())]).await;
    let app = provider_app("mistral", &fake, operator_key).await;
    let key = [("api-key", "mistral-request")];
    let stream = streamed_run(&app, "mistral/open-mistral-nemo", &key).await;
    assert_eq!(deltas(&stream), 2, "{stream}");
    assert_eq!(fake.body(0)["stream"], true);
    assert_eq!(
        fake.header(0, "authorization").as_deref(),
        Some("Bearer mistral-request")
    );
}
