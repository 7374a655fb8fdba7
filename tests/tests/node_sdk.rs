//! The official Node SDKs drive the reference server's offline model on the pinned Node 22: the
//! current `openai` 7.x and the last 6.x, each through the same suites (`tests/sdk/node/*.test.cjs`):
//! CRUD with `for await` auto-pagination and the SDK's error classes, `runs.createAndPoll`,
//! `runs.stream` with its event helpers, `submitToolOutputsStream` with parallel calls, and
//! `vectorStores.fileBatches.uploadAndPoll` followed by a streamed file_search run whose citations
//! are checked. 6.x stays because the two parse streams and poll differently (README, "The
//! official SDK tests").

// Test code fails by panicking: unwrapping is how it says what broke.
#![allow(clippy::unwrap_used)]

use std::process::Command;

use e2e::node::{node_sdks, pinned_node_version};
use e2e::workspace_root;
use testkit::spawn_app;

const SUITES: [&str; 3] = ["crud.test.cjs", "runs.test.cjs", "file_search.test.cjs"];

/// Runs every suite with the SDK installed as `package` against a fresh reference server.
async fn run_suites(package: &'static str) {
    let build_dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let sdks = tokio::task::spawn_blocking(move || node_sdks(build_dir))
        .await
        .expect("npm install");
    let server = spawn_app().await;
    let suites = SUITES.map(|suite| workspace_root().join("tests/sdk/node").join(suite));
    let base_url = server.base_url.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(&sdks.node)
            .arg("--test")
            .args(&suites)
            .env("NODE_PATH", &sdks.modules)
            .env("OPENAI_SDK_PACKAGE", package)
            .env("OPENAI_SDK_NODE_VERSION", pinned_node_version())
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
        "the Node SDK suites failed with {package}:\n{stdout}\n{stderr}"
    );
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_sdk_7x_suites_pass_against_the_reference_server() {
    run_suites("openai").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_sdk_6x_suites_pass_against_the_reference_server() {
    run_suites("openai-v6").await;
}

/// The suites run on the Node pinned in package.json, not on the machine's own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suites_run_on_the_pinned_node() {
    let build_dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let sdks = tokio::task::spawn_blocking(move || node_sdks(build_dir))
        .await
        .expect("npm install");
    let output = Command::new(&sdks.node)
        .args(["--version"])
        .output()
        .expect("node --version");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        format!("v{}", pinned_node_version())
    );
    let versions = Command::new(&sdks.node)
        .args([
            "-p",
            "[require('openai/version').VERSION, require('openai-v6/version').VERSION].join(' ')",
        ])
        .env("NODE_PATH", &sdks.modules)
        .output()
        .expect("node -p");
    let versions = String::from_utf8_lossy(&versions.stdout);
    let mut majors = versions.split_whitespace().map(|v| v.split('.').next());
    assert_eq!(majors.next(), Some(Some("7")), "{versions}");
    assert_eq!(majors.next(), Some(Some("6")), "{versions}");
}
