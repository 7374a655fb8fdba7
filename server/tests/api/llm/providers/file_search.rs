//! A file_search run through each provider family: the model (a fake speaking
//! Anthropic's, Cohere's or Gemini's documented stream format, Bedrock's ConverseStream
//! events, see the sibling `anthropic`, `cohere`, `gemini` and `bedrock`
//! modules for the sources, or Chat Completions chunks for the OpenAI-compatible
//! providers) calls the server's `file_search` function,
//! the server searches the assistant's vector store and hands the results back in the
//! provider's own tool-result shape, and the run completes with a file_search step.

use serde_json::{json, Value};
use server::llm::LlmMode;

use super::support::{assert_tool_result, post_with, tool_turns, typed_sse as sse, AWS};
use crate::support::llm::{finish_chunk, text_chunk, FakeUpstream, Reply};
use crate::support::vector_stores::VsApp;

const ARGUMENTS: &str = r#"{"queries": ["favorite food"]}"#;

/// Anthropic: one `tool_use` of `file_search`, then a text answer.
fn anthropic_script() -> Vec<Reply> {
    let start = json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant",
        "content": [], "model": "claude-3-5-haiku-latest", "usage": {"input_tokens": 50, "output_tokens": 1}}});
    let call = sse(&[
        start.clone(),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": "toolu_fs1", "name": "file_search", "input": {}}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": ARGUMENTS}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 12}}),
        json!({"type": "message_stop"}),
    ]);
    let answer = sse(&[
        start,
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Pizza."}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 3}}),
        json!({"type": "message_stop"}),
    ]);
    vec![Reply::Sse(call), Reply::Sse(answer)]
}

/// Cohere: one `tool-call-start` of `file_search`, then a text answer.
fn cohere_script() -> Vec<Reply> {
    let end = |reason: &str| {
        json!({"type": "message-end", "delta": {"finish_reason": reason,
        "usage": {"tokens": {"input_tokens": 50, "output_tokens": 5}}}})
    };
    let call = sse(&[
        json!({"type": "message-start", "id": "m1", "delta": {"message": {"role": "assistant"}}}),
        json!({"type": "tool-call-start", "index": 0, "delta": {"message": {"tool_calls": {"id": "file_search_1", "type": "function",
            "function": {"name": "file_search", "arguments": ""}}}}}),
        json!({"type": "tool-call-delta", "index": 0, "delta": {"message": {"tool_calls": {"function": {"arguments": ARGUMENTS}}}}}),
        json!({"type": "tool-call-end", "index": 0}),
        end("TOOL_CALL"),
    ]);
    let answer = sse(&[
        json!({"type": "message-start", "id": "m2", "delta": {"message": {"role": "assistant"}}}),
        json!({"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "Pizza."}}}}),
        end("COMPLETE"),
    ]);
    vec![Reply::Sse(call), Reply::Sse(answer)]
}

/// Gemini: one `functionCall` of `file_search`, then a text answer.
fn gemini_script() -> Vec<Reply> {
    let data = |chunk: Value| format!("data: {chunk}\r\n\r\n");
    let call = data(
        json!({"candidates": [{"content": {"role": "model", "parts": [{"functionCall":
        {"name": "file_search", "args": {"queries": ["favorite food"]}}}]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 50, "candidatesTokenCount": 5}}),
    );
    let answer = data(
        json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "Pizza."}]},
        "finishReason": "STOP", "index": 0}], "usageMetadata": {"promptTokenCount": 90, "candidatesTokenCount": 2}}),
    );
    vec![Reply::Sse(vec![call]), Reply::Sse(vec![answer])]
}

/// Bedrock: one ConverseStream answer calling `file_search`, then a text answer.
fn bedrock_script() -> Vec<Reply> {
    let call = ("tooluse_fs1", "file_search", &[ARGUMENTS][..]);
    vec![
        super::bedrock::converse_stream(&[], Some(call), "tool_use"),
        super::bedrock::converse_stream(&["Pizza."], None, "end_turn"),
    ]
}

/// OpenAI-compatible providers (`groq/`, `mistral/`, ...): one streamed `tool_calls`
/// chunk calling `file_search`, then a text answer, in Chat Completions' chunk format.
fn compatible_script() -> Vec<Reply> {
    let call = json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [{"index": 0,
        "delta": {"role": "assistant", "tool_calls": [{"index": 0, "id": "call_fs1", "type": "function",
        "function": {"name": "file_search", "arguments": ARGUMENTS}}]}, "finish_reason": null}]});
    let call = vec![
        format!("data: {call}\n\n"),
        finish_chunk("tool_calls"),
        "data: [DONE]\n\n".to_owned(),
    ];
    let answer = vec![
        text_chunk("Pizza."),
        finish_chunk("stop"),
        "data: [DONE]\n\n".to_owned(),
    ];
    vec![Reply::Sse(call), Reply::Sse(answer)]
}

/// The provider-key header of the runs (Bedrock's are the AWS credentials).
const KEY: [(&str, &str); 1] = [("api-key", "provider-key")];

