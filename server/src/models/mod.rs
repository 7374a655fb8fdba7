//! The API objects as they travel on the wire. Field order is the key order OpenAI
//! used (serde writes fields in declaration order), so these structs are the
//! byte-for-byte contract with clients.

pub mod assistant;
pub mod file;
pub mod message;
pub mod run;
pub mod status;
pub mod step;
pub mod thread;
pub mod upload;

pub use assistant::Assistant;
pub use message::Message;
pub use run::{Run, RunUsage};
pub use status::{
    FileBatchStatus, FileStatus, MessageStatus, RunStatus, StepStatus, UnknownStatus, UploadStatus,
    VectorStoreFileStatus, VectorStoreStatus,
};
pub use step::{RunStep, StreamMessage};
pub use thread::Thread;

use serde::{Deserialize, Serialize};

/// A JSON object with keys kept in the order they were given (`preserve_order`).
pub type JsonMap = serde_json::Map<String, serde_json::Value>;

/// `{id, object, deleted: true}`, the answer of every delete operation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Deleted {
    /// Id of the object that was deleted.
    pub id: String,
    /// e.g. `assistant.deleted`.
    pub object: String,
    /// Always true: a failed delete answers with an error instead.
    pub deleted: bool,
}

impl Deleted {
    /// The deletion object for `id` of type `object`.
    pub fn new(id: impl Into<String>, object: &str) -> Self {
        Self {
            id: id.into(),
            object: object.to_owned(),
            deleted: true,
        }
    }
}

/// A page of a list operation: `{object:"list", data, first_id, last_id, has_more}`.
#[derive(Debug, Clone, Serialize)]
pub struct ListPage<T> {
    /// Always `list`.
    pub object: &'static str,
    /// The items of this page, in the requested order.
    pub data: Vec<T>,
    /// Id of `data[0]`, null when empty.
    pub first_id: Option<String>,
    /// Id of the last item, null when empty.
    pub last_id: Option<String>,
    /// Whether more items exist past this page.
    pub has_more: bool,
}

impl<T> ListPage<T> {
    /// Builds a page; `id_of` tells each item's id for `first_id`/`last_id`.
    pub fn new(data: Vec<T>, has_more: bool, id_of: impl Fn(&T) -> &str) -> Self {
        Self {
            object: "list",
            first_id: data.first().map(|item| id_of(item).to_owned()),
            last_id: data.last().map(|item| id_of(item).to_owned()),
            data,
            has_more,
        }
    }
}
