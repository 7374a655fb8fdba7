//! Scenario fixtures (`fixtures/**/*.yaml`, format in `fixtures/README.md`): parsing, discovery
//! and the load-time checks that turn a broken fixture into exit code 2 instead of a false verdict.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::catalog::Catalog;
use crate::vars::referenced_names;

mod checks;
mod events;
pub mod tenants;

pub use checks::{validate, DEFAULT_TIMEOUT_S};
pub use events::{ExpectedEvent, Repeat};

/// One scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Path below `fixtures/` without extension; filled in by the loader, not read from the file.
    #[serde(skip)]
    pub id: String,
    /// One sentence saying what the scenario proves.
    pub description: String,
    /// Where the expectations come from (recordings or documented behaviour).
    pub provenance: Vec<Value>,
    /// Never run concurrently with another scenario (tenant-wide lists).
    #[serde(default)]
    pub serial: bool,
    /// The ordered steps; each runs unless a variable it needs was never captured.
    pub steps: Vec<Step>,
    /// Steps that run after `steps` even when one failed, deleting what the scenario created.
    #[serde(default)]
    pub cleanup: Vec<Step>,
}

/// One HTTP exchange.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Unique within the scenario; names the step in every report.
    pub name: String,
    /// The OpenAI operationId, which selects method, path template and response schema.
    #[serde(default)]
    pub operation: Option<String>,
    /// Path parameters substituted into the operation's template.
    #[serde(default)]
    pub path: Map<String, Value>,
    /// Query parameters; a list value repeats the key.
    #[serde(default)]
    pub query: Map<String, Value>,
    /// Header overrides; `null` removes a default header.
    #[serde(default)]
    pub headers: Map<String, Value>,
    /// JSON body.
    #[serde(default)]
    pub body: Option<Value>,
    /// Body sent verbatim (for malformed JSON), instead of `body`.
    #[serde(default)]
    pub raw_body: Option<String>,
    /// A `multipart/form-data` body (text fields and file parts), instead of `body`.
    #[serde(default)]
    pub multipart: Option<crate::multipart::Multipart>,
    /// A raw path below the base URL, instead of `operation`.
    #[serde(default)]
    pub url: Option<String>,
    /// The method for a raw `url` step.
    #[serde(default)]
    pub method: Option<String>,
    /// Variables captured from the response body by JSON pointer, in file order.
    #[serde(default)]
    pub capture: Map<String, Value>,
    /// Read the answer as server-sent events (also implied by `body.stream: true`).
    #[serde(default)]
    pub stream: Option<bool>,
    /// Repeat the request until a value of the response is in a set (runs are asynchronous).
    #[serde(default)]
    pub poll: Option<Poll>,
    /// Seconds a polling or streaming step may take before it FAILs (default 60; the run's
    /// `--poll-timeout` caps it).
    #[serde(default)]
    pub timeout_s: Option<f64>,
    /// What the response must look like.
    pub expect: Expect,
}

/// When a polling step stops: once the value at `pointer` is one of `until`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Poll {
    /// JSON pointer into each response body, e.g. `/status`.
    pub pointer: String,
    /// Values that end the polling (compared as JSON), e.g. `[completed, failed]`.
    pub until: Vec<Value>,
}

/// The expected response.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The recorded status, or a list of acceptable ones; required (checked at load for a clear
    /// message).
    #[serde(default)]
    pub status: Option<ExpectedStatus>,
    /// The recorded body, with matchers.
    #[serde(default)]
    pub body: Option<Value>,
    /// Spaces per indent level of the recorded body: 2 (the default) for OpenAI's API bodies, 4
    /// for the 401s its edge answers with.
    #[serde(default)]
    pub indent: Option<usize>,
    /// For streaming steps: the events in order, with quantifiers and data matchers.
    #[serde(default)]
    pub events: Option<Vec<ExpectedEvent>>,
    /// Whether the JSON body ends with one `\n`; default by path family: `true` on `/files*`
    /// and `/uploads*` (OpenAI's file service) and for 4-space (edge) bodies, else `false`.
    #[serde(default)]
    pub trailing_newline: Option<bool>,
    /// The media type the response must declare (parameters such as a charset are ignored);
    /// default `application/json`, or none at all when `raw_body` is given.
    #[serde(default)]
    pub content_type: Option<String>,
    /// The exact bytes of a non-JSON body (a downloaded file); instead of `body`.
    #[serde(default)]
    pub raw_body: Option<ExpectedBytes>,
    /// Why `body` or `events` hold only for a cooperative model (it searched with a sensible
    /// query, it cited): their mismatches are reported apart, never as the implementation's
    /// failure. Status, schema, stream grammar and citation spans are still judged.
    #[serde(default)]
    pub cooperative_model: Option<String>,
}

/// `expect.raw_body`: exact bytes, as UTF-8 text or (for binary content) base64.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ExpectedBytes {
    /// The body as UTF-8 text, variables spliced in.
    Text(String),
    /// The body as standard base64.
    Encoded {
        /// Standard base64 of the bytes.
        base64: String,
    },
}

/// `expect.status`: one status (`200`) or several acceptable ones (`[200, 404]`, for cleanup
/// steps whose object may already be gone).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ExpectedStatus {
    /// Exactly this status.
    One(u16),
    /// Any of these.
    AnyOf(Vec<u16>),
}

impl ExpectedStatus {
    /// Every acceptable status.
    pub fn statuses(&self) -> Vec<u16> {
        match self {
            ExpectedStatus::One(status) => vec![*status],
            ExpectedStatus::AnyOf(statuses) => statuses.clone(),
        }
    }