async fn file_search_run(provider: &str, model: &str, script: Vec<Reply>) -> (Value, FakeUpstream) {
    file_search_run_with(provider, model, script, &KEY).await
}

async fn file_search_run_with(
    provider: &str,
    model: &str,
    script: Vec<Reply>,
    key: &[(&str, &str)],
) -> (Value, FakeUpstream) {
    let fake = FakeUpstream::start(script).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("providers.toml");
    std::fs::write(
        &path,
        format!("[providers.{provider}]\nbase_url = \"{}\"\n", fake.base_url),
    )
    .unwrap();
    let vs = VsApp::with(|mut settings| {
        settings.llm.mode = LlmMode::Upstream;
        settings.llm.llm_providers = Some(path.clone());
        settings
    })
    .await;
    let (store_id, _) = vs
        .store_with(&[(
            "favorite_foods.txt",
            "My favorite food is pizza with olives.",
        )])
        .await;
    let assistant = post_with(
        vs.app(),
        "/v1/assistants",
        json!({"model": model, "tools": [{"type": "file_search"}],
        "tool_resources": {"file_search": {"vector_store_ids": [store_id]}}}),
        key,
    )
    .await;
    assert_eq!(assistant.status, 200, "{}", assistant.text);
    let body = json!({"assistant_id": assistant.json()["id"],
        "thread": {"messages": [{"role": "user", "content": "What is my favorite food?"}]}});
    let run = post_with(vs.app(), "/v1/threads/runs", body, key)
        .await
        .json();
    let path = format!(
        "/v1/threads/{}/runs/{}",
        run["thread_id"].as_str().unwrap(),
        run["id"].as_str().unwrap()
    );
    let run = vs
        .poll(&path, |run| {
            !["queued", "in_progress"].contains(&run["status"].as_str().unwrap())
        })
        .await;
    let steps = vs.app().get(&format!("{path}/steps")).await.json();
    assert_eq!(run["status"], "completed", "{run}");
    let kinds: Vec<&str> = steps["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step_details"]["type"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"tool_calls"), "{steps}");
    let call = steps["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step_details"]["type"] == "tool_calls")
        .unwrap();
    assert_eq!(
        call["step_details"]["tool_calls"][0]["type"], "file_search",
        "{call}"
    );
    assert_eq!(fake.hits(), 2);
    (fake.body(1), fake)
}

#[tokio::test]
async fn a_file_search_run_goes_through_anthropic() {
    let (second, _) = file_search_run(
        "anthropic",
        "anthropic/claude-3-5-haiku-latest",
        anthropic_script(),
    )
    .await;
    let turns = second["messages"].as_array().unwrap();
    let result = &turns.last().unwrap()["content"][0];
    assert_eq!(result["type"], "tool_result");
    assert_eq!(result["tool_use_id"], "toolu_fs1");
    assert!(
        result["content"]
            .as_str()
            .unwrap()
            .contains("pizza with olives"),
        "{result}"
    );
}

#[tokio::test]
async fn a_file_search_run_goes_through_cohere() {
    let (second, fake) = file_search_run("cohere", "command-r-plus", cohere_script()).await;
    let (_, last) = tool_turns(&second, 1);
    assert_tool_result(&last, "file_search_1", "pizza with olives");
    assert_eq!(
        fake.header(0, "authorization").as_deref(),
        Some("Bearer provider-key")
    );
}

#[tokio::test]
async fn a_file_search_run_goes_through_gemini() {
    let (second, _) = file_search_run("gemini", "gemini/gemini-2.0-flash", gemini_script()).await;
    let last = second["contents"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    let response = &last["parts"][0]["functionResponse"];
    assert_eq!(response["name"], "file_search");
    assert!(
        response["response"]["content"]
            .as_str()
            .unwrap()
            .contains("pizza with olives"),
        "{last}"
    );
}

#[tokio::test]
async fn a_file_search_run_goes_through_bedrock() {
    let model = "bedrock/anthropic.claude-3-haiku-20240307-v1:0";
    let (second, fake) = file_search_run_with("bedrock", model, bedrock_script(), &AWS).await;
    let last = second["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    let result = &last["content"][0]["toolResult"];
    assert_eq!(result["toolUseId"], "tooluse_fs1");
    assert!(
        result["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("pizza with olives"),
        "{last}"
    );
    assert!(fake
        .header(1, "authorization")
        .unwrap()
        .starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"));
}

#[tokio::test]
async fn a_file_search_run_goes_through_an_openai_compatible_provider() {
    let model = "groq/llama-3.3-70b-versatile";
    let (second, fake) = file_search_run("groq", model, compatible_script()).await;
    assert_eq!(fake.body(0)["model"], "llama-3.3-70b-versatile");
    let (_, last) = tool_turns(&second, 1);
    assert_tool_result(&last, "call_fs1", "pizza with olives");
    assert_eq!(
        fake.header(1, "authorization").as_deref(),
        Some("Bearer provider-key")
    );
}
