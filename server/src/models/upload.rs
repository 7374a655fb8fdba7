//! The `upload` and `upload.part` objects of the Uploads API.

use serde::{Deserialize, Serialize};

use super::file::FileObject;

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
    /// `pending`, `completed`, `cancelled` or `expired`.
    pub status: String,
    /// An hour after creation, as OpenAI documented.
    pub expires_at: i64,
    /// The file created on completion; the key is absent before (as recorded).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub file: Option<FileObject>,
}

/// Statuses an upload moves through.
pub mod status {
    /// Accepting parts.
    pub const PENDING: &str = "pending";
    /// Turned into a file.
    pub const COMPLETED: &str = "completed";
    /// Cancelled by the client; its parts are gone.
    pub const CANCELLED: &str = "cancelled";
    /// Not completed within its hour; its parts are gone.
    pub const EXPIRED: &str = "expired";
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
