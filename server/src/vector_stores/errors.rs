//! The errors only vector stores send. Texts marked "guessed" were not recorded.

use axum::http::StatusCode;

use crate::api_error::ApiError;
use crate::models::FileBatchStatus;

/// A 400 `invalid_request_error` naming `param`.
pub fn bad_param(param: &str, message: String) -> ApiError {
    ApiError {
        status: StatusCode::BAD_REQUEST,
        message,
        kind: "invalid_request_error",
        param: Some(param.to_owned()),
        code: None,
    }
}

/// 404 for an unknown vector store (text as client code matches it).
pub fn no_vector_store(id: &str) -> ApiError {
    ApiError::not_found("vector store", id)
}

/// 404 for a file not attached to the store (guessed, same pattern).
pub fn no_vector_store_file(vector_store_id: &str, file_id: &str) -> ApiError {
    ApiError {
        status: StatusCode::NOT_FOUND,
        message: format!("No file found with id '{file_id}' in vector store '{vector_store_id}'."),
        kind: "invalid_request_error",
        param: None,
        code: None,
    }
}

/// 404 for an unknown batch (guessed, same pattern).
pub fn no_file_batch(id: &str) -> ApiError {
    ApiError::not_found("file batch", id)
}

/// 400 for a `file_id` that names no live file of the tenant (guessed).
pub fn unknown_file(param: &str, file_id: &str) -> ApiError {
    bad_param(param, format!("No file found with id '{file_id}'."))
}

/// 400 for using a store past its expiry (text as client code matches it).
pub fn expired(id: &str) -> ApiError {
    bad_param(
        "vector_store_id",
        format!("Vector store '{id}' has expired."),
    )
}

/// 400 for cancelling a batch that has ended (guessed).
pub fn batch_not_cancellable(status: FileBatchStatus) -> ApiError {
    ApiError {
        status: StatusCode::BAD_REQUEST,
        message: format!("Cannot cancel a file batch with status '{status}'."),
        kind: "invalid_request_error",
        param: None,
        code: None,
    }
}
