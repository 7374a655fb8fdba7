//! The `purpose` of a file, checked with OpenAI's exact message.

use crate::api_error::ApiError;

/// Purposes `POST /v1/files` accepts, in the order OpenAI's message lists them.
pub const FILE_PURPOSES: &[&str] = &[
    "fine-tune",
    "assistants",
    "batch",
    "user_data",
    "vision",
    "evals",
];

/// Checks `purpose` against [`FILE_PURPOSES`].
pub fn check_purpose(purpose: &str) -> Result<(), ApiError> {
    if FILE_PURPOSES.contains(&purpose) {
        Ok(())
    } else {
        Err(ApiError::invalid_purpose(purpose))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_purposes_get_the_recorded_message() {
        let error = check_purpose("world_domination").unwrap_err();
        assert_eq!(
            error.message,
            "'world_domination' is not one of ['fine-tune', 'assistants', 'batch', 'user_data', 'vision', 'evals'] - 'purpose'"
        );
        assert_eq!(error.param.as_deref(), Some("purpose"));
        assert!(FILE_PURPOSES.iter().all(|p| check_purpose(p).is_ok()));
    }
}
