//! The `thread.run.step` object, and the SSE-only shape of messages a run writes.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::run::RunUsage;
use super::{JsonMap, Message, MessageStatus, StepStatus};

/// One step of a run: a message it wrote or a round of tool calls.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunStep {
    /// `step_` + 24 base62.
    pub id: String,
    /// Always `thread.run.step`.
    pub object: String,
    /// Unix seconds of creation.
    pub created_at: i64,
    /// The run it belongs to.
    pub run_id: String,
    /// The run's assistant.
    pub assistant_id: String,
    /// The run's thread.
    pub thread_id: String,
    /// `message_creation` or `tool_calls`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Where the step is in its life.
    pub status: StepStatus,
    /// When the step was cancelled.
    pub cancelled_at: Option<i64>,
    /// When the step completed.
    pub completed_at: Option<i64>,
    /// The run's `expires_at` while the run is active (REST shows null afterwards).
    pub expires_at: Option<i64>,
    /// When the step failed.
    pub failed_at: Option<i64>,
    /// `{code, message}` of a failed step.
    pub last_error: Option<Value>,
    /// `{type:"message_creation", message_creation:{message_id}}` or
    /// `{type:"tool_calls", tool_calls:[…]}`.
    pub step_details: Value,
    /// Tokens of the model turn behind the step; null while in progress.
    pub usage: Option<RunUsage>,
}

/// A run's message as SSE events carried it: with `status` and its timestamps.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StreamMessage {
    /// As [`Message::id`].
    pub id: String,
    /// Always `thread.message`.
    pub object: String,
    /// As [`Message::created_at`].
    pub created_at: i64,
    /// As [`Message::assistant_id`].
    pub assistant_id: Option<String>,
    /// As [`Message::thread_id`].
    pub thread_id: String,
    /// As [`Message::run_id`].
    pub run_id: Option<String>,
    /// Whether the run is still writing it.
    pub status: MessageStatus,
    /// `{reason}` when incomplete.
    pub incomplete_details: Option<Value>,
    /// When it ended incomplete.
    pub incomplete_at: Option<i64>,
    /// When it completed.
    pub completed_at: Option<i64>,
    /// As [`Message::role`].
    pub role: String,
    /// As [`Message::content`].
    pub content: Vec<Value>,
    /// As [`Message::attachments`].
    pub attachments: Vec<Value>,
    /// As [`Message::metadata`].
    pub metadata: JsonMap,
}

impl StreamMessage {
    /// The SSE shape of `message` in `status`.
    pub fn of(message: &Message, status: MessageStatus) -> Self {
        Self {
            id: message.id.clone(),
            object: message.object.clone(),
            created_at: message.created_at,
            assistant_id: message.assistant_id.clone(),
            thread_id: message.thread_id.clone(),
            run_id: message.run_id.clone(),
            status,
            incomplete_details: None,
            incomplete_at: None,
            completed_at: None,
            role: message.role.clone(),
            content: message.content.clone(),
            attachments: message.attachments.clone(),
            metadata: message.metadata.clone(),
        }
    }
}
