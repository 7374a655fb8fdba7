//! The `thread` object, including OpenAI's `tool_resources` quirk on retrieve.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::JsonMap;

/// A thread as OpenAI returned it from create and modify.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Thread {
    /// `thread_` + 24 base62.
    pub id: String,
    /// Always `thread`.
    pub object: String,
    /// Unix seconds of creation.
    pub created_at: i64,
    /// Up to 16 string pairs.
    pub metadata: JsonMap,
    /// Resources as given: `{}` when none.
    pub tool_resources: Value,
}

impl Thread {
    /// The thread as retrieve shows it: OpenAI filled in
    /// `code_interpreter: {file_ids: []}` there (but not on create or modify).
    pub fn as_retrieved(&self) -> Thread {
        let mut thread = self.clone();
        if let Value::Object(resources) = &mut thread.tool_resources {
            resources
                .entry("code_interpreter")
                .or_insert_with(|| json!({"file_ids": []}));
        }
        thread
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thread(resources: Value) -> Thread {
        Thread {
            id: "thread_x".into(),
            object: "thread".into(),
            created_at: 1,
            metadata: JsonMap::new(),
            tool_resources: resources,
        }
    }

    #[test]
    fn retrieve_fills_in_code_interpreter() {
        let shown = thread(json!({})).as_retrieved();
        assert_eq!(
            shown.tool_resources,
            json!({"code_interpreter": {"file_ids": []}})
        );
    }

    #[test]
    fn retrieve_keeps_given_code_interpreter_files() {
        let given = json!({"code_interpreter": {"file_ids": ["file-1"]}});
        assert_eq!(thread(given.clone()).as_retrieved().tool_resources, given);
    }
}
