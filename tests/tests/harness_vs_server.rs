//! The conformance harness against the reference server under `--strict` (deviations FAIL):
//! every scenario must PASS (not merely NON-STRICT), and the committed `coverage.md` must be
//! exactly what this run renders.
//!
//! The `fault_injection` module runs the suite through a fault-injecting proxy.
//!
//! Set `UPDATE_COVERAGE=1` to rewrite `coverage.md` from the run instead of comparing.
//!
//! Every test here runs on the backend `ASSISTANTS_TEST_BACKEND` names; `postgres_half` runs
//! them all again against a PostgreSQL-backed server.
//!
//! Also here, as it needs the same pinned document: a bounded, seeded fuzzing run over the
//! document's covered operations (`fuzz/`), which must find no 5xx and no hang.

// Test code fails by panicking: unwrapping is how it says what broke.
#![allow(clippy::unwrap_used)]

mod fuzz;

use conformance::spec::{load_document, Spec, SpecSource};
use conformance::{render_coverage, run, RunConfig, Verdict};
use e2e::workspace_root;
use testkit::spawn_app;

mod fault_injection;

async fn pinned_spec() -> Spec {
    tokio::task::spawn_blocking(|| Spec::load(&SpecSource::from_cli(None)))
        .await
        .expect("join")
        .unwrap_or_else(|err| panic!("the pinned spec must load: {err}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_passes_and_coverage_md_is_current() {
    let spec = pinned_spec().await;
    let server = spawn_app().await;
    let mut config = RunConfig::new(&server.base_url, workspace_root().join("fixtures"));
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
        "scenarios that did not PASS:\n{}\n\n{}",
        not_passing.join("\n"),
        conformance::render_report(&results)
    );
    assert!(
        results.scenarios.len() >= 18,
        "fixtures went missing: {}",
        results.scenarios.len()
    );

    let rendered = render_coverage(&results);
    let committed_path = workspace_root().join("coverage.md");
    if std::env::var_os("UPDATE_COVERAGE").is_some() {
        std::fs::write(&committed_path, &rendered).expect("write coverage.md");
        return;
    }
    let committed = std::fs::read_to_string(&committed_path).unwrap_or_default();
    assert!(
        committed == rendered,
        "coverage.md is stale: regenerate it with `UPDATE_COVERAGE=1 cargo test -p e2e --test harness_vs_server` \
         and commit it. The run renders:\n{rendered}"
    );
}

/// The fuzzing run's seed unless `FUZZ_SEED` gives another (decimal or 0x-hex).
const FUZZ_SEED: u64 = 0x5EED_2026;
/// Requests per operation unless `FUZZ_CASES` says otherwise.
const FUZZ_CASES: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fuzzing_the_spec_operations_finds_no_server_error_and_no_hang() {
    let document = tokio::task::spawn_blocking(|| load_document(&SpecSource::from_cli(None)))
        .await
        .expect("join")
        .unwrap_or_else(|err| panic!("the pinned spec must load: {err}"));
    let operations = fuzz::operations(&document);
    assert!(
        operations.len() >= 40,
        "operations went missing: {}",
        operations.len()
    );
    let seed = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|text| match text.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16).ok(),
            None => text.parse().ok(),
        })
        .unwrap_or(FUZZ_SEED);
    let cases = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(FUZZ_CASES);
    let server = spawn_app().await;
    let report = fuzz::run(&server.base_url, &document, &operations, seed, cases).await;
    println!("{report}");
    assert_eq!(report.sent, operations.len() * cases);
    assert!(
        report.server_errors.is_empty() && report.hangs.is_empty(),
        "the server failed under fuzzing:\n{report}"
    );
}

/// This binary again against a PostgreSQL-backed server (the harness in `--strict` included),
/// in a database made for the run and dropped after it; skipped loudly when PostgreSQL is not
/// reachable (a failure under `ASSISTANTS_REQUIRE_POSTGRES=1`). See `testkit::half`.
#[test]
fn postgres_half() {
    testkit::run_postgres_half();
}

/// Every fault the proxy injects makes a scenario FAIL; benign changes make none FAIL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_faults_fail_and_benign_changes_do_not() {
    let spec = pinned_spec().await;
    let server = spawn_app().await;
    let (caught, total, problems) = fault_injection::check_faults(&server.base_url, &spec).await;
    println!("caught {caught} of {total} injected faults");
    assert!(total >= 40, "only {total} faults");
    assert!(
        problems.is_empty(),
        "caught {caught} of {total} faults; problems:\n{}",
        problems.join("\n")
    );
}
