//! Bedrock through Converse, signed with SigV4, against a fake answering as the
//! Converse API documents (<https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html>:
//! `output.message.content` with `text` and `toolUse` blocks, `stopReason`, `usage`;
//! errors as `{"message": ...}` with 429 ThrottlingException and 400
//! ValidationException). The run sends the seed service's README request: a bare
//! `meta.llama2-13b-chat-v1` with `LLM-PARAM-aws-access-key-id`,
//! `LLM-PARAM-aws-secret-access-key` and `LLM-PARAM-aws-region-name`; the test
//! recomputes the signature from what the fake received.

use std::sync::Arc;

use serde_json::{json, Value};
use server::llm::providers::sigv4::{self, AwsCredentials, SignedRequest};
use server::llm::providers::{RoutedModel, RoutingTable};

use crate::common::TestApp;
use crate::llm_routing::post_with;
use crate::llm_support::{FakeUpstream, Reply};

const AWS: [(&str, &str); 3] = [
    ("llm-param-aws-access-key-id", "AKIDEXAMPLE"),
    (
        "llm-param-aws-secret-access-key",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    ),
    ("llm-param-aws-region-name", "us-west-2"),
];

fn converse(content: Value, stop: &str) -> Reply {
    let body = json!({"output": {"message": {"role": "assistant", "content": content}}, "stopReason": stop,
        "usage": {"inputTokens": 30, "outputTokens": 12, "totalTokens": 42}, "metrics": {"latencyMs": 1275}});
    Reply::Status(200, vec![], body.to_string())
}

async fn bedrock_app(fake: &FakeUpstream) -> TestApp {
    let mut table = RoutingTable::built_in();
    table
        .apply_file(&format!(
            "[providers.bedrock]\nbase_url = \"{}\"\n",
            fake.base_url
        ))
        .unwrap();
    let unused = FakeUpstream::start(vec![Reply::Status(500, vec![], "{}".into())]).await;
    let model = RoutedModel::new(unused.config(), table).unwrap();
    let settings = server::Settings::new("sqlite::memory:");
    let store = server::store::connect(&settings.database_url)
        .await
        .unwrap();
    TestApp {
        router: server::app(server::AppState::with_parts(
            store,
            Arc::new(model),
            &settings,
        )),
    }
}

async fn settle(app: &TestApp, path: &str) -> Value {
    for _ in 0..500 {
        let run = app.get(path).await.json();
        if !["queued", "in_progress"].contains(&run["status"].as_str().unwrap()) {
            return run;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the run did not settle");
}

/// Starts a run on `model` with `headers` and waits for it.
async fn run(
    app: &TestApp,
    model: &str,
    tools: Value,
    headers: &[(&str, &str)],
) -> (Value, String) {
    let assistant = post_with(
        app,
        "/v1/assistants",
        json!({"model": model, "tools": tools}),
        &[],
    )
    .await;
    assert_eq!(assistant.status, 200, "{}", assistant.text);
    let body = json!({"assistant_id": assistant.json()["id"], "thread": {"messages": [{"role": "user", "content": "Weather in Seattle?"}]}});
    let run = post_with(app, "/v1/threads/runs", body, headers)
        .await
        .json();
    let path = format!(
        "/v1/threads/{}/runs/{}",
        run["thread_id"].as_str().unwrap(),
        run["id"].as_str().unwrap()
    );
    (settle(app, &path).await, path)
}

/// The Authorization header the fake should have received for request `n`.
fn expected_signature(fake: &FakeUpstream, n: usize) -> String {
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
    let call = json!([{"toolUse": {"toolUseId": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "name": "get_weather", "input": {"city": "Seattle"}}}]);
    let fake = FakeUpstream::start(vec![
        converse(call, "tool_use"),
        converse(json!([{"text": "It is 12C in Seattle."}]), "end_turn"),
    ])
    .await;
    let app = bedrock_app(&fake).await;
    let tool = json!([{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]);
    let (run, path) = run(&app, "meta.llama2-13b-chat-v1", tool, &AWS).await;
    assert_eq!(run["status"], "requires_action", "{run}");
    assert_eq!(run["model"], "meta.llama2-13b-chat-v1");
    assert_eq!(
        fake.paths.lock().unwrap()[0],
        "/v1/model/meta.llama2-13b-chat-v1/converse"
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
        converse(json!([{"text": "Hello from Llama."}]), "end_turn"),
    ])
    .await;
    let app = bedrock_app(&fake).await;
    let assistant = post_with(
        &app,
        "/v1/assistants",
        json!({"model": "bedrock/us.meta.llama3-2-1b-instruct-v1:0"}),
        &[],
    )
    .await
    .json();
    let body = json!({"assistant_id": assistant["id"], "stream": true, "thread": {"messages": [{"role": "user", "content": "Hi"}]}});
    let response = post_with(&app, "/v1/threads/runs", body, &AWS).await;
    assert!(
        response.text.contains("\"value\":\"Hello from Llama.\""),
        "{}",
        response.text
    );
    assert!(
        response.text.contains("event: thread.run.completed"),
        "{}",
        response.text
    );
    assert_eq!(fake.hits(), 2, "the throttled call was retried");
    assert_eq!(
        fake.paths.lock().unwrap()[1],
        "/v1/model/us.meta.llama3-2-1b-instruct-v1%3A0/converse"
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
