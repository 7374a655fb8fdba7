//! Bedrock through ConverseStream, signed with SigV4, against a fake answering as the
//! API documents (<https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html>:
//! `messageStart`, `contentBlockStart` with `start.toolUse`, `contentBlockDelta` with
//! `delta.text` or `delta.toolUse.input`, `contentBlockStop`, `messageStop` with
//! `stopReason`, `metadata` with `usage`, in the `application/vnd.amazon.eventstream`
//! framing; exceptions as `:message-type: exception` messages; HTTP errors as
//! `{"message": ...}` with 429 ThrottlingException). The run sends the seed service's README request: a bare
//! `meta.llama2-13b-chat-v1` with `LLM-PARAM-aws-access-key-id`,
//! `LLM-PARAM-aws-secret-access-key` and `LLM-PARAM-aws-region-name`; the test
//! recomputes the signature from what the fake received.

use serde_json::{json, Value};
use server::llm::providers::bedrock::eventstream;
use server::llm::providers::sigv4::{self, AwsCredentials, SignedRequest};

use super::support::{deltas, no_keys, post_with, provider_app, run_on, settle, streamed_run, AWS};
use crate::support::llm::{FakeUpstream, Reply};
use testkit::TestApp;

/// One event-stream message with string headers and a JSON payload.
pub(crate) fn frame(headers: &[(&str, &str)], payload: &Value) -> Vec<u8> {
    eventstream::encode(headers, payload.to_string().as_bytes())
}

fn event(kind: &str, payload: Value) -> Vec<u8> {
    eventstream::encode_event(kind, &payload)
}

/// A ConverseStream answer: text pieces or one tool use, then stop and usage; each
/// message goes out in two network chunks to exercise reassembly.
pub(crate) fn converse_stream(
    texts: &[&str],
    tool: Option<(&str, &str, &[&str])>,
    stop: &str,
) -> Reply {
    let mut messages = vec![event("messageStart", json!({"role": "assistant"}))];
    for text in texts {
        messages.push(event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": text}}),
        ));
    }
    if let Some((id, name, pieces)) = tool {
        messages.push(event(
            "contentBlockStart",
            json!({"contentBlockIndex": 1, "start": {"toolUse": {"toolUseId": id, "name": name}}}),
        ));
        for piece in pieces {
            messages.push(event(
                "contentBlockDelta",
                json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": piece}}}),
            ));
        }
        messages.push(event("contentBlockStop", json!({"contentBlockIndex": 1})));
    }
    messages.push(event("messageStop", json!({"stopReason": stop})));
    messages.push(event("metadata", json!({"usage": {"inputTokens": 30, "outputTokens": 12, "totalTokens": 42}, "metrics": {"latencyMs": 1275}})));
    let chunks = messages
        .into_iter()
        .flat_map(|message| {
            let (head, tail) = message.split_at(message.len() / 2);
            [head.to_vec(), tail.to_vec()]
        })
        .collect();
    Reply::Bytes("application/vnd.amazon.eventstream", chunks)
}

/// Starts a run on `model` with `headers` and waits for it.
async fn run(
    app: &TestApp,
    model: &str,
    tools: Value,
    headers: &[(&str, &str)],
) -> (Value, String) {
    run_on(app, model, tools, "Weather in Seattle?", headers).await
}

async fn bedrock_app(fake: &FakeUpstream) -> TestApp {
    provider_app("bedrock", fake, no_keys).await
}

/// The Authorization header the fake should have received for request `n`.
pub(crate) fn expected_signature(fake: &FakeUpstream, n: usize) -> String {
    let credentials = AwsCredentials {
        access_key_id: AWS[0].1.into(),
        secret_access_key: AWS[1].1.into(),
        session_token: None,
        region: "us-west-2".into(),
    };
    let payload = serde_json::to_vec(&fake.body(n)).unwrap();
    let path = fake.paths.lock().unwrap()[n].clone();
    let request = SignedRequest {
        method: "POST",
        path: &path,
        query: "",
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("host".into(), fake.header(n, "host").unwrap()),
        ],
        payload: &payload,
    };
    let date = fake.header(n, "x-amz-date").unwrap();
    sigv4::sign(&request, &credentials, "bedrock", &date)
        .pop()
        .unwrap()
        .1
}

