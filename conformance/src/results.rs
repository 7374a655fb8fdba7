//! The results of a run as data: written as JSON first (`--results`), then read back by every
//! renderer, so reports never depend on runner state. Bump [`RESULTS_SCHEMA_VERSION`] on any
//! incompatible change.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::spec::Family;
use crate::verdict::{Severity, Verdict};

/// Version of the results format; readers refuse other versions.
pub const RESULTS_SCHEMA_VERSION: u32 = 2;

/// What the exit code counts (`--fail-on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailOn {
    /// Failing verdicts only: FAIL (breaking findings, or deviations under `--strict`),
    /// UNIMPLEMENTED, ERROR, XPASS.
    #[default]
    Breaking,
    /// Also any deviation.
    Deviation,
    /// Also any cosmetic finding.
    Cosmetic,
    /// Nothing: exit 0 whatever the verdicts (2 still means unusable input).
    Never,
}

impl std::str::FromStr for FailOn {
    type Err = String;

    fn from_str(text: &str) -> Result<FailOn, String> {
        match text {
            "breaking" => Ok(FailOn::Breaking),
            "deviation" => Ok(FailOn::Deviation),
            "cosmetic" => Ok(FailOn::Cosmetic),
            "never" => Ok(FailOn::Never),
            other => Err(format!(
                "`{other}` is not one of breaking, deviation, cosmetic, never"
            )),
        }
    }
}

/// Everything a run produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    /// Always [`RESULTS_SCHEMA_VERSION`] when written by this harness.
    pub schema_version: u32,
    /// Run-specific facts (never rendered into `coverage.md`).
    pub run: RunInfo,
    /// Every covered operation of the document, so renderers need no spec.
    pub operations: Vec<OperationRecord>,
    /// Every scenario, sorted by id, including those skipped by `--filter`.
    pub scenarios: Vec<ScenarioResult>,
}

/// Facts about this particular run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// The implementation under test.
    pub base_url: String,
    /// The value of `${model}`.
    pub model: String,
    /// The `--filter` substrings, empty for all scenarios.
    pub filters: Vec<String>,
    /// Whether deviations FAILed (`--strict`).
    #[serde(default)]
    pub strict: bool,
    /// Wall time of the whole run in milliseconds.
    pub wall_time_ms: u64,
}

/// One covered operation, as the coverage table lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationRecord {
    /// OpenAI's operationId.
    pub id: String,
    /// Upper-case HTTP method.
    pub method: String,
    /// Path template.
    pub path: String,
    /// Family heading in the coverage table.
    pub family: Family,
}

/// One scenario's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioResult {
    /// Path-like scenario id, e.g. `assistants/crud`.
    pub id: String,
    /// The fixture's one-sentence description.
    pub description: String,
    /// The verdict after applying the expected-failures list.
    pub verdict: Verdict,
    /// The worst step verdict, before the expected-failures list.
    pub raw_verdict: Verdict,
    /// Why: the expected-failure reason (XFAIL/XPASS) or why it was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Steps then cleanup steps, in order; empty when filtered out.
    pub steps: Vec<StepResult>,
}

/// Whether a step belongs to `steps` or `cleanup`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// A regular step.
    Step,
    /// A cleanup step, run even after a failure.
    Cleanup,
}

/// One step's outcome and everything needed to reproduce it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    /// The step's name in the fixture.
    pub name: String,
    /// Regular or cleanup.
    pub phase: Phase,
    /// The operationId exercised; `None` for raw `url` steps that match no covered operation.
    pub operation: Option<String>,
    /// This step's verdict.
    pub verdict: Verdict,
    /// The request as sent (Authorization masked); `None` when it could not be built.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<RequestRecord>,
    /// The response as received; `None` on transport errors and skips.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<ResponseRecord>,
    /// Every problem found, worst first is not guaranteed: in checking order.
    pub findings: Vec<Finding>,
}

/// A request as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestRecord {
    /// Upper-case method.
    pub method: String,
    /// Full URL including the query string.
    pub url: String,
    /// Headers as sent, in order, with the Authorization secret masked.
    pub headers: Vec<(String, String)>,
    /// The body as sent, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// A response as received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseRecord {
    /// HTTP status.
    pub status: u16,
    /// The Content-Type header, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// The body as text, cut at the client's `MAX_RECORDED_BODY` bytes.
    pub body: String,
    /// Whether `body` was cut.
    #[serde(default)]
    pub body_truncated: bool,
}

