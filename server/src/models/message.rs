//! The `thread.message` object (REST shape, without `status`), and the shape
//! modify-message answered with (`file_ids` in place of `attachments`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::JsonMap;

/// A message as create, retrieve and list return it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Message {
    /// `msg_` + 24 base62.
    pub id: String,
    /// Always `thread.message`.
    pub object: String,
    /// Unix seconds of creation; messages created with their thread share it.
    pub created_at: i64,
    /// Set on messages a run writes; null on messages clients create.
    pub assistant_id: Option<String>,
    /// The thread the message belongs to.
    pub thread_id: String,
    /// Set on messages a run writes; null on messages clients create.
    pub run_id: Option<String>,
    /// `user` or `assistant`.
    pub role: String,
    /// Normalised content parts.
    pub content: Vec<Value>,
    /// `[{file_id, tools:[{type}]}]` as given.
    pub attachments: Vec<Value>,
    /// Up to 16 string pairs.
    pub metadata: JsonMap,
}

/// What modify-message returned in every 2024–2025 recording: `file_ids: []` in
/// place of `attachments`.
#[derive(Debug, Clone, Serialize)]
pub struct ModifiedMessage {
    /// As [`Message::id`].
    pub id: String,
    /// As [`Message::object`].
    pub object: String,
    /// As [`Message::created_at`].
    pub created_at: i64,
    /// As [`Message::assistant_id`].
    pub assistant_id: Option<String>,
    /// As [`Message::thread_id`].
    pub thread_id: String,
    /// As [`Message::run_id`].
    pub run_id: Option<String>,
    /// As [`Message::role`].
    pub role: String,
    /// As [`Message::content`].
    pub content: Vec<Value>,
    /// Always empty: the v1 field OpenAI still sent here.
    pub file_ids: Vec<String>,
    /// As [`Message::metadata`].
    pub metadata: JsonMap,
}

impl From<Message> for ModifiedMessage {
    fn from(message: Message) -> Self {
        Self {
            id: message.id,
            object: message.object,
            created_at: message.created_at,
            assistant_id: message.assistant_id,
            thread_id: message.thread_id,
            run_id: message.run_id,
            role: message.role,
            content: message.content,
            file_ids: Vec::new(),
            metadata: message.metadata,
        }
    }
}
