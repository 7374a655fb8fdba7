//! The structured result of `check-recordings`, serialisable as JSON; the text output is
//! rendered from it alone.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::spec::Family;

/// Everything `check-recordings` found, over all files.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecordingsReport {
    /// Which document the recordings were checked against.
    pub spec: SpecIdentity,
    /// One entry per recording file, in the order they were checked.
    pub files: Vec<FileReport>,
    /// Sums over all files.
    pub totals: Totals,
}

/// Enough about the document to reproduce a check: its hash, version and the errata applied.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SpecIdentity {
    /// sha256 of the document file.
    pub sha256: String,
    /// The document's `info.version`.
    pub api_version: String,
    /// Ids of the errata applied, in order.
    pub errata: Vec<String>,
}

/// What one recording file contained and how it fared.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FileReport {
    /// The file, as found on disk.
    pub path: String,
    /// Its format: `session-records`, `vcr-ruby` or `vcrpy`.
    pub format: String,
    /// Number of recorded exchanges.
    pub exchanges: usize,
    /// Responses validated, by operationId.
    pub responses: BTreeMap<String, usize>,
    /// Stream events validated, by event name.
    pub events: BTreeMap<String, usize>,
    /// Stream events validated, by the operation whose response streamed them.
    pub operation_events: BTreeMap<String, usize>,
    /// Exchanges whose operation the harness does not cover (reported, not failed).
    pub not_covered: Vec<NotCovered>,
    /// Every schema violation and every undecodable body of a covered exchange.
    pub failures: Vec<Failure>,
}

/// A recorded exchange outside the covered operations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotCovered {
    /// Index of the exchange in its file.
    pub entry: usize,
    /// HTTP method.
    pub method: String,
    /// Request URL as recorded.
    pub url: String,
}

/// One reason a recorded response is not valid; carries everything needed to find it again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// The recording file.
    pub file: String,
    /// Index of the exchange in the file (0-based).
    pub entry: usize,
    /// HTTP method.
    pub method: String,
    /// Request URL as recorded.
    pub url: String,
    /// Response status.
    pub status: u16,
    /// The operation the exchange was matched to.
    pub operation: String,
    /// For a stream: the event's position in the stream and its name.
    pub event: Option<(usize, String)>,
    /// JSON pointer into the response body (or event data) of the offending value.
    pub instance_path: String,
    /// JSON pointer into the compiled schema that rejected it.
    pub schema_path: String,
    /// What is wrong.
    pub message: String,
}

/// Sums over all files.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// Recording files read.
    pub files: usize,
    /// Exchanges read.
    pub exchanges: usize,
    /// Responses validated, by operationId.
    pub responses: BTreeMap<String, usize>,
    /// Responses validated, by family.
    pub families: BTreeMap<Family, usize>,
    /// Stream events validated, by name.
    pub events: BTreeMap<String, usize>,
    /// Stream events validated, by the operation whose response streamed them.
    pub operation_events: BTreeMap<String, usize>,
    /// Exchanges outside the covered operations.
    pub not_covered: usize,
    /// Exchanges outside the covered operations, by `METHOD /path` (the `/v1` base stripped).
    pub not_covered_requests: BTreeMap<String, usize>,
    /// Failures found.
    pub failures: usize,
}

impl RecordingsReport {
    /// True when every covered response and event was valid.
    pub fn passed(&self) -> bool {
        self.totals.failures == 0
    }

    /// Renders the human-readable report: one line per file, its failures, then the totals.
    pub fn render(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        writeln!(
            out,
            "OpenAPI document {} (API version {}), {} errata applied: {}",
            self.spec.sha256,
            self.spec.api_version,
            self.spec.errata.len(),
            self.spec.errata.join(", ")
        )?;
        for file in &self.files {
            let responses: usize = file.responses.values().sum();
            let events: usize = file.events.values().sum();
            let verdict = if file.failures.is_empty() {
                "PASS"
            } else {
                "FAIL"
            };
            writeln!(
                out,
                "{verdict} {} ({}): {responses} responses, {events} events validated, {} not covered",
                file.path,
                file.format,
                file.not_covered.len()
            )?;
            for failure in &file.failures {
                let event = failure
                    .event
                    .as_ref()
                    .map(|(i, name)| format!(" event #{i} {name}"))
                    .unwrap_or_default();
                writeln!(
                    out,
                    "  entry #{} {} {} -> {} [{}]{event}: at '{}' ({}): {}",
                    failure.entry,
                    failure.method,
                    failure.url,
                    failure.status,
                    failure.operation,
                    failure.instance_path,
                    failure.schema_path,
                    failure.message
                )?;
            }
        }
        let totals = &self.totals;
        writeln!(out)?;
        writeln!(out, "Validated responses by family:")?;
        for (family, count) in &totals.families {
            writeln!(out, "  {family:?}: {count}")?;
        }
        writeln!(out, "Validated responses by operation:")?;
        for (operation, count) in &totals.responses {
            match totals.operation_events.get(operation) {
                Some(events) => writeln!(out, "  {operation}: {count} (+ {events} stream events)")?,
                None => writeln!(out, "  {operation}: {count}")?,
            }
        }
        writeln!(out, "Validated stream events:")?;
        for (event, count) in &totals.events {
            writeln!(out, "  {event}: {count}")?;
        }
        writeln!(out, "Not covered (reported, not validated):")?;
        for (request, count) in &totals.not_covered_requests {
            writeln!(out, "  {request}: {count}")?;
        }
        writeln!(
            out,
            "{} files, {} exchanges: {} responses and {} stream events validated, {} not covered, {} failures",
            totals.files,
            totals.exchanges,
            totals.responses.values().sum::<usize>(),
            totals.events.values().sum::<usize>(),
            totals.not_covered,
            totals.failures
        )
    }
}
