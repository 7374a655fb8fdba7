//! The official Python SDK (`openai`, pinned) drives the reference server: `OpenAI` through
//! assistants, threads, messages, runs, files and vector stores, and `AsyncOpenAI` through the
//! polling and streaming helpers an asyncio application uses (`tests/sdk/python/test_async.py`).

// Test code fails by panicking: unwrapping is how it says what broke.
#![allow(clippy::unwrap_used)]

use e2e::python::{run_pytest, sdk_python};
use e2e::workspace_root;
use testkit::spawn_app;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_suite_passes_against_the_reference_server() {
    let build_dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let python = tokio::task::spawn_blocking(move || sdk_python(build_dir))
        .await
        .expect("venv setup");
    let server = spawn_app().await;
    let suite = workspace_root().join("tests/sdk/python");
    let base_url = server.base_url.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let env = [
            ("OPENAI_BASE_URL", base_url.as_str()),
            ("OPENAI_API_KEY", "sk-python-sdk"),
        ];
        run_pytest(&python, &suite, &env)
    })
    .await
    .expect("join");
    drop(server);
    if let Err(output) = outcome {
        panic!("the Python SDK suite failed:\n{output}");
    }
}
