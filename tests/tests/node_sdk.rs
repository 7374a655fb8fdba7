//! The official Node SDK drives runs on the reference server's offline model: `runs.createAndPoll`,
//! `runs.stream` with its strict stream parser, `runs.submitToolOutputsStream`, and a file_search
//! run whose citations the SDK accumulates from the deltas (`vectorStores.files.uploadAndPoll`).

use std::process::Command;

use e2e::{node::sdk_node_modules, spawn_server_with, workspace_root};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_sdk_suite_passes_against_the_reference_server() {
    let build_dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let modules = tokio::task::spawn_blocking(move || sdk_node_modules(build_dir))
        .await
        .expect("npm install");
    let server = spawn_server_with(|settings| settings).await;
    let suites = ["runs.test.cjs", "file_search.test.cjs"]
        .map(|suite| workspace_root().join("tests/sdk/node").join(suite));
    let base_url = server.base_url.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg("--test")
            .args(&suites)
            .env("NODE_PATH", &modules)
            .env("OPENAI_BASE_URL", &base_url)
            .env("OPENAI_API_KEY", "sk-node-sdk")
            .output()
    })
    .await
    .expect("join")
    .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}{stderr}");
    assert!(
        output.status.success(),
        "the Node SDK suite failed:\n{stdout}\n{stderr}"
    );
    drop(server);
}
