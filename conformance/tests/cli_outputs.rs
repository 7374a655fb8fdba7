//! The CLI's output files: results JSON written first, then the report, coverage and JUnit XML
//! rendered from what was read back; nothing else is written unless asked for. And `compare`,
//! run as the binary over results files.

// Test code fails by panicking: unwrapping is how it says what broke.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use conformance::cli::{summary_line, write_outputs, OutputPaths};
use conformance::results::{OperationRecord, RunInfo, ScenarioResult, RESULTS_SCHEMA_VERSION};
use conformance::spec::Family;
use conformance::{render_coverage, render_report, Results, Verdict};

fn results() -> Results {
    Results {
        schema_version: RESULTS_SCHEMA_VERSION,
        run: RunInfo {
            base_url: "http://127.0.0.1:1/v1".into(),
            model: "gpt-4o".into(),
            filters: vec![],
            strict: false,
            wall_time_ms: 42,
        },
        operations: vec![OperationRecord {
            id: "listFiles".into(),
            method: "GET".into(),
            path: "/files".into(),
            family: Family::Files,
        }],
        scenarios: vec![ScenarioResult {
            id: "files/list".into(),
            description: "Lists files.".into(),
            verdict: Verdict::Pass,
            raw_verdict: Verdict::Pass,
            reason: None,
            steps: vec![],
        }],
    }
}

fn out_dir(test: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("cli_outputs")
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn results_are_written_first_and_reports_come_from_them() {
    let dir = out_dir("all");
    let outputs = OutputPaths {
        results: dir.join("nested/results.json"),
        report: Some(dir.join("report.md")),
        coverage: Some(dir.join("coverage.md")),
        junit: Some(dir.join("junit.xml")),
    };
    let written = write_outputs(&results(), &outputs).unwrap();
    assert_eq!(written, results());
    let json = std::fs::read_to_string(&outputs.results).unwrap();
    assert_eq!(Results::from_json(&json).unwrap(), results());
    assert_eq!(
        std::fs::read_to_string(dir.join("report.md")).unwrap(),
        render_report(&results())
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("coverage.md")).unwrap(),
        render_coverage(&results())
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("junit.xml")).unwrap(),
        conformance::report::render_junit(&results())
    );
    assert_eq!(
        summary_line(&written),
        "OK: 1 scenarios, 0 steps run in 0.0s: PASS 1"
    );
}

#[test]
fn report_and_coverage_are_written_only_when_asked() {
    let dir = out_dir("results-only");
    let outputs = OutputPaths {
        results: dir.join("results.json"),
        report: None,
        coverage: None,
        junit: None,
    };
    write_outputs(&results(), &outputs).unwrap();
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["results.json"]);
}

#[test]
fn results_of_another_schema_version_are_refused() {
    let mut other = results();
    other.schema_version = RESULTS_SCHEMA_VERSION + 1;
    let err = Results::from_json(&other.to_json()).unwrap_err();
    assert!(err.contains("schema version"), "{err}");
}

#[test]
fn compare_renders_one_matrix_from_results_files_and_refuses_bad_ones() {
    let dir = out_dir("compare");
    std::fs::create_dir_all(&dir).unwrap();
    let mut other = results();
    other.run.base_url = "http://127.0.0.1:2/v1".into();
    other.scenarios[0].verdict = Verdict::Unimplemented;
    other.scenarios[0].steps = vec![conformance::results::StepResult {
        name: "list".into(),
        phase: conformance::results::Phase::Step,
        operation: Some("listFiles".into()),
        verdict: Verdict::Unimplemented,
        request: None,
        response: None,
        findings: vec![],
    }];
    std::fs::write(dir.join("reference.json"), results().to_json()).unwrap();
    std::fs::write(dir.join("other.json"), other.to_json()).unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_assistants-conformance"))
            .arg("compare")
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap()
    };
    let output = run(&["reference.json", "other.json"]);
    assert_eq!(output.status.code(), Some(0));
    let printed = String::from_utf8(output.stdout).unwrap();
    let targets = [
        conformance::report::compare::Target {
            name: "reference".into(),
            results: results(),
        },
        conformance::report::compare::Target {
            name: "other".into(),
            results: other,
        },
    ];
    assert_eq!(printed, conformance::report::render_compare(&targets));
    let row: Vec<&str> = printed
        .lines()
        .find(|line| line.contains("`listFiles`"))
        .unwrap()
        .split('|')
        .map(str::trim)
        .collect();
    assert_eq!(
        row,
        ["", "`listFiles` `GET /files`", "-", "unimplemented", ""]
    );
    let bad = run(&["reference.json", "missing.json"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("missing.json"));
}
