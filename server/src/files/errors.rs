//! The error texts of `/v1/files` and `/v1/uploads`. The file endpoints came from a
//! different OpenAI service than the Assistants API, with its own wording
//! (`No such File object: ID`); recorded texts say so, the rest follow the same style
//! and are marked as guesses.

use axum::http::StatusCode;

use crate::api_error::ApiError;
use crate::files::purpose::FILE_PURPOSES;
use crate::models::UploadStatus;
use crate::store::StoreError;

fn invalid_request(status: StatusCode, message: String, param: Option<&str>) -> ApiError {
    ApiError {
        status,
        message,
        kind: "invalid_request_error",
        param: param.map(str::to_owned),
        code: None,
    }
}

impl ApiError {
    /// 404 for a file id this tenant does not have (recorded, param `id`).
    pub fn no_such_file(id: &str) -> Self {
        invalid_request(
            StatusCode::NOT_FOUND,
            format!("No such File object: {id}"),
            Some("id"),
        )
    }

    /// 400 for a purpose outside the list (recorded).
    pub fn invalid_purpose(purpose: &str) -> Self {
        let allowed: Vec<String> = FILE_PURPOSES.iter().map(|p| format!("'{p}'")).collect();
        invalid_request(
            StatusCode::BAD_REQUEST,
            format!(
                "'{purpose}' is not one of [{}] - 'purpose'",
                allowed.join(", ")
            ),
            Some("purpose"),
        )
    }

    /// 413 for a file or part above the size limit (wording of OpenAI's upload proxy,
    /// as quoted by users; not recorded).
    pub fn content_too_large(limit: u64, read: u64) -> Self {
        invalid_request(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Maximum content size limit ({limit}) exceeded ({read} bytes read)"),
            None,
        )
    }

    /// 400 for a body that is not `multipart/form-data` where one is required (guessed).
    pub fn not_multipart(content_type: &str) -> Self {
        invalid_request(
            StatusCode::BAD_REQUEST,
            format!(
                "Invalid Content-Type header ({content_type}), expected multipart/form-data. (HINT: If \
                 you're using curl, you can pass -H 'Content-Type: multipart/form-data')"
            ),
            None,
        )
    }

    /// 400 for a multipart body that cannot be parsed (guessed).
    pub fn malformed_multipart(detail: &str) -> Self {
        invalid_request(
            StatusCode::BAD_REQUEST,
            format!("Could not parse multipart form: {detail}"),
            None,
        )
    }

    /// 404 for an upload id this tenant does not have (guessed after the file text).
    pub fn no_such_upload(id: &str) -> Self {
        invalid_request(
            StatusCode::NOT_FOUND,
            format!("No such Upload object: {id}"),
            Some("id"),
        )
    }

    /// 400 for adding parts to, completing or cancelling an upload that is no longer
    /// pending (guessed).
    pub fn upload_not_pending(id: &str, status: UploadStatus) -> Self {
        invalid_request(
            StatusCode::BAD_REQUEST,
            format!("Upload {id} is {status}: only a pending Upload can be changed."),
            None,
        )
    }

    /// 400 for a part id that is not a part of this upload (guessed).
    pub fn no_such_part(id: &str) -> Self {
        invalid_request(
            StatusCode::BAD_REQUEST,
            format!("No such Part object: {id}"),
            Some("part_ids"),
        )
    }

    /// 400 for a part id listed twice in `part_ids` (guessed).
    pub fn duplicate_part(id: &str) -> Self {
        invalid_request(
            StatusCode::BAD_REQUEST,
            format!("Part {id} is listed more than once in part_ids."),
            Some("part_ids"),
        )
    }

    /// 400 when the parts do not add up to the declared size (guessed).
    pub fn upload_size_mismatch(declared: u64, received: u64) -> Self {
        invalid_request(
            StatusCode::BAD_REQUEST,
            format!(
                "The Upload was created with bytes={declared}, but the given parts total {received} bytes."
            ),
            Some("part_ids"),
        )
    }

    /// 400 when the assembled bytes do not have the given MD5 (guessed).
    pub fn md5_mismatch(given: &str, actual: &str) -> Self {
        invalid_request(
            StatusCode::BAD_REQUEST,
            format!("The md5 checksum {given} does not match the uploaded bytes (md5 {actual})."),
            Some("md5"),
        )
    }

    /// 400 for a declared upload size above what one upload may hold (guessed).
    pub fn upload_too_large(max: u64, bytes: u64) -> Self {
        invalid_request(
            StatusCode::BAD_REQUEST,
            format!(
                "Invalid 'bytes': an Upload can hold at most {max} bytes, but {bytes} were declared."
            ),
            Some("bytes"),
        )
    }

    /// 400 for a multipart field given twice (`file`, `purpose`, `data`...): every
    /// field of these forms is single-valued, and keeping one silently would hide a
    /// client bug (guessed).
    pub fn duplicate_field(name: &str) -> Self {
        invalid_request(
            StatusCode::BAD_REQUEST,
            format!("Duplicate parameter: '{name}'. Each field may appear only once in the form."),
            Some(name),
        )
    }

    /// 400 for a part that would take an upload's parts past its declared `bytes`
    /// (guessed; refused when the part arrives rather than at completion).
    pub fn upload_part_past_declared(declared: u64, total: u64) -> Self {
        invalid_request(
            StatusCode::BAD_REQUEST,
            format!(
                "The Upload was created with bytes={declared}, but its parts would total at least \
                 {total} bytes with this one."
            ),
            Some("data"),
        )
    }

    /// 400 `storage_quota_exceeded` when storing would take the API key past its
    /// storage quota (ours: OpenAI's answer is unknown; a 429 would make SDKs retry).
    pub fn storage_quota_exceeded(needed: u64, quota: u64) -> Self {
        ApiError {
            code: Some("storage_quota_exceeded"),
            ..invalid_request(
                StatusCode::BAD_REQUEST,
                format!(
                    "Storage quota exceeded: this API key's files and pending upload parts would \
                     take {needed} bytes, above its quota of {quota} bytes. Delete files or cancel \
                     uploads to free space."
                ),
                None,
            )
        }
    }

    /// The answer to a store failure of the file endpoints: quota and declared-size
    /// refusals get their own errors, anything else is a 500.
    pub fn from_file_store(error: StoreError) -> Self {
        match error {
            StoreError::OverQuota { needed, quota } => Self::storage_quota_exceeded(needed, quota),
            StoreError::PastDeclared { declared, total } => {
                Self::upload_part_past_declared(declared, total)
            }
            other => other.into(),
        }
    }
}
