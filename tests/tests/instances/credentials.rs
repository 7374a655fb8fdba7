//! Upstream credentials of a taken-over run. Per-request keys (`api-key`, the caller's
//! bearer key, `LLM-PARAM-aws-*`) live only in the memory of the instance that received
//! the request; an instance taking the run over has only the operator's configuration.
//! A run whose provider has no operator key then fails with a `last_error` saying so,
//! instead of hanging or sending another key.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Router;
use reqwest::Method;
use serde_json::json;
use server::llm::LlmMode;

use crate::client::ENDED;
use crate::models::Stuck;
use crate::node::Node;
use crate::serial;
use testkit::TestDatabase;

/// An environment variable no machine sets: the key variable of the provider.
const UNSET_KEY_VARIABLE: &str = "INSTANCES_TEST_NEVER_SET_GROQ_KEY";
const OPERATOR_KEY: &str = "sk-operator-default-provider";
const CALLER_KEY: &str = "sk-caller-per-request";

/// The `authorization` and `api-key` headers of every request an upstream received.
type Seen = Arc<Mutex<Vec<String>>>;

/// An upstream that records each request's credentials and refuses it (400).
async fn recording_upstream() -> (String, Seen) {
    let seen: Seen = Arc::default();
    async fn record(State(seen): State<Seen>, request: Request) -> impl IntoResponse {
        let header = |name: &str| {
            request
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        let line = format!(
            "{} authorization={} api-key={}",
            request.uri().path(),
            header("authorization"),
            header("api-key")
        );
        seen.lock().unwrap().push(line);
        let error = json!({"error": {"message": "refused by the test upstream",
            "type": "invalid_request_error", "param": null, "code": null}});
        (StatusCode::BAD_REQUEST, axum::Json(error))
    }
    let app = Router::new().fallback(record).with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{address}/v1"), seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_over_run_uses_only_the_operators_credentials() {
    let _one = serial().await;
    assert!(std::env::var_os(UNSET_KEY_VARIABLE).is_none());
    let db = TestDatabase::reconnectable().await;
    let (upstream, seen) = recording_upstream().await;
    let providers = db.folder().join("providers.toml");
    std::fs::write(
        &providers,
        format!(
            "[providers.groq]\nbase_url = \"{upstream}\"\nkey_env = \"{UNSET_KEY_VARIABLE}\"\n"
        ),
    )
    .unwrap();
    let mut llm = server::settings::offline_llm();
    llm.mode = LlmMode::Upstream;
    llm.llm_base_url = upstream.clone();
    llm.llm_api_key = Some(OPERATOR_KEY.to_owned());
    llm.llm_max_retries = 0;
    llm.llm_providers = Some(providers);
    let routed = llm.build_model().expect("the upstream model builds");

    // `a` accepts both runs with the caller's key, starts their turns and dies.
    let lease = Duration::from_secs(2);
    let stuck = Arc::new(Stuck::default());
    let mut a = Node::start(&db, "a", stuck.clone(), lease).await;
    let mut runs = Vec::new();
    for model in ["groq/llama-3.1-8b-instant", "gpt-4o"] {
        let assistant = a.api.assistant(json!([])).await;
        let thread = a.api.thread_with("Hello").await;
        let path = format!("/threads/{thread}/runs");
        let body = json!({"assistant_id": assistant, "model": model});
        let answer = reqwest::Client::new()
            .request(Method::POST, format!("{}{path}", a.api.base))
            .bearer_auth(crate::client::KEY)
            .header("OpenAI-Beta", "assistants=v2")
            .header("api-key", CALLER_KEY)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), 200);
        let run: serde_json::Value = answer.json().await.unwrap();
        runs.push((thread, run["id"].as_str().unwrap().to_owned()));
    }
    for _ in 0..1200 {
        if stuck.started() == runs.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    a.die();

    let b = Node::start(&db, "b", routed, lease).await;
    let (groq_thread, groq_run) = &runs[0];
    let failed = b.api.wait_for_run(groq_thread, groq_run, ENDED).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    let error = &failed["last_error"];
    assert_eq!(error["code"], "server_error", "{failed}");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.starts_with("no API key for the provider 'groq'"),
        "{message}"
    );
    assert!(message.contains(UNSET_KEY_VARIABLE), "{message}");
    assert!(
        message.contains("resumed by another server instance"),
        "{message}"
    );
    assert!(!message.contains(CALLER_KEY));

    let (openai_thread, openai_run) = &runs[1];
    let ended = b.api.wait_for_run(openai_thread, openai_run, ENDED).await;
    assert_eq!(
        ended["status"], "failed",
        "the test upstream refuses: {ended}"
    );
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [format!(
            "/v1/chat/completions authorization=Bearer {OPERATOR_KEY} api-key="
        )],
        "only the default provider was called, with the operator's key"
    );
}