#[tokio::test]
async fn a_run_with_a_function_tool_goes_through_bedrock_converse_signed() {
    let call = (
        "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q",
        "get_weather",
        &["{\"city\":", " \"Seattle\"}"][..],
    );
    let fake = FakeUpstream::start(vec![
        converse_stream(&["Let me check."], Some(call), "tool_use"),
        converse_stream(&["It is 12C ", "in Seattle."], None, "end_turn"),
    ])
    .await;
    let app = bedrock_app(&fake).await;
    let tool = json!([{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]);
    let (run, path) = run(&app, "meta.llama2-13b-chat-v1", tool, &AWS).await;
    assert_eq!(run["status"], "requires_action", "{run}");
    assert_eq!(run["model"], "meta.llama2-13b-chat-v1");
    assert_eq!(
        fake.paths.lock().unwrap()[0],
        "/v1/model/meta.llama2-13b-chat-v1/converse-stream"
    );
    let authorization = fake.header(0, "authorization").unwrap();
    assert!(
        authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"),
        "{authorization}"
    );
    assert!(authorization.contains(
        "/us-west-2/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature="
    ));
    assert_eq!(authorization, expected_signature(&fake, 0));
    let body = fake.body(0);
    assert_eq!(
        body["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"]["properties"]["city"]
            ["type"],
        "string"
    );
    assert!(
        !body.to_string().contains("wJalrXUtnFEMI"),
        "secrets never go in the body"
    );
    let calls = run["required_action"]["submit_tool_outputs"]["tool_calls"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(calls[0]["id"], "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q");
    let outputs = json!({"tool_outputs": [{"tool_call_id": calls[0]["id"], "output": "12C"}]});
    let submitted = post_with(&app, &format!("{path}/submit_tool_outputs"), outputs, &AWS).await;
    assert_eq!(submitted.status, 200, "{}", submitted.text);
    let done = settle(&app, &path).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["usage"]["prompt_tokens"], 60);
    let messages = fake.body(1)["messages"].as_array().unwrap().clone();
    assert_eq!(
        messages.last().unwrap()["content"][0],
        json!({"toolResult": {"toolUseId": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "content": [{"text": "12C"}]}})
    );
    assert_eq!(
        fake.header(1, "authorization").unwrap(),
        expected_signature(&fake, 1)
    );
}

#[tokio::test]
async fn a_streamed_bedrock_run_and_its_failures() {
    let fake = FakeUpstream::start(vec![
        Reply::Status(
            429,
            vec![],
            json!({"message": "Too many requests, please wait before trying again."}).to_string(),
        ),
        converse_stream(&["Hello ", "from Llama."], None, "end_turn"),
    ])
    .await;
    let app = bedrock_app(&fake).await;
    let stream = streamed_run(&app, "bedrock/us.meta.llama3-2-1b-instruct-v1:0", &AWS).await;
    assert_eq!(deltas(&stream), 2, "{stream}");
    assert!(stream.contains("\"value\":\"from Llama.\""), "{stream}");
    assert_eq!(fake.hits(), 2, "the throttled call was retried");
    assert_eq!(
        fake.paths.lock().unwrap()[1],
        "/v1/model/us.meta.llama3-2-1b-instruct-v1%3A0/converse-stream"
    );
    assert_eq!(
        fake.header(1, "authorization").unwrap(),
        expected_signature(&fake, 1)
    );

    // Without credentials the run fails saying what to send; nothing is called.
    let (run, _) = run(&app, "amazon.titan-text-express-v1", json!([]), &[]).await;
    assert_eq!(run["status"], "failed");
    let message = run["last_error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("no AWS credentials for Bedrock"),
        "{message}"
    );
    assert_eq!(fake.hits(), 2);
}

#[tokio::test]
async fn an_exception_mid_stream_fails_the_run_keeping_the_text() {
    let mut chunks = vec![
        event("messageStart", json!({"role": "assistant"})),
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": "Partial"}}),
        ),
    ];
    chunks.push(frame(
        &[
            (":exception-type", "modelStreamErrorException"),
            (":content-type", "application/json"),
            (":message-type", "exception"),
        ],
        &json!({"message": "The model stream failed."}),
    ));
    let fake = FakeUpstream::start(vec![Reply::Bytes(
        "application/vnd.amazon.eventstream",
        chunks,
    )])
    .await;
    let app = bedrock_app(&fake).await;
    let (run, _) = run(&app, "meta.llama3-8b-instruct-v1:0", json!([]), &AWS).await;
    assert_eq!(run["status"], "failed", "{run}");
    assert_eq!(
        run["last_error"]["message"],
        "Bedrock failed (modelStreamErrorException): The model stream failed."
    );
    let thread_id = run["thread_id"].as_str().unwrap();
    let messages = app
        .get(&format!("/v1/threads/{thread_id}/messages"))
        .await
        .json();
    assert_eq!(
        messages["data"][0]["content"][0]["text"]["value"], "Partial",
        "{messages}"
    );
}
