//! The states of the API objects as enums: runs, steps, messages as SSE shows them,
//! files, uploads, vector stores, their files and file batches. Each serialises as
//! its wire string (snake_case, what OpenAI sent), and `as_str` gives the same text
//! for SQL columns and metric labels, so the strings live in one place.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A status text that names no variant of the status kind it was read as (a stored
/// column or a query parameter holding something this build never writes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} status '{value}'")]
pub struct UnknownStatus {
    /// Which status enum was asked for, e.g. `run`.
    pub kind: &'static str,
    /// The text that matched none of its variants.
    pub value: String,
}

/// Declares a status enum with its wire strings, `as_str`, `Display` and `FromStr`.
/// The serde form comes from `rename_all`; the unit tests hold it equal to `as_str`.
macro_rules! status_enum {
    (
        $(#[$meta:meta])*
        $name:ident ($kind:literal) {
            $($(#[$variant_meta:meta])* $variant:ident => $wire:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)+
        }

        impl $name {
            /// Every variant, in the order OpenAI's documentation lists them.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// Every variant's wire string, in [`Self::ALL`]'s order (error messages
            /// that list the supported values).
            pub const NAMES: &'static [&'static str] = &[$($wire,)+];

            /// The wire string, as JSON carries it and status columns store it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownStatus;

            fn from_str(text: &str) -> Result<Self, UnknownStatus> {
                match text {
                    $($wire => Ok($name::$variant),)+
                    _ => Err(UnknownStatus {
                        kind: $kind,
                        value: text.to_owned(),
                    }),
                }
            }
        }
    };
}

status_enum! {
    /// Where a run is in its life; see [`RunStatus::is_active`].
    RunStatus("run") {
        /// Created (or given tool outputs) and waiting for a worker.
        Queued => "queued",
        /// A model turn is under way.
        InProgress => "in_progress",
        /// Waiting for the client's tool outputs.
        RequiresAction => "requires_action",
        /// Cancel requested; the worker has not stopped yet.
        Cancelling => "cancelling",
        /// Cancelled.
        Cancelled => "cancelled",
        /// Ended with `last_error`.
        Failed => "failed",
        /// Ended with the model's answer.
        Completed => "completed",
        /// Ended by a token limit (`incomplete_details`).
        Incomplete => "incomplete",
        /// No tool outputs came before `expires_at`.
        Expired => "expired",
    }
}

impl RunStatus {
    /// Whether the run still holds its thread (one active run per thread), and so is
    /// still to be worked on, waited for or recovered.
    pub const fn is_active(self) -> bool {
        matches!(
            self,
            RunStatus::Queued
                | RunStatus::InProgress
                | RunStatus::RequiresAction
                | RunStatus::Cancelling
        )
    }

    /// Whether the run has ended: nothing changes it any more.
    pub const fn is_terminal(self) -> bool {
        !self.is_active()
    }

    /// Whether an instance works on the run and so holds its lease: every active
    /// status but `requires_action`, where the run rests until outputs come.
    pub const fn is_worked_on(self) -> bool {
        matches!(
            self,
            RunStatus::Queued | RunStatus::InProgress | RunStatus::Cancelling
        )
    }
}

status_enum! {
    /// Where a run step is in its life.
    StepStatus("run step") {
        /// Being written by the run's current turn.
        InProgress => "in_progress",
        /// Its run was cancelled before it finished.
        Cancelled => "cancelled",
        /// Its run failed before it finished.
        Failed => "failed",
        /// Done.
        Completed => "completed",
        /// Its run expired waiting for tool outputs.
        Expired => "expired",
    }
}

status_enum! {
    /// A run's message as SSE events show it (REST messages carry no status).
    MessageStatus("message") {
        /// Being written.
        InProgress => "in_progress",
        /// Cut short by a token limit.
        Incomplete => "incomplete",
        /// Written in full.
        Completed => "completed",
    }
}

status_enum! {
    /// OpenAI's deprecated status of a file.
    FileStatus("file") {
        /// Received, not yet processed (never shown: files are stored whole).
        Uploaded => "uploaded",
        /// Stored and usable: what every file shows.
        Processed => "processed",
        /// Processing failed (never shown).
        Error => "error",
    }
}

status_enum! {
    /// Where an upload is in its life.
    UploadStatus("upload") {
        /// Accepting parts.
        Pending => "pending",
        /// Turned into a file.
        Completed => "completed",
        /// Cancelled by the client; its parts are gone.
        Cancelled => "cancelled",
        /// Not completed within its hour; its parts are gone.
        Expired => "expired",
    }
}

status_enum! {
    /// A vector store's status, computed on read from its files and expiry.
    VectorStoreStatus("vector store") {
        /// Past `expires_at`: it can no longer be searched or changed.
        Expired => "expired",
        /// Some file is still being ingested.
        InProgress => "in_progress",
        /// Every file has been ingested (or failed, or was cancelled).
        Completed => "completed",
    }
}

status_enum! {
    /// Where the ingestion of a file attached to a vector store is; the values of the
    /// `filter` parameter of file lists, in the order errors list them.
    VectorStoreFileStatus("vector store file") {
        /// Being chunked and embedded.
        InProgress => "in_progress",
        /// Ready for search.
        Completed => "completed",
        /// Ingestion failed (`last_error` says why).
        Failed => "failed",
        /// Its batch was cancelled before it was ingested.
        Cancelled => "cancelled",
    }
}

status_enum! {
    /// A file batch's status: follows its files unless it was cancelled.
    FileBatchStatus("file batch") {
        /// Some of its files are still being ingested.
        InProgress => "in_progress",
        /// Done (some files may have failed).
        Completed => "completed",
        /// Cancelled by the client; its files still in progress were cancelled too.
        Cancelled => "cancelled",
        /// Every one of its files failed.
        Failed => "failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every variant's `as_str` is its serde form and parses back; unknown text and
    /// another case fail to parse.
    fn round_trips<S>(all: &[S], names: &[&str])
    where
        S: Copy + fmt::Debug + PartialEq + Serialize + for<'de> Deserialize<'de>,
        S: FromStr<Err = UnknownStatus> + fmt::Display,
    {
        assert_eq!(all.len(), names.len());
        for (&status, &name) in all.iter().zip(names) {
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{name}\""));
            assert_eq!(status.to_string(), name);
            assert_eq!(name.parse::<S>(), Ok(status));
            assert_eq!(serde_json::from_str::<S>(&json).unwrap(), status);
        }
        for unknown in ["", "unknown", "IN_PROGRESS", "Completed", " queued"] {
            let error = unknown.parse::<S>().unwrap_err();
            assert_eq!(error.value, unknown);
            assert!(serde_json::from_str::<S>(&format!("\"{unknown}\"")).is_err());
        }
    }

    #[test]
    fn every_status_round_trips_through_its_wire_string() {
        round_trips(RunStatus::ALL, RunStatus::NAMES);
        round_trips(StepStatus::ALL, StepStatus::NAMES);
        round_trips(MessageStatus::ALL, MessageStatus::NAMES);
        round_trips(FileStatus::ALL, FileStatus::NAMES);
        round_trips(UploadStatus::ALL, UploadStatus::NAMES);
        round_trips(VectorStoreStatus::ALL, VectorStoreStatus::NAMES);
        round_trips(VectorStoreFileStatus::ALL, VectorStoreFileStatus::NAMES);
        round_trips(FileBatchStatus::ALL, FileBatchStatus::NAMES);
    }

    #[test]
    fn run_statuses_split_into_active_and_terminal() {
        let active: Vec<_> = RunStatus::ALL.iter().filter(|s| s.is_active()).collect();
        assert_eq!(
            active,
            [
                &RunStatus::Queued,
                &RunStatus::InProgress,
                &RunStatus::RequiresAction,
                &RunStatus::Cancelling
            ]
        );
        for status in RunStatus::ALL {
            assert_ne!(status.is_active(), status.is_terminal(), "{status}");
            assert!(!status.is_worked_on() || status.is_active(), "{status}");
        }
        assert!(!RunStatus::RequiresAction.is_worked_on());
    }

    #[test]
    fn an_unknown_status_names_its_kind() {
        let error = "done".parse::<RunStatus>().unwrap_err();
        assert_eq!(error.to_string(), "unknown run status 'done'");
    }
}
