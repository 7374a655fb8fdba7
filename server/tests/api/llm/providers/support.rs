//! What the provider tests share: an app whose model routes through a routing table
//! (providers pointed at fakes with a providers-file snippet), POSTs with extra headers
//! (`api-key`, `LLM-PARAM-*`, `astra-api-token`), a run started and awaited, a streamed
//! run's deltas, and server-sent events framed `event: TYPE` / `data: JSON` as Anthropic
//! and Cohere send them.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request};
use serde_json::{json, Value};
use server::llm::providers::{RoutedModel, RoutingTable};
use server::llm::UpstreamConfig;

use crate::support::llm::{FakeUpstream, Reply};
use testkit::{TestApp, TestResponse, KEY};

/// The seed service's Bedrock headers, with AWS's documentation example keys.
pub(crate) const AWS: [(&str, &str); 3] = [
    ("llm-param-aws-access-key-id", "AKIDEXAMPLE"),
    (
        "llm-param-aws-secret-access-key",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    ),
    ("llm-param-aws-region-name", "us-west-2"),
];

/// A routing table: the built-in one with `file` (providers-file TOML) on top and the
/// operator's keys looked up in `env`.
pub(crate) fn table(file: &str, env: impl Fn(&str) -> Option<String>) -> RoutingTable {
    let mut table = RoutingTable::built_in();
    table.apply_file(file).unwrap();
    table.read_keys(env);
    table
}

/// `[providers.NAME] base_url = "<fake>"`.
pub(crate) fn pointing(provider: &str, fake: &FakeUpstream) -> String {
    format!("[providers.{provider}]\nbase_url = \"{}\"\n", fake.base_url)
}

/// An app whose runs route through `table`, the server's own upstream being `default`
/// (a fresh test database, the default settings changed by `configure`).
pub(crate) async fn app_with(
    table: RoutingTable,
    default: UpstreamConfig,
    configure: impl FnOnce(&mut server::Settings),
) -> TestApp {
    let model = RoutedModel::new(default, table).unwrap();
    TestApp::with_model(Arc::new(model), configure).await
}

/// An app routing `provider` to `fake` (operator keys from `env`); the server's own
/// upstream fails every call, so a test sees any turn that reaches it.
pub(crate) async fn provider_app(
    provider: &str,
    fake: &FakeUpstream,
    env: impl Fn(&str) -> Option<String>,
) -> TestApp {
    let unused = FakeUpstream::start(vec![Reply::Status(500, vec![], "{}".into())]).await;
    app_with(
        table(&pointing(provider, fake), env),
        unused.config(),
        |_| {},
    )
    .await
}

/// No operator keys.
pub(crate) fn no_keys(_: &str) -> Option<String> {
    None
}

/// POST with the SDK headers plus `extra`.
pub(crate) async fn post_with(
    app: &TestApp,
    path: &str,
    body: Value,
    extra: &[(&str, &str)],
) -> TestResponse {
    let mut builder = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("openai-beta", "assistants=v2")
        .header("content-type", "application/json");
    if !extra.iter().any(|(name, _)| *name == "authorization") {
        builder = builder.header("authorization", format!("Bearer {KEY}"));
    }
    for (name, value) in extra {
        builder = builder.header(*name, *value);
    }
    app.send(builder.body(Body::from(body.to_string())).unwrap())
        .await
}

/// `/v1/threads/{thread}/runs/{run}` of a run object.
pub(crate) fn run_path(run: &Value) -> String {
    format!(
        "/v1/threads/{}/runs/{}",
        run["thread_id"].as_str().unwrap(),
        run["id"].as_str().unwrap()
    )
}

