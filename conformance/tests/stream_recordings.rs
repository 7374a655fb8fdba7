//! The stream grammar and framing checks against every streamed body of the real recordings in
//! `../shared/recordings` (when that folder exists; the recordings are never copied into the
//! project): OpenAI's own streams must follow the grammar and be framed exactly as the harness
//! expects, or the harness would fail the real service.

// Test code fails by panicking: unwrapping is how it says what broke.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use conformance::exec::stream::framing::framing_differences;
use conformance::exec::stream::grammar::{check_grammar, StreamOrigin};
use conformance::sse::parse;
use serde_json::Value;

fn recordings_root() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/recordings");
    root.is_dir().then_some(root)
}

fn json_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            json_files(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "json") {
            files.push(path);
        }
    }
}

/// The origin of a stream by its request path.
fn origin(uri: &str) -> StreamOrigin {
    let path = uri.split('?').next().unwrap_or(uri);
    if path.ends_with("/submit_tool_outputs") {
        StreamOrigin::SubmitToolOutputs
    } else if path.ends_with("/threads/runs") {
        StreamOrigin::CreateThreadAndRun
    } else {
        StreamOrigin::CreateRun
    }
}

#[test]
fn every_recorded_assistants_stream_follows_the_grammar_and_framing() {
    let Some(root) = recordings_root() else {
        eprintln!("../shared/recordings not found: nothing to check");
        return;
    };
    let mut files = Vec::new();
    json_files(&root, &mut files);
    let mut streams = 0;
    let mut problems = Vec::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let Ok(session) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        for entry in session["Entries"].as_array().into_iter().flatten() {
            let uri = entry["RequestUri"].as_str().unwrap_or_default();
            let Some(lines) = entry["ResponseBody"].as_array() else {
                continue;
            };
            if !uri.contains("/threads") {
                continue;
            }
            let raw: String = lines.iter().filter_map(Value::as_str).collect();
            let events = parse(&raw).unwrap_or_else(|err| panic!("{}: {err}", file.display()));
            streams += 1;
            for violation in check_grammar(&events, origin(uri)) {
                problems.push(format!(
                    "{} {uri}: #{} {}: {}",
                    file.display(),
                    violation.index,
                    violation.event,
                    violation.message
                ));
            }
            for difference in framing_differences(&raw, &events) {
                problems.push(format!("{} {uri}: {difference}", file.display()));
            }
        }
    }
    assert!(streams >= 4, "only {streams} recorded streams found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
