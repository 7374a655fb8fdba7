//! Usage arithmetic on runs and run steps: `total_tokens` is `prompt_tokens + completion_tokens`
//! whenever usage is given, and a run or step that completed after the model wrote a message or
//! made a tool call reports the tokens it read and wrote (OpenAI fills usage when a run or step
//! completes, shared/docs/openai-behaviour.md §3.4 items 17 and 20). Any model obeys this: a
//! reply or a call is at least one generated token, after a prompt of at least one.

use serde_json::Value;

use super::{kind, text};

/// Adds a `(pointer, message)` for each usage problem of `object` (a run or a step).
pub(crate) fn check(object: &Value, at: &str, found: &mut Vec<(String, String)>) {
    let what = match kind(object) {
        "thread.run" => "run",
        "thread.run.step" => "run step",
        _ => return,
    };
    let completed = text(object, "status") == "completed";
    let generated = match what {
        "run" => completed,
        _ => completed && matches!(text(object, "type"), "message_creation" | "tool_calls"),
    };
    // a missing key is the schema check's finding (usage is required on both objects)
    let Some(usage) = object.get("usage") else {
        return;
    };
    let at = format!("{at}/usage");
    if usage.is_null() {
        if generated {
            found.push((at, format!("usage: a completed {what} has no usage")));
        }
        return;
    }
    let count = |key: &str| usage.get(key).and_then(Value::as_u64);
    let (Some(prompt), Some(completion), Some(total)) = (
        count("prompt_tokens"),
        count("completion_tokens"),
        count("total_tokens"),
    ) else {
        // the schema check reports missing or non-integer counts
        return;
    };
    if prompt.checked_add(completion) != Some(total) {
        found.push((
            at.clone(),
            format!(
                "usage: total_tokens {total} is not prompt_tokens {prompt} + completion_tokens {completion}"
            ),
        ));
    }
    if generated && (prompt == 0 || completion == 0) {
        found.push((
            at,
            format!(
                "usage: a completed {what} reports {prompt} prompt and {completion} completion tokens; both must be above 0 once the model read a prompt and wrote a message or a tool call"
            ),
        ));
    }
}
