//! `assistants-conformance check-recordings PATH...`: validates every recorded response of real
//! traffic against the spec and our errata. Reads the .NET SDK's SessionRecords JSON and VCR
//! cassettes (Ruby VCR and Python vcrpy) from files or directories (recursively). Every response
//! of a covered operation must be valid; a failure means our normalisation or errata are wrong
//! (or the document is). Other operations are counted as not covered, never failed.

mod check;
mod exchange;
mod report;
mod session_records;
mod vcr;

use std::io::Write;
use std::path::{Path, PathBuf};

pub use check::api_path;
pub use exchange::{Body, Exchange};
pub use report::{Failure, FileReport, NotCovered, RecordingsReport, SpecIdentity, Totals};

use crate::spec::Spec;

/// Why the input could not be checked at all (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum RecordingsError {
    /// No recording file was found under the given paths.
    #[error("no recordings found under {0}")]
    NothingFound(String),
    /// A path or file could not be read.
    #[error("cannot read {path}: {message}")]
    Unreadable {
        /// The file or directory.
        path: String,
        /// The underlying error.
        message: String,
    },
    /// A file is not in any recording format we know.
    #[error("{path} is not a recording: {message}")]
    NotARecording {
        /// The file.
        path: String,
        /// What was expected or went wrong.
        message: String,
    },
}

/// The recording files named by `paths`: files as given, directories searched recursively for
/// `.json`, `.yml` and `.yaml` files, in a stable (sorted) order.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, RecordingsError> {
    let mut files = Vec::new();
    for path in paths {
        let metadata = std::fs::metadata(path).map_err(|e| RecordingsError::Unreadable {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        if metadata.is_dir() {
            collect_dir(path, &mut files)?;
        } else {
            files.push(path.clone());
        }
    }
    if files.is_empty() {
        let named: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(RecordingsError::NothingFound(named.join(", ")));
    }
    Ok(files)
}

fn collect_dir(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), RecordingsError> {
    let unreadable = |e: std::io::Error| RecordingsError::Unreadable {
        path: dir.display().to_string(),
        message: e.to_string(),
    };
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(unreadable)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(unreadable)?;
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            collect_dir(&entry, files)?;
        } else if entry
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "json" | "yml" | "yaml"))
        {
            files.push(entry);
        }
    }
    Ok(())
}

/// Reads one recording file in whichever supported format it is; returns the format's name and
/// its exchanges.
pub fn read_file(path: &Path) -> Result<(&'static str, Vec<Exchange>), RecordingsError> {
    let text = std::fs::read_to_string(path).map_err(|e| RecordingsError::Unreadable {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    let not_a_recording = |message: String| RecordingsError::NotARecording {
        path: path.display().to_string(),
        message,
    };
    if let Ok(document) = serde_json::from_str::<serde_json::Value>(&text) {
        if session_records::recognises(&document) {
            return Ok((
                "session-records",
                session_records::exchanges(&document).map_err(not_a_recording)?,
            ));
        }
    }
    let document = vcr::parse(&text).map_err(not_a_recording)?;
    let flavour = vcr::recognise(&document).ok_or_else(|| {
        not_a_recording("expected SessionRecords (`Entries`) or a VCR cassette (`http_interactions`/`interactions`)".into())
    })?;
    let format = match flavour {
        vcr::Flavour::Ruby => "vcr-ruby",
        vcr::Flavour::Python => "vcrpy",
    };
    Ok((
        format,
        vcr::exchanges(&document, flavour).map_err(not_a_recording)?,
    ))
}

/// Checks every recording under `paths`.
pub fn check_recordings(
    paths: &[PathBuf],
    spec: &Spec,
) -> Result<RecordingsReport, RecordingsError> {
    let mut report = RecordingsReport {
        spec: SpecIdentity {
            sha256: spec.document_sha256().to_string(),
            api_version: spec.api_version().to_string(),
            errata: spec.errata().iter().map(|e| e.id.clone()).collect(),
        },
        ..RecordingsReport::default()
    };
    for path in discover(paths)? {
        let (format, exchanges) = read_file(&path)?;
        let mut file = FileReport {
            path: path.display().to_string(),
            format: format.to_string(),
            ..FileReport::default()
        };
        check::check_exchanges(spec, &exchanges, &mut file);
        add_to_totals(&mut report.totals, &file, spec);
        report.files.push(file);
    }
    Ok(report)
}

fn add_to_totals(totals: &mut Totals, file: &FileReport, spec: &Spec) {
    totals.files += 1;
    totals.exchanges += file.exchanges;
    for (operation, count) in &file.responses {
        *totals.responses.entry(operation.clone()).or_default() += count;
        if let Some(op) = spec.operation(operation) {
            *totals.families.entry(op.family).or_default() += count;
        }
    }
    for (event, count) in &file.events {
        *totals.events.entry(event.clone()).or_default() += count;
    }
    for (operation, count) in &file.operation_events {
        *totals
            .operation_events
            .entry(operation.clone())
            .or_default() += count;
    }
    for request in &file.not_covered {
        let key = format!("{} {}", request.method, api_path(&request.url));
        *totals.not_covered_requests.entry(key).or_default() += 1;
    }
    totals.not_covered += file.not_covered.len();
    totals.failures += file.failures.len();
}

/// The `check-recordings` subcommand: checks `paths`, writes the report to `out` and returns the
/// exit code (0 all valid, 1 any failure, 2 unusable input). The text is rendered from the
/// [`RecordingsReport`] alone; callers that want the JSON use [`check_recordings`].
pub fn check_recordings_cli(paths: &[PathBuf], spec: &Spec, out: &mut dyn Write) -> i32 {
    match check_recordings(paths, spec) {
        Ok(report) => {
            if let Err(e) = report.render(out) {
                eprintln!("cannot write the report: {e}");
                return 2;
            }
            if report.passed() {
                0
            } else {
                1
            }
        }
        Err(error) => {
            let _ = writeln!(out, "error: {error}");
            2
        }
    }
}
