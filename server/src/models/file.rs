//! The `file` object (2025 shape, with `expires_at`) and its deletion answer.

use serde::{Deserialize, Serialize};

use super::FileStatus;

/// A file as OpenAI returned it, keys in the recorded order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileObject {
    /// Always `file`; OpenAI put it before `id` on this object.
    pub object: String,
    /// `file-` + 22 base62.
    pub id: String,
    /// What the file is for (`assistants`, `vision`, ...).
    pub purpose: String,
    /// The name the client gave, kept as given (non-ASCII included).
    pub filename: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Unix seconds of creation.
    pub created_at: i64,
    /// Unix seconds after which the file is gone; null when it never expires.
    pub expires_at: Option<i64>,
    /// Always `processed` once stored (OpenAI's deprecated status field).
    pub status: FileStatus,
    /// Deprecated by OpenAI; always null.
    pub status_details: Option<String>,
}

/// `{object:"file", deleted:true, id}`: file deletions use their own key order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileDeleted {
    /// Always `file`.
    pub object: String,
    /// Always true: a failed delete answers with an error instead.
    pub deleted: bool,
    /// Id of the deleted file.
    pub id: String,
}

impl FileDeleted {
    /// The answer to deleting `id`.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            object: "file".to_owned(),
            deleted: true,
            id: id.into(),
        }
    }
}

/// A page of `GET /v1/files`, whose keys came in the order
/// `object, data, has_more, first_id, last_id`.
#[derive(Debug, Clone, Serialize)]
pub struct FileList {
    /// Always `list`.
    pub object: &'static str,
    /// The files of this page.
    pub data: Vec<FileObject>,
    /// Whether more files exist past this page.
    pub has_more: bool,
    /// Id of `data[0]`, null when empty.
    pub first_id: Option<String>,
    /// Id of the last file, null when empty.
    pub last_id: Option<String>,
}

impl FileList {
    /// A page of `data`.
    pub fn new(data: Vec<FileObject>, has_more: bool) -> Self {
        Self {
            object: "list",
            has_more,
            first_id: data.first().map(|file| file.id.clone()),
            last_id: data.last().map(|file| file.id.clone()),
            data,
        }
    }
}
