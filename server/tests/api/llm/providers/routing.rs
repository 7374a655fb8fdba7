//! Model routing through the whole API: a `provider/` prefix, an operator's
//! `openai_compatible/NAME/` provider and bare names reach the right fake upstream with
//! the right key; unknown prefixes are a 400 that writes nothing; the model is echoed as
//! sent; `LLM-PARAM-aws-*` never reaches a body; `astra-api-token` is a tenant key.

use std::collections::HashSet;

use axum::http::Method;
use serde_json::{json, Value};
use server::llm::UpstreamConfig;

use super::support::{app_with, pointing, post_with, run_on as support_run_on, table};
use crate::support::llm::{hello_stream, FakeUpstream, Reply};
use testkit::{TestApp, KEY};

/// The server's own upstream, a `groq/` provider and an operator's
/// `openai_compatible/local/`, all fakes.
struct Routed {
    app: TestApp,
    upstream: FakeUpstream,
    groq: FakeUpstream,
    local: FakeUpstream,
}

async fn routed_app(groq_operator_key: Option<&str>, api_keys: Option<&[&str]>) -> Routed {
    let upstream = FakeUpstream::start(vec![Reply::Sse(hello_stream())]).await;
    let groq = FakeUpstream::start(vec![Reply::Sse(hello_stream())]).await;
    let local = FakeUpstream::start(vec![Reply::Sse(hello_stream())]).await;
    let file = format!(
        "{}\n[openai_compatible.local]\nbase_url = \"{}\"\n\n[aliases]\nfast = \"groq/llama-3.1-8b-instant\"\n",
        pointing("groq", &groq),
        local.base_url
    );
    let table = table(&file, |name| match (name, groq_operator_key) {
        ("GROQ_API_KEY", Some(key)) => Some(key.to_owned()),
        _ => None,
    });
    let config = UpstreamConfig {
        api_key: None,
        ..upstream.config()
    };
    let app = app_with(table, config, |settings| {
        settings.api_keys =
            api_keys.map(|keys| keys.iter().map(|k| (*k).to_owned()).collect::<HashSet<_>>());
    })
    .await;
    Routed {
        app,
        upstream,
        groq,
        local,
    }
}

/// A run on `model` asking "Hello", with `headers`, awaited.
async fn run_on(routed: &Routed, model: &str, headers: &[(&str, &str)]) -> Value {
    support_run_on(&routed.app, model, json!([]), "Hello", headers)
        .await
        .0
}

#[tokio::test]
async fn a_prefix_reaches_its_provider_with_the_api_key_header_only() {
    let routed = routed_app(Some("gsk-operator"), None).await;
    let headers = [("api-key", "gsk-from-header"), ("llm-param-seed", "7")];
    let run = run_on(&routed, "groq/llama-3.1-8b-instant", &headers).await;
    assert_eq!(run["status"], "completed", "{run}");
    assert_eq!(run["model"], "groq/llama-3.1-8b-instant");
    assert_eq!(
        routed.upstream.hits(),
        0,
        "nothing reached the server's own upstream"
    );
    assert_eq!(routed.groq.hits(), 1);
    assert_eq!(routed.groq.body(0)["model"], "llama-3.1-8b-instant");
    assert_eq!(routed.groq.body(0)["seed"], 7);
    assert_eq!(
        routed.groq.header(0, "authorization").as_deref(),
        Some("Bearer gsk-from-header")
    );

    // Without the header: the operator's key, never the caller's bearer key.
    let run = run_on(&routed, "fast", &[]).await;
    assert_eq!(run["status"], "completed", "{run}");
    assert_eq!(run["model"], "fast");
    assert_eq!(routed.groq.body(1)["model"], "llama-3.1-8b-instant");
    assert_eq!(
        routed.groq.header(1, "authorization").as_deref(),
        Some("Bearer gsk-operator")
    );
}

#[tokio::test]
async fn a_provider_without_any_key_fails_the_run_and_never_gets_the_bearer_key() {
    let routed = routed_app(None, None).await;
    let run = run_on(&routed, "groq/llama-3.1-8b-instant", &[]).await;
    assert_eq!(run["status"], "failed");
    assert_eq!(run["last_error"]["code"], "server_error");
    let message = run["last_error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "no API key for the provider 'groq': send one in the request's api-key header"
        ),
        "{message}"
    );
    assert_eq!(routed.groq.hits(), 0);
}

#[tokio::test]
async fn bare_names_and_operator_providers_route_and_keep_their_keys_apart() {
    let routed = routed_app(Some("gsk-operator"), None).await;
    let run = run_on(&routed, "gpt-4o-mini", &[]).await;
    assert_eq!(run["status"], "completed", "{run}");
    assert_eq!(routed.upstream.body(0)["model"], "gpt-4o-mini");
    assert_eq!(
        routed.upstream.header(0, "authorization"),
        Some(format!("Bearer {KEY}")),
        "the server's own upstream still gets the caller's key when it has none"
    );
    let run = run_on(&routed, "openai/gpt-4o", &[]).await;
    assert_eq!(run["model"], "openai/gpt-4o");
    assert_eq!(routed.upstream.body(1)["model"], "gpt-4o");

    let run = run_on(&routed, "openai_compatible/local/qwen2.5:7b", &[]).await;
    assert_eq!(run["status"], "completed", "{run}");
    assert_eq!(run["model"], "openai_compatible/local/qwen2.5:7b");
    assert_eq!(routed.local.body(0)["model"], "qwen2.5:7b");
    assert_eq!(routed.local.header(0, "authorization"), None);
    assert_eq!(routed.groq.hits(), 0);
}

