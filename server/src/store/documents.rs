//! What both backends share about rows: objects kept as their JSON documents (text,
//! in the key order clients see), the tables that hold them, and the readiness check
//! that every embedded migration is applied.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{StoreError, StoreResult};
use crate::models::UnknownStatus;

/// An object as the document text a row holds.
pub(crate) fn to_document(value: &impl Serialize) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// An object read back from its document text.
pub(crate) fn from_document<T: DeserializeOwned>(text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A status column holding a value no status enum knows was not written by this
/// server: corrupt data, like a document that does not parse.
impl From<UnknownStatus> for StoreError {
    fn from(error: UnknownStatus) -> Self {
        StoreError::Corrupt(error.to_string())
    }
}

/// The tables both backends page through; names never come from user input.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Table {
    Assistants,
    Files,
    Messages,
    Runs,
    RunSteps,
    Threads,
    VectorStores,
    VectorStoreFiles,
}

impl Table {
    /// The table's name in SQL.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Table::Assistants => "assistants",
            Table::Files => "files",
            Table::Messages => "messages",
            Table::Runs => "runs",
            Table::RunSteps => "run_steps",
            Table::Threads => "threads",
            Table::VectorStores => "vector_stores",
            Table::VectorStoreFiles => "vector_store_files",
        }
    }
}

/// `Backend` naming the first of `migrator`'s migrations that `applied` lacks, if any.
pub(crate) fn missing_migrations(
    migrator: &sqlx::migrate::Migrator,
    applied: &[i64],
) -> StoreResult<()> {
    match migrator.iter().find(|m| !applied.contains(&m.version)) {
        Some(missing) => Err(StoreError::backend(format!(
            "migration {} ({}) is not applied",
            missing.version, missing.description
        ))),
        None => Ok(()),
    }
}
