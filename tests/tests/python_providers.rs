//! The seed service's README examples (DataStax Astra Assistants), unchanged but for
//! the base URL, through the official Python SDK (`tests/sdk/python_providers`) against
//! the reference server with fake Cohere and Bedrock services behind it: Cohere chat and
//! embeddings (`model="cohere/command-r"`, its key in an `api-key` header,
//! `embedding-model: cohere/embed-english-v3.0`) and Bedrock (`meta.llama2-13b-chat-v1`,
//! `amazon.titan-embed-text-v1`, `LLM-PARAM-aws-*` headers), both with `api_key="NONE"`
//! and the tenant in `astra-api-token`. Afterwards the fakes' records show what reached
//! each provider: the caller's keys, signed requests, resolved model names.

// Test code fails by panicking: unwrapping is how it says what broke.
#![allow(clippy::unwrap_used)]

#[path = "python_providers/fakes.rs"]
mod fakes;

use std::collections::HashSet;

use e2e::python::{run_pytest, sdk_python};
use e2e::workspace_root;
use server::embeddings::EmbeddingsConfig;
use server::llm::providers::sigv4::{self, AwsCredentials, SignedRequest};
use server::llm::LlmMode;
use testkit::spawn_app_with;

const TENANT: &str = "astra-seed-tenant";
const COHERE_KEY: &str = "co-seed-example-key";
const AWS_KEY_ID: &str = "AKIDEXAMPLE";
const AWS_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const AWS_REGION: &str = "us-east-1";

/// The Authorization header `seen` should carry if the server signed it with the
/// example credentials.
fn expected_signature(seen: &fakes::Seen) -> String {
    let credentials = AwsCredentials {
        access_key_id: AWS_KEY_ID.into(),
        secret_access_key: AWS_SECRET.into(),
        session_token: None,
        region: AWS_REGION.into(),
    };
    let request = SignedRequest {
        method: "POST",
        path: &seen.path,
        query: "",
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("host".into(), seen.header("host").unwrap().to_owned()),
        ],
        payload: &seen.body,
    };
    let date = seen.header("x-amz-date").unwrap();
    sigv4::sign(&request, &credentials, "bedrock", date)
        .pop()
        .unwrap()
        .1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_services_readme_examples_run_unchanged_through_the_python_sdk() {
    let build_dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let python = tokio::task::spawn_blocking(move || sdk_python(build_dir))
        .await
        .expect("venv setup");
    let fakes = fakes::Fakes::start().await;
    let dir = tempfile::tempdir().unwrap();
    let providers = dir.path().join("providers.toml");
    std::fs::write(
        &providers,
        format!(
            "[providers.cohere]\nbase_url = \"{0}/cohere/v2\"\n\n\
             [providers.bedrock]\nbase_url = \"{0}/bedrock\"\n",
            fakes.origin
        ),
    )
    .unwrap();
    // The server's own upstreams point at a closed port: nothing may reach them.
    let server = spawn_app_with(|settings| {
        settings.llm.mode = LlmMode::Upstream;
        settings.llm.llm_base_url = "http://127.0.0.1:9/v1".to_owned();
        settings.llm.llm_providers = Some(providers.clone());
        settings.embeddings = Some(EmbeddingsConfig::new("http://127.0.0.1:9/v1"));
        settings.api_keys = Some(HashSet::from([TENANT.to_owned()]));
    })
    .await;
    let suite = workspace_root().join("tests/sdk/python_providers");
    let base_url = server.base_url.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let env = [
            ("OPENAI_BASE_URL", base_url.as_str()),
            ("ASTRA_DB_APPLICATION_TOKEN", TENANT),
            ("COHERE_API_KEY", COHERE_KEY),
            ("AWS_ACCESS_KEY_ID", AWS_KEY_ID),
            ("AWS_SECRET_ACCESS_KEY", AWS_SECRET),
            ("AWS_REGION_NAME", AWS_REGION),
        ];
        run_pytest(&python, &suite, &env)
    })
    .await
    .expect("join");
    drop(server);
    if let Err(output) = outcome {
        panic!("the seed examples failed:\n{output}");
    }

    let chats = fakes.seen("/cohere/v2/chat");
    assert!(chats.len() >= 3, "{chats:?}");
    for chat in &chats {
        assert_eq!(chat.json()["model"], "command-r");
        assert_eq!(
            chat.header("authorization"),
            Some(format!("Bearer {COHERE_KEY}").as_str())
        );
    }
    let embeds = fakes.seen("/cohere/v2/embed");
    let input_types: HashSet<String> = embeds
        .iter()
        .map(|e| e.json()["input_type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        input_types,
        HashSet::from(["search_document".to_owned(), "search_query".to_owned()])
    );
    assert!(embeds
        .iter()
        .all(|e| e.json()["model"] == "embed-english-v3.0"
            && e.header("authorization") == Some(&format!("Bearer {COHERE_KEY}"))));

    let converse = fakes.seen("/bedrock/model/meta.llama2-13b-chat-v1/converse-stream");
    let titan = fakes.seen("/bedrock/model/amazon.titan-embed-text-v1/invoke");
    assert!(
        converse.len() >= 3 && titan.len() >= 2,
        "{converse:?} {titan:?}"
    );
    for seen in converse.iter().chain(&titan) {
        assert_eq!(
            seen.header("authorization").unwrap(),
            expected_signature(seen)
        );
        let body = String::from_utf8_lossy(&seen.body);
        assert!(
            !body.contains(AWS_SECRET) && !body.contains(AWS_KEY_ID),
            "{body}"
        );
    }
    let everything = fakes.seen("/");
    assert_eq!(
        everything.len(),
        chats.len() + embeds.len() + converse.len() + titan.len()
    );
}
