//! Scenario fixtures (`fixtures/**/*.yaml`, format in `fixtures/README.md`): parsing, discovery
//! and the load-time checks that turn a broken fixture into exit code 2 instead of a false verdict.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::catalog::Catalog;
use crate::vars::referenced_names;

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
    /// The ordered steps; the scenario stops at the first that does not pass.
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
    /// A raw path below the base URL, instead of `operation`.
    #[serde(default)]
    pub url: Option<String>,
    /// The method for a raw `url` step.
    #[serde(default)]
    pub method: Option<String>,
    /// Variables captured from the response body by JSON pointer, in file order.
    #[serde(default)]
    pub capture: Map<String, Value>,
    /// What the response must look like.
    pub expect: Expect,
}

/// The expected response.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The recorded status; required (checked at load for a clear message).
    #[serde(default)]
    pub status: Option<u16>,
    /// The recorded body, with matchers.
    #[serde(default)]
    pub body: Option<Value>,
    /// Spaces per indent level of the recorded body: 2 (the default) for OpenAI's API bodies, 4
    /// for the 401s its edge answers with.
    #[serde(default)]
    pub indent: Option<usize>,
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
        referenced_names(&Value::Array(parts))
    }

    /// The expected status (validated present at load).
    pub fn expected_status(&self) -> u16 {
        self.expect.status.unwrap_or_default()
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

/// The load-time checks; the error says what to fix.
pub fn validate(scenario: &Scenario, catalog: &dyn Catalog) -> Result<(), String> {
    if scenario.description.trim().is_empty() {
        return Err("`description` is empty".into());
    }
    if scenario.provenance.is_empty() {
        return Err(
            "`provenance` is empty: say which recording or document the expectations come from"
                .into(),
        );
    }
    if scenario.steps.is_empty() {
        return Err("`steps` is empty".into());
    }
    let mut names = BTreeSet::new();
    for step in scenario.steps.iter().chain(&scenario.cleanup) {
        if !names.insert(step.name.as_str()) {
            return Err(format!("duplicate step name `{}`", step.name));
        }
        validate_step(step, catalog).map_err(|reason| format!("step `{}`: {reason}", step.name))?;
    }
    check_variables_are_captured_first(scenario)
}

/// Built-in variables every scenario has.
const BUILT_IN_VARIABLES: [&str; 2] = ["model", "run_tag"];

/// Every variable a step uses must be built in or captured by an earlier step, so a typo is a
/// bad fixture rather than an ERROR at run time.
fn check_variables_are_captured_first(scenario: &Scenario) -> Result<(), String> {
    let mut known: BTreeSet<String> = BUILT_IN_VARIABLES
        .iter()
        .map(|name| name.to_string())
        .collect();
    for step in scenario.steps.iter().chain(&scenario.cleanup) {
        let mut used = step.request_variables();
        used.extend(
            step.expect
                .body
                .as_ref()
                .map(referenced_names)
                .unwrap_or_default(),
        );
        if let Some(name) = used.iter().find(|name| !known.contains(*name)) {
            return Err(format!(
                "step `{}`: variable ${{{name}}} is neither built in nor captured by an earlier step",
                step.name
            ));
        }
        known.extend(step.capture.keys().cloned());
    }
    Ok(())
}

fn validate_step(step: &Step, catalog: &dyn Catalog) -> Result<(), String> {
    if step.name.trim().is_empty() {
        return Err("empty step name".into());
    }
    match step.expect.status {
        None => return Err("missing `expect.status`".into()),
        Some(status) if !(100..=599).contains(&status) => {
            return Err(format!("`expect.status` {status} is not an HTTP status"))
        }
        Some(_) => {}
    }
    if let Some(indent) = step
        .expect
        .indent
        .filter(|indent| !(1..=8).contains(indent))
    {
        return Err(format!("`expect.indent` {indent} is not between 1 and 8"));
    }
    if step.body.is_some() && step.raw_body.is_some() {
        return Err("both `body` and `raw_body` given".into());
    }
    match (&step.operation, &step.url, &step.method) {
        (Some(operation_id), None, None) => {
            let operation = catalog
                .operation(operation_id)
                .ok_or_else(|| format!("unknown operationId `{operation_id}`"))?;
            check_path_params(&operation.path, &step.path)?;
        }
        (None, Some(url), Some(method)) => {
            if !url.starts_with('/') {
                return Err(format!("`url` {url:?} must start with `/`"));
            }
            if reqwest::Method::from_bytes(method.as_bytes()).is_err()
                || method.to_uppercase() != *method
            {
                return Err(format!(
                    "`method` {method:?} is not an upper-case HTTP method"
                ));
            }
            if !step.path.is_empty() {
                return Err("`path` parameters need `operation`, not `url`".into());
            }
        }
        (Some(_), _, _) => {
            return Err("give either `operation` or `url` + `method`, not both".into())
        }
        (None, _, _) => return Err("missing `operation` (or `url` with `method`)".into()),
    }
    for (name, value) in &step.headers {
        if !(value.is_string() || value.is_null() || value.is_number() || value.is_boolean()) {
            return Err(format!("header `{name}` must be a string or null"));
        }
    }
    for (variable, pointer) in &step.capture {
        match pointer.as_str() {
            Some(text) if text.is_empty() || text.starts_with('/') => {}
            _ => {
                return Err(format!(
                    "capture `{variable}`: {pointer} is not a JSON pointer"
                ))
            }
        }
    }
    Ok(())
}

fn check_path_params(template: &str, given: &Map<String, Value>) -> Result<(), String> {
    let wanted: BTreeSet<&str> = template
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .collect();
    if let Some(missing) = wanted.iter().find(|name| !given.contains_key(**name)) {
        return Err(format!("missing path parameter `{missing}` for {template}"));
    }
    if let Some(extra) = given.keys().find(|name| !wanted.contains(name.as_str())) {
        return Err(format!("path parameter `{extra}` is not in {template}"));
    }
    Ok(())
}
