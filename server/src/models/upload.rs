//! The `upload` and `upload.part` objects of the Uploads API.

use serde::{Deserialize, Serialize};

use super::file::FileObject;
use super::UploadStatus;

/// An upload as OpenAI returned it, keys in the recorded order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Upload {
    /// `upload_` + 32 hex.
    pub id: String,
    /// Always `upload`.
    pub object: String,
    /// The size the client declared; the parts must add up to it.
    pub bytes: u64,
    /// Unix seconds of creation.
    pub created_at: i64,
    /// Name of the file the upload becomes.
    pub filename: String,
    /// Purpose of the file the upload becomes.
    pub purpose: String,
    /// Where the upload is in its life.
    pub status: UploadStatus,
    /// An hour after creation, as OpenAI documented.
    pub expires_at: i64,
    /// The file created on completion; the key is absent before (as recorded).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub file: Option<FileObject>,
}

/// One chunk of an upload.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UploadPart {
    /// `part_` + 32 hex.
    pub id: String,
    /// Always `upload.part`.
    pub object: String,
    /// Unix seconds of creation.
    pub created_at: i64,
    /// The upload it belongs to.
    pub upload_id: String,
}
