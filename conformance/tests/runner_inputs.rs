//! Run-level inputs against the stub server: the expected-failures list (XFAIL/XPASS), filters,
//! the input errors that mean exit code 2, and results that round-trip through JSON.

// Test code fails by panicking: unwrapping is how it says what broke.
#![allow(clippy::unwrap_used)]

mod runner_support;

use conformance::results::FailOn;
use conformance::{render_coverage, run_with, HarnessError, Results, Verdict};
use runner_support::*;

#[tokio::test]
async fn expected_failures_turn_failures_into_xfail_and_passes_into_xpass() {
    let (base_url, _) = spawn_stub().await;
    let dir = fixtures(
        "xfail",
        &[
            ("stub/fail", &scenario(GET_EXPECTING_RIGHT, CLEANUP)),
            ("stub/pass", &scenario("", CLEANUP)),
        ],
    );
    let list = dir.parent().unwrap().join("expected-failures.yaml");
    std::fs::write(
        &list,
        "stub/fail: the stub answers the wrong name\nstub/pass: stale entry\n",
    )
    .unwrap();
    let mut config = config(&base_url, dir);
    config.expected_failures = Some(list);
    let results = run_with(&config, &catalog(), &conformance::progress::Silent)
        .await
        .unwrap();
    let failed = scenario_of(&results, "stub/fail");
    assert_eq!(
        (failed.verdict, failed.raw_verdict),
        (Verdict::Xfail, Verdict::Fail)
    );
    assert!(failed
        .reason
        .as_deref()
        .unwrap()
        .contains("the stub answers the wrong name"));
    assert_eq!(scenario_of(&results, "stub/pass").verdict, Verdict::Xpass);
    assert_eq!(
        results.exit_code(FailOn::Breaking),
        1,
        "an XPASS fails the list"
    );
}

#[tokio::test]
async fn filters_skip_other_scenarios_and_a_filter_matching_nothing_is_an_input_error() {
    let (base_url, _) = spawn_stub().await;
    let dir = fixtures(
        "filter",
        &[
            ("stub/one", &scenario("", CLEANUP)),
            ("stub/two", &scenario(GET_EXPECTING_RIGHT, CLEANUP)),
        ],
    );
    let mut config = config(&base_url, dir);
    config.filters = vec!["one".into()];
    let results = run_with(&config, &catalog(), &conformance::progress::Silent)
        .await
        .unwrap();
    assert_eq!(scenario_of(&results, "stub/one").verdict, Verdict::Pass);
    assert_eq!(scenario_of(&results, "stub/two").verdict, Verdict::Skipped);
    assert_eq!(results.exit_code(FailOn::Breaking), 0);
    config.filters = vec!["nothing-has-this".into()];
    let err = run_with(&config, &catalog(), &conformance::progress::Silent)
        .await
        .unwrap_err();
    assert!(
        matches!(err, HarnessError::FilterMatchesNothing { .. }),
        "{err}"
    );
}

#[tokio::test]
async fn an_unreachable_base_url_is_an_input_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let dir = fixtures("unreachable", &[("stub/pass", &scenario("", CLEANUP))]);
    let config = config(&format!("http://{address}/v1"), dir);
    let err = run_with(&config, &catalog(), &conformance::progress::Silent)
        .await
        .unwrap_err();
    assert!(matches!(err, HarnessError::Unreachable { .. }), "{err}");
}

#[tokio::test]
async fn results_round_trip_through_json_and_coverage_comes_from_them() {
    let files = [
        ("stub/fail", scenario(GET_EXPECTING_RIGHT, CLEANUP)),
        (
            "stub/serial",
            format!("serial: true\n{}", scenario("", CLEANUP)),
        ),
    ];
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(id, yaml)| (*id, yaml.as_str()))
        .collect();
    let (results, _) = run_files("round-trip", &files).await;
    let read_back = Results::from_json(&results.to_json()).unwrap();
    assert_eq!(read_back, results);
    let coverage = render_coverage(&read_back);
    assert!(coverage.contains("| `getThing`"), "{coverage}");
    assert!(coverage.contains("not covered"), "{coverage}");
    assert!(
        !coverage.contains("127.0.0.1"),
        "no run-specific values: {coverage}"
    );
}

#[tokio::test]
async fn an_expected_failures_entry_for_no_scenario_is_an_input_error() {
    let (base_url, _) = spawn_stub().await;
    let dir = fixtures("stale-list", &[("stub/pass", &scenario("", CLEANUP))]);
    let list = dir.parent().unwrap().join("expected-failures.yaml");
    std::fs::write(&list, "stub/renamed: was failing once\n").unwrap();
    let mut config = config(&base_url, dir);
    config.expected_failures = Some(list);
    let err = run_with(&config, &catalog(), &conformance::progress::Silent)
        .await
        .unwrap_err();
    assert!(
        matches!(err, HarnessError::ExpectedFailures { .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("no scenario `stub/renamed`"),
        "{err}"
    );
}

#[tokio::test]
async fn a_fixtures_directory_without_scenarios_is_an_input_error() {
    let (base_url, _) = spawn_stub().await;
    let err = run_with(
        &config(&base_url, fixtures("empty", &[])),
        &catalog(),
        &conformance::progress::Silent,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, HarnessError::Usage(_)), "{err}");
}
