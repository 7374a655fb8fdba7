//! What a store call can fail with, named by meaning rather than by backend, and how
//! a database driver's errors map onto those meanings (keeping the driver's error as
//! the source, so a log shows what the database said).

/// A failure below the store that explains a [`StoreError::Backend`].
pub type BackendSource = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Store failures, named by meaning rather than by backend.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The object does not exist for this tenant (or at all).
    #[error("not found")]
    NotFound,
    /// The write collides with existing data (e.g. a duplicate id).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database URL names a backend this build cannot use.
    #[error("{0}")]
    Unsupported(String),
    /// Stored data could not be read back (corrupt JSON document).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// The thread already has this active run (the one-run-per-thread rule).
    #[error("thread has the active run {0}")]
    ActiveRun(String),
    /// Storing the bytes would take the tenant past its storage quota.
    #[error("storage quota of {quota} bytes exceeded: {needed} bytes needed")]
    OverQuota {
        /// The tenant's stored bytes with the new ones.
        needed: u64,
        /// The configured quota.
        quota: u64,
    },
    /// An upload's parts would total more than the `bytes` it was created with.
    #[error("upload parts would total {total} bytes, above the declared {declared}")]
    PastDeclared {
        /// The upload's declared size.
        declared: u64,
        /// Its parts' total with the new part.
        total: u64,
    },
    /// The backend itself failed (I/O, locking, migrations...).
    #[error("database error: {message}")]
    Backend {
        /// What was being done, and what went wrong.
        message: String,
        /// The driver's or the file system's own error, when there is one.
        #[source]
        source: Option<BackendSource>,
    },
}

impl StoreError {
    /// A backend failure the store itself detected (no underlying error).
    pub fn backend(message: impl Into<String>) -> Self {
        StoreError::Backend {
            message: message.into(),
            source: None,
        }
    }

    /// A backend failure while `doing` something, caused by `source`.
    pub fn backend_while(
        doing: impl std::fmt::Display,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        StoreError::Backend {
            message: format!("{doing}: {source}"),
            source: Some(Box::new(source)),
        }
    }
}

/// SQLSTATE `character_not_in_repertoire`: what PostgreSQL answers for a NUL in text.
const NUL_IN_TEXT: &str = "22021";

impl From<sqlx::Error> for StoreError {
    /// Maps a driver failure onto its meaning; anything else is a backend failure that
    /// keeps the driver's error.
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::RowNotFound => return StoreError::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                return StoreError::Conflict(db.to_string())
            }
            // A parent (thread, run, upload) deleted by a concurrent transaction.
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                return StoreError::NotFound
            }
            // PostgreSQL text cannot hold U+0000 (SQLite's can): a NUL in an id, cursor
            // or filter fails the statement, where SQLite simply finds no row with it.
            sqlx::Error::Database(db) if db.code().as_deref() == Some(NUL_IN_TEXT) => {
                return StoreError::NotFound
            }
            _ => {}
        }
        StoreError::Backend {
            message: error.to_string(),
            source: Some(Box::new(error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error;

    use super::*;

    #[test]
    fn a_driver_failure_keeps_its_source() {
        let error = StoreError::from(sqlx::Error::PoolTimedOut);
        assert!(matches!(error, StoreError::Backend { .. }), "{error:?}");
        let source = error.source().expect("the driver's error");
        assert_eq!(source.to_string(), sqlx::Error::PoolTimedOut.to_string());
    }

    #[test]
    fn a_missing_row_is_not_found() {
        assert!(matches!(
            StoreError::from(sqlx::Error::RowNotFound),
            StoreError::NotFound
        ));
    }

    #[test]
    fn a_failure_while_doing_something_says_what_and_keeps_why() {
        let io = std::io::Error::other("disk full");
        let error = StoreError::backend_while("copying files", io);
        assert_eq!(
            error.to_string(),
            "database error: copying files: disk full"
        );
        assert_eq!(error.source().unwrap().to_string(), "disk full");
    }
}