/// What kind of problem a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// Status differs from the recording.
    Status,
    /// Content-Type is not JSON.
    ContentType,
    /// Body is not JSON.
    Json,
    /// Body violates the operation's schema.
    Schema,
    /// Body differs from the recording.
    Body,
    /// A key the recording does not have.
    ExtraKey,
    /// Keys in another order than the recording.
    KeyOrder,
    /// Body not pretty-printed like OpenAI's.
    Formatting,
    /// A header OpenAI always sends is missing.
    Header,
    /// A capture pointer did not resolve.
    Capture,
    /// The answer shows the route is missing (405, 501, or a 404 that is not about an object).
    Unimplemented,
    /// The request could not be sent or the response not read.
    Transport,
    /// The step references a variable nobody defined.
    Variable,
    /// The step was not run (filtered out, or a variable it needs was never captured).
    Skipped,
    /// A polling step did not reach its final values in time.
    Poll,
    /// A server-sent-events stream is wrong as a stream: framing, compact JSON, the event
    /// grammar, the final `done`, or the events the scenario expects.
    Stream,
}

/// One problem found in a step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// What kind of problem.
    pub kind: FindingKind,
    /// The verdict this finding alone implies (its severity's, under the run's strictness).
    pub verdict: Verdict,
    /// How much it matters to a client; `None` for findings about the run rather than the
    /// implementation (transport errors, unknown variables, skips, unimplemented routes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// JSON pointer (schema instance path or body pointer), when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// Expected value, for body mismatches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<Value>,
    /// Actual value, for body mismatches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<Value>,
    /// Self-contained description.
    pub message: String,
}

impl Finding {
    /// A finding with just a message; a FAIL is breaking and a NON-STRICT cosmetic unless
    /// [`Finding::severity`] says otherwise.
    pub fn new(kind: FindingKind, verdict: Verdict, message: impl Into<String>) -> Finding {
        let severity = match verdict {
            Verdict::Fail => Some(Severity::Breaking),
            Verdict::NonStrict => Some(Severity::Cosmetic),
            _ => None,
        };
        Finding {
            kind,
            verdict,
            severity,
            pointer: None,
            expected: None,
            actual: None,
            message: message.into(),
        }
    }

    /// The same finding with another severity (and the verdict it implies without `--strict`).
    pub fn severity(mut self, severity: Severity) -> Finding {
        self.severity = Some(severity);
        self.verdict = severity.verdict(false);
        self
    }

    /// The same finding located at a JSON pointer.
    pub fn at(mut self, pointer: impl Into<String>) -> Finding {
        self.pointer = Some(pointer.into());
        self
    }
}

/// At most `max_chars` characters of `text`, with a note saying how much was cut.
pub fn excerpt(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        None => text.to_owned(),
        Some((cut, _)) => format!("{}… ({} more bytes)", &text[..cut], text.len() - cut),
    }
}

impl Results {
    /// Scenario counts per verdict (every verdict present, zeros included), in severity order.
    pub fn totals(&self) -> BTreeMap<Verdict, usize> {
        let mut totals: BTreeMap<Verdict, usize> = Verdict::ALL.iter().map(|v| (*v, 0)).collect();
        for scenario in &self.scenarios {
            *totals.entry(scenario.verdict).or_default() += 1;
        }
        totals
    }

    /// Number of steps that were actually sent.
    pub fn steps_run(&self) -> usize {
        self.scenarios
            .iter()
            .flat_map(|s| &s.steps)
            .filter(|step| step.response.is_some())
            .count()
    }

    /// Whether every scenario's verdict lets the run exit 0.
    pub fn all_ok(&self) -> bool {
        self.scenarios
            .iter()
            .all(|scenario| scenario.verdict.is_ok())
    }

    /// The process exit code for these results under `--fail-on`: 1 when a scenario is not ok
    /// (FAIL, UNIMPLEMENTED, ERROR, XPASS) or, for `deviation` and `cosmetic`, when a scenario
    /// not excused by the expected-failures list has a finding that severe; else 0.
    pub fn exit_code(&self, fail_on: FailOn) -> u8 {
        let least = match fail_on {
            FailOn::Never => return 0,
            FailOn::Breaking => None,
            FailOn::Deviation => Some(Severity::Deviation),
            FailOn::Cosmetic => Some(Severity::Cosmetic),
        };
        let counted = |scenario: &ScenarioResult| {
            scenario.verdict != Verdict::Xfail
                && scenario
                    .steps
                    .iter()
                    .flat_map(|step| &step.findings)
                    .filter_map(|finding| finding.severity)
                    .any(|severity| least.is_some_and(|least| severity >= least))
        };
        u8::from(!self.all_ok() || self.scenarios.iter().any(counted))
    }

    /// Parses results JSON, refusing another schema version.
    pub fn from_json(text: &str) -> Result<Results, String> {
        let results: Results =
            serde_json::from_str(text).map_err(|err| format!("invalid results JSON: {err}"))?;
        if results.schema_version != RESULTS_SCHEMA_VERSION {
            return Err(format!(
                "results schema version {} is not the supported {RESULTS_SCHEMA_VERSION}",
                results.schema_version
            ));
        }
        Ok(results)
    }

    /// Pretty JSON for `--results`.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("results always serialise") + "\n"
    }
}