#[tokio::test]
async fn aws_parameters_are_credentials_not_body_parameters() {
    let routed = routed_app(None, None).await;
    let headers = [
        ("llm-param-aws-access-key-id", "AKIDEXAMPLE"),
        (
            "llm-param-aws-secret-access-key",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        ),
        ("llm-param-aws-region-name", "us-east-1"),
        ("llm-param-top_k", "3"),
    ];
    let run = run_on(&routed, "gpt-4o-mini", &headers).await;
    assert_eq!(run["status"], "completed", "{run}");
    let body = routed.upstream.body(0);
    assert_eq!(body["top_k"], 3);
    let text = body.to_string();
    assert!(
        !text.contains("wJalrXUtnFEMI") && !text.contains("AKIDEXAMPLE"),
        "{text}"
    );
}

#[tokio::test]
async fn unroutable_models_are_a_400_on_model_that_writes_nothing() {
    let routed = routed_app(None, None).await;
    let app = &routed.app;
    let response = post_with(
        app,
        "/v1/assistants",
        json!({"model": "huggingface/zephyr-7b"}),
        &[],
    )
    .await;
    assert_eq!(response.status, 400, "{}", response.text);
    let error = &response.json()["error"];
    assert_eq!(error["type"], "invalid_request_error");
    assert_eq!(error["param"], "model");
    assert_eq!(error["code"], Value::Null);
    let message = error["message"].as_str().unwrap();
    assert!(
        message.starts_with("Unknown model provider 'huggingface' in model 'huggingface/zephyr-7b'. Known providers: anthropic, azure, bedrock, cohere,"),
        "{message}"
    );
    let azure = post_with(app, "/v1/assistants", json!({"model": "azure/gpt-4o"}), &[]).await;
    assert_eq!(azure.status, 400);
    assert!(
        azure.message().contains("has no base URL"),
        "{}",
        azure.text
    );
    assert_eq!(app.get("/v1/assistants").await.json()["data"], json!([]));

    // A run's model override is checked before the thread is written.
    let assistant = post_with(app, "/v1/assistants", json!({"model": "gpt-4o"}), &[])
        .await
        .json();
    let body = json!({
        "assistant_id": assistant["id"],
        "model": "nope/x",
        "thread": {"messages": [{"role": "user", "content": "Hi"}]},
    });
    let response = post_with(app, "/v1/threads/runs", body, &[]).await;
    assert_eq!(response.status, 400, "{}", response.text);
    assert_eq!(response.json()["error"]["param"], "model");
    let modify = post_with(
        app,
        &format!("/v1/assistants/{}", assistant["id"].as_str().unwrap()),
        json!({"model": "openai_compatible/missing/x"}),
        &[],
    )
    .await;
    assert_eq!(modify.status, 400);
    assert!(
        modify.message().contains("configured: local"),
        "{}",
        modify.text
    );
    assert_eq!(routed.upstream.hits() + routed.groq.hits(), 0);
}

#[tokio::test]
async fn astra_api_token_is_the_tenant_key_when_no_usable_bearer_key_is_sent() {
    let routed = routed_app(None, Some(&["astra-tenant-1"])).await;
    let app = &routed.app;
    let astra = [
        ("authorization", "Bearer NONE"),
        ("astra-api-token", "astra-tenant-1"),
    ];
    let created = post_with(app, "/v1/assistants", json!({"model": "gpt-4o"}), &astra).await;
    assert_eq!(created.status, 200, "{}", created.text);
    // The same tenant as the bearer key itself.
    let listed = app
        .call_as("astra-tenant-1", Method::GET, "/v1/assistants", None)
        .await;
    assert_eq!(listed.json()["data"][0]["id"], created.json()["id"]);
    // No bearer header at all works too; a refused token is still refused.
    let only = post_with(
        app,
        "/v1/assistants",
        json!({"model": "gpt-4o"}),
        &[("authorization", ""), ("astra-api-token", "astra-tenant-1")],
    )
    .await;
    assert_eq!(only.status, 200, "{}", only.text);
    let wrong = [
        ("authorization", "Bearer NONE"),
        ("astra-api-token", "astra-other"),
    ];
    let refused = post_with(app, "/v1/assistants", json!({"model": "gpt-4o"}), &wrong).await;
    assert_eq!(refused.status, 401);
    assert_eq!(refused.json()["error"]["code"], "invalid_api_key");
    let none = post_with(
        app,
        "/v1/assistants",
        json!({"model": "gpt-4o"}),
        &[("authorization", "Bearer NONE")],
    )
    .await;
    assert_eq!(none.status, 401, "NONE alone is not a key");
}
