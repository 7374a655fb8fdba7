//! The conformance harness (`--strict`) and the official Python SDK's suite through the
//! round-robin proxy in front of three instances: every request goes to the next
//! instance, so creates, streams, polls and submissions of one scenario are spread over
//! all three, and the results must be those of one server.

use std::path::{Path, PathBuf};
use std::process::Command;

use conformance::spec::{Spec, SpecSource};
use conformance::{run, RunConfig, Verdict};

use crate::cluster::{Cluster, Options};
use crate::serial;

/// The workspace root (copied from the e2e library, whose layout is being reshaped).
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_harness_passes_strict_against_three_instances_behind_a_proxy() {
    let _one = serial().await;
    let spec = tokio::task::spawn_blocking(|| Spec::load(&SpecSource::from_cli(None)))
        .await
        .expect("join")
        .unwrap_or_else(|err| panic!("the pinned spec must load: {err}"));
    let cluster = Cluster::start(3, Options::default()).await;
    let mut config = RunConfig::new(&cluster.proxy.base_url, workspace_root().join("fixtures"));
    config.api_key = Some("sk-conformance".into());
    config.strict = true;
    config.second_api_key = Some("sk-conformance-second".into());
    let results = run(&config, &spec).await.expect("the harness runs");
    let not_passing: Vec<String> = results
        .scenarios
        .iter()
        .filter(|scenario| scenario.verdict != Verdict::Pass)
        .map(|scenario| format!("{} {}", scenario.verdict, scenario.id))
        .collect();
    assert!(
        not_passing.is_empty(),
        "scenarios that did not PASS through three instances:\n{}\n\n{}\n{}",
        not_passing.join("\n"),
        conformance::render_report(&results),
        cluster.logs()
    );
    assert!(results.scenarios.len() >= 18, "fixtures went missing");
    println!(
        "harness --strict through 3 instances: {} scenarios PASS",
        results.scenarios.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_suite_passes_against_three_instances_behind_a_proxy() {
    let _one = serial().await;
    let build_dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let python = tokio::task::spawn_blocking(move || e2e::python::sdk_python(build_dir))
        .await
        .expect("venv setup");
    let cluster = Cluster::start(3, Options::default()).await;
    let suite = workspace_root().join("tests/sdk/python");
    let base_url = cluster.proxy.base_url.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
            .args(["-W", "ignore::DeprecationWarning"])
            .arg(&suite)
            .env("OPENAI_BASE_URL", base_url)
            .env("OPENAI_API_KEY", "sk-python-sdk")
            .output()
    })
    .await
    .expect("join")
    .expect("pytest runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}{stderr}");
    assert!(
        output.status.success(),
        "the Python SDK suite failed through three instances:\n{stdout}\n{stderr}\n{}",
        cluster.logs()
    );
}