    /// Whether `status` is acceptable.
    pub fn accepts(&self, status: u16) -> bool {
        self.statuses().contains(&status)
    }

    /// `200` or `one of [200, 404]`, for messages.
    pub fn describe(&self) -> String {
        match self {
            ExpectedStatus::One(status) => status.to_string(),
            ExpectedStatus::AnyOf(statuses) => format!("one of {statuses:?}"),
        }
    }
}

impl Step {
    /// Every variable the step's request references (path, query, headers, body, raw body, url).
    pub fn request_variables(&self) -> Vec<String> {
        let mut parts = vec![
            Value::Object(self.path.clone()),
            Value::Object(self.query.clone()),
            Value::Object(self.headers.clone()),
        ];
        parts.extend(self.body.clone());
        parts.extend(self.raw_body.clone().map(Value::String));
        parts.extend(self.url.clone().map(Value::String));
        if let Some(multipart) = &self.multipart {
            parts.push(Value::Object(multipart.fields.clone()));
            parts.push(Value::Object(multipart.files.clone()));
        }
        referenced_names(&Value::Array(parts))
    }

    /// Every variable the step needs from earlier steps: its request's, its expected body's
    /// and raw body's, its polling values', and its events' (less those its own stream captures).
    pub fn needed_variables(&self) -> Vec<String> {
        let mut names = self.request_variables();
        let mut expected: Vec<Value> = self.expect.body.iter().cloned().collect();
        if let Some(ExpectedBytes::Text(text)) = &self.expect.raw_body {
            expected.push(Value::String(text.clone()));
        }
        if let Some(poll) = &self.poll {
            expected.extend(poll.until.iter().cloned());
        }
        let own: BTreeSet<String> = self.captured_names().into_iter().collect();
        for event in self.expect.events.iter().flatten() {
            expected.extend(event.data.iter().cloned());
        }
        names.extend(
            referenced_names(&Value::Array(expected))
                .into_iter()
                .filter(|name| !own.contains(name)),
        );
        let mut seen = BTreeSet::new();
        names.retain(|name| seen.insert(name.clone()));
        names
    }

    /// The expected status (validated present at load).
    pub fn expected_status(&self) -> ExpectedStatus {
        self.expect
            .status
            .clone()
            .unwrap_or(ExpectedStatus::AnyOf(Vec::new()))
    }

    /// Whether the answer is read as server-sent events: `stream: true`, or a body asking for a
    /// stream (`body.stream: true`) unless the step says `stream: false`.
    pub fn streams(&self) -> bool {
        self.stream.unwrap_or_else(|| {
            self.body
                .as_ref()
                .and_then(|body| body.get("stream"))
                .and_then(Value::as_bool)
                .unwrap_or(false)
        })
    }

    /// Variables this step defines for later steps: its captures and its events' captures.
    pub fn captured_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.capture.keys().cloned().collect();
        for event in self.expect.events.iter().flatten() {
            names.extend(event.capture.keys().cloned());
        }
        names
    }
}

/// A fixture that cannot be used: which file and why.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}: {reason}", file.display())]
pub struct FixtureError {
    /// The offending file (or directory).
    pub file: PathBuf,
    /// What is wrong with it.
    pub reason: String,
}

/// The `fixtures/` directory found by walking up from `start`.
pub fn find_fixtures_dir(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|dir| dir.join("fixtures"))
        .find(|candidate| candidate.is_dir())
}

/// Loads and validates every scenario under `dir`, sorted by id.
pub fn load_scenarios(dir: &Path, catalog: &dyn Catalog) -> Result<Vec<Scenario>, FixtureError> {
    let mut files = Vec::new();
    collect_yaml_files(dir, &mut files)?;
    files.sort();
    let mut scenarios = Vec::with_capacity(files.len());
    let mut ids = BTreeSet::new();
    for file in files {
        let scenario = load_scenario(dir, &file, catalog)?;
        if !ids.insert(scenario.id.clone()) {
            return Err(FixtureError {
                file,
                reason: format!("duplicate scenario id `{}`", scenario.id),
            });
        }
        scenarios.push(scenario);
    }
    scenarios.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(scenarios)
}

fn collect_yaml_files(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), FixtureError> {
    let entries = std::fs::read_dir(dir).map_err(|err| FixtureError {
        file: dir.to_owned(),
        reason: format!("cannot read directory: {err}"),
    })?;
    for entry in entries {
        let path = entry
            .map_err(|err| FixtureError {
                file: dir.to_owned(),
                reason: format!("cannot read directory: {err}"),
            })?
            .path();
        if path.is_dir() {
            collect_yaml_files(&path, files)?;
        } else if matches!(
            path.extension().and_then(|ext| ext.to_str()),
            Some("yaml" | "yml")
        ) {
            files.push(path);
        }
    }
    Ok(())
}

/// Parses and validates one scenario file.
pub fn load_scenario(
    root: &Path,
    file: &Path,
    catalog: &dyn Catalog,
) -> Result<Scenario, FixtureError> {
    let fail = |reason: String| FixtureError {
        file: file.to_owned(),
        reason,
    };
    let text = std::fs::read_to_string(file).map_err(|err| fail(format!("cannot read: {err}")))?;
    let mut scenario: Scenario =
        serde_yaml::from_str(&text).map_err(|err| fail(format!("invalid scenario: {err}")))?;
    scenario.id = scenario_id(root, file);
    validate(&scenario, catalog).map_err(fail)?;
    Ok(scenario)
}

/// The id of a scenario file: its path below the fixtures directory, `/`-separated, no extension.
pub fn scenario_id(root: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(root).unwrap_or(file).with_extension("");
    relative
        .components()
        .map(|part| part.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}
