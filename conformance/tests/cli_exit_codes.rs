//! The binary's exit codes for unusable input (2), checked by running it; the codes for results
//! (0 and 1) are covered by the runner tests through `Results::exit_code`.

// Test code fails by panicking: unwrapping is how it says what broke.
#![allow(clippy::unwrap_used)]

use std::process::Command;

fn harness(args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_assistants-conformance"))
        .args(args)
        .env_remove("ASSISTANTS_BASE_URL")
        .env_remove("ASSISTANTS_CONFORMANCE_SPEC")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_missing_base_url_is_unusable_input() {
    let (code, stderr) = harness(&[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--base-url"), "{stderr}");
}

#[test]
fn a_malformed_header_is_unusable_input() {
    let (code, stderr) = harness(&[
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--header",
        "no-colon",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("K:V"), "{stderr}");
}

#[test]
fn zero_jobs_is_unusable_input() {
    let (code, stderr) = harness(&["--base-url", "http://127.0.0.1:9/v1", "--jobs", "0"]);
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn a_spec_that_cannot_be_read_is_unusable_input() {
    let missing = concat!(env!("CARGO_TARGET_TMPDIR"), "/no-such-openapi.yml");
    let (code, stderr) = harness(&[
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--api-key",
        "k",
        "--spec",
        missing,
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.starts_with("error:"), "{stderr}");
}

#[test]
fn a_missing_fixtures_directory_is_unusable_input() {
    let missing = concat!(env!("CARGO_TARGET_TMPDIR"), "/no-such-fixtures");
    let (code, stderr) = harness(&[
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--api-key",
        "k",
        "--fixtures",
        missing,
    ]);
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn an_unknown_fail_on_severity_is_unusable_input() {
    let (code, stderr) = harness(&["--base-url", "http://127.0.0.1:9/v1", "--fail-on", "typo"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("breaking, deviation, cosmetic, never"),
        "{stderr}"
    );
}
