//! The official Python SDK (`openai`, pinned) drives the reference server: `OpenAI` through
//! assistants, threads, messages, runs, files and vector stores, and `AsyncOpenAI` through the
//! polling and streaming helpers an asyncio application uses (`tests/sdk/python/test_async.py`).

use std::process::Command;

use e2e::{python::sdk_python, workspace_root};
use testkit::spawn_app;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_suite_passes_against_the_reference_server() {
    let build_dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let python = tokio::task::spawn_blocking(move || sdk_python(build_dir))
        .await
        .expect("venv setup");
    let server = spawn_app().await;
    let suite = workspace_root().join("tests/sdk/python");
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .args([
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "-W",
                "ignore::DeprecationWarning",
            ])
            .arg(&suite)
            .env("OPENAI_BASE_URL", &server.base_url)
            .env("OPENAI_API_KEY", "sk-python-sdk")
            .output()
            .map(|output| (output, server))
    })
    .await
    .expect("join")
    .expect("pytest runs");
    let (output, _server) = output;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}{stderr}");
    assert!(
        output.status.success(),
        "the Python SDK suite failed:\n{stdout}\n{stderr}"
    );
}