/// The run at `path` once it is no longer `queued` or `in_progress`.
pub(crate) async fn settle(app: &TestApp, path: &str) -> Value {
    for _ in 0..500 {
        let run = app.get(path).await.json();
        if !["queued", "in_progress"].contains(&run["status"].as_str().unwrap_or_default()) {
            return run;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the run did not settle");
}

/// Creates an assistant on `model` with `tools`, then a thread with `question` and a
/// run (`headers` on every request), and waits for the run; the run and its path.
pub(crate) async fn run_on(
    app: &TestApp,
    model: &str,
    tools: Value,
    question: &str,
    headers: &[(&str, &str)],
) -> (Value, String) {
    let assistant = post_with(
        app,
        "/v1/assistants",
        json!({"model": model, "tools": tools}),
        headers,
    )
    .await;
    assert_eq!(assistant.status, 200, "{}", assistant.text);
    assert_eq!(
        assistant.json()["model"],
        model,
        "the model is echoed as sent"
    );
    let body = json!({"assistant_id": assistant.json()["id"],
        "thread": {"messages": [{"role": "user", "content": question}]}});
    let run = post_with(app, "/v1/threads/runs", body, headers).await;
    assert_eq!(run.status, 200, "{}", run.text);
    let path = run_path(&run.json());
    (settle(app, &path).await, path)
}

/// Answers every call of a `requires_action` run with `output` and waits for the run.
pub(crate) async fn submit_all(
    app: &TestApp,
    run: &Value,
    output: &str,
    headers: &[(&str, &str)],
) -> Value {
    let outputs: Vec<Value> = run["required_action"]["submit_tool_outputs"]["tool_calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|call| json!({"tool_call_id": call["id"], "output": output}))
        .collect();
    let path = run_path(run);
    let submitted = post_with(
        app,
        &format!("{path}/submit_tool_outputs"),
        json!({"tool_outputs": outputs}),
        headers,
    )
    .await;
    assert_eq!(submitted.status, 200, "{}", submitted.text);
    settle(app, &path).await
}

/// A streamed run on `model` (a new assistant and thread); the whole event stream.
pub(crate) async fn streamed_run(app: &TestApp, model: &str, headers: &[(&str, &str)]) -> String {
    let assistant = post_with(app, "/v1/assistants", json!({"model": model}), headers).await;
    assert_eq!(assistant.status, 200, "{}", assistant.text);
    let body = json!({"assistant_id": assistant.json()["id"], "stream": true,
        "thread": {"messages": [{"role": "user", "content": "Hi"}]}});
    let response = post_with(app, "/v1/threads/runs", body, headers).await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert!(
        response.text.contains("event: thread.run.completed")
            && response.text.ends_with("event: done\ndata: [DONE]\n\n"),
        "{}",
        response.text
    );
    response.text
}

/// How many `thread.message.delta` events a stream holds.
pub(crate) fn deltas(stream: &str) -> usize {
    stream
        .lines()
        .filter(|line| line.starts_with("event: thread.message.delta"))
        .count()
}

/// Server-sent events framed `event: TYPE` then `data: JSON`, TYPE being the event's
/// own `type` (Anthropic's and Cohere's framing).
pub(crate) fn typed_sse(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|event| {
            format!(
                "event: {}\ndata: {event}\n\n",
                event["type"].as_str().unwrap()
            )
        })
        .collect()
}

/// A function tool `get_weather(location)` as an assistant declares it.
pub(crate) fn weather_tool() -> Value {
    json!({"type": "function", "function": {"name": "get_weather", "parameters":
        {"type": "object", "properties": {"location": {"type": "string"}}}}})
}

/// A run on `model` with the `get_weather` tool asking `question`, which must stop in
/// `requires_action` with the model echoed as sent; the run and its tool calls.
pub(crate) async fn weather_run(
    app: &TestApp,
    model: &str,
    question: &str,
    headers: &[(&str, &str)],
) -> (Value, Vec<Value>) {
    let (run, _) = run_on(app, model, json!([weather_tool()]), question, headers).await;
    assert_eq!(run["status"], "requires_action", "{run}");
    assert_eq!(run["model"], model);
    let calls = run["required_action"]["submit_tool_outputs"]["tool_calls"]
        .as_array()
        .unwrap()
        .clone();
    (run, calls)
}

/// The last of a Chat-Completions-style body's `messages` (Cohere's and the
/// OpenAI-compatible providers' tool results are `role: tool` messages), and the
/// assistant turn that made the calls it answers (`calls` answers back).
pub(crate) fn tool_turns(body: &Value, calls: usize) -> (Value, Value) {
    let messages = body["messages"].as_array().unwrap();
    let n = messages.len();
    (messages[n - 1 - calls].clone(), messages[n - 1].clone())
}

/// Asserts that `message` is the tool result of call `id` holding `text`.
pub(crate) fn assert_tool_result(message: &Value, id: &str, text: &str) {
    assert_eq!(
        (message["role"].as_str(), message["tool_call_id"].as_str()),
        (Some("tool"), Some(id)),
        "{message}"
    );
    let content = message["content"].as_str().unwrap_or_default();
    assert!(content.contains(text), "{message}");
}
