//! The stream events of `AssistantStreamEvent`, one branch per event name. A stream event is
//! validated against the `data` schema of the branch its `event:` line names, never against the
//! whole `oneOf`, whose only possible complaint is "not valid under any of the schemas".

use std::collections::BTreeMap;

use serde_json::Value;

use super::SpecError;

/// Every event name of the Assistants streams (the `AssistantStreamEvent` branches).
pub const KNOWN_EVENTS: [&str; 25] = [
    "thread.created",
    "thread.run.created",
    "thread.run.queued",
    "thread.run.in_progress",
    "thread.run.requires_action",
    "thread.run.completed",
    "thread.run.incomplete",
    "thread.run.failed",
    "thread.run.cancelling",
    "thread.run.cancelled",
    "thread.run.expired",
    "thread.run.step.created",
    "thread.run.step.in_progress",
    "thread.run.step.delta",
    "thread.run.step.completed",
    "thread.run.step.failed",
    "thread.run.step.cancelled",
    "thread.run.step.expired",
    "thread.message.created",
    "thread.message.in_progress",
    "thread.message.delta",
    "thread.message.completed",
    "thread.message.incomplete",
    "error",
    "done",
];

/// The component that lists every stream event.
pub(super) const STREAM_EVENT_COMPONENT: &str = "/components/schemas/AssistantStreamEvent";

/// Maps each event name to the JSON pointer of its branch's `data` schema.
pub(super) fn event_data_schemas(document: &Value) -> Result<BTreeMap<String, String>, SpecError> {
    let fail = |pointer: &str, message: &str| SpecError::Compile {
        pointer: pointer.into(),
        message: message.into(),
    };
    let groups = document
        .pointer(&format!("{STREAM_EVENT_COMPONENT}/oneOf"))
        .and_then(Value::as_array)
        .ok_or_else(|| fail(STREAM_EVENT_COMPONENT, "missing, or not a oneOf"))?;
    let mut events = BTreeMap::new();
    for (index, group) in groups.iter().enumerate() {
        let group_pointer = match group.get("$ref").and_then(Value::as_str) {
            Some(reference) => reference
                .strip_prefix('#')
                .ok_or_else(|| fail(STREAM_EVENT_COMPONENT, "external $ref"))?
                .to_string(),
            None => format!("{STREAM_EVENT_COMPONENT}/oneOf/{index}"),
        };
        let group = document
            .pointer(&group_pointer)
            .ok_or_else(|| fail(&group_pointer, "unresolvable $ref"))?;
        let branches: Vec<String> = match group.get("oneOf").and_then(Value::as_array) {
            Some(branches) => (0..branches.len())
                .map(|i| format!("{group_pointer}/oneOf/{i}"))
                .collect(),
            None => vec![group_pointer.clone()],
        };
        for branch_pointer in branches {
            let branch = document.pointer(&branch_pointer).unwrap_or(&Value::Null);
            let name = branch
                .pointer("/properties/event/enum/0")
                .or_else(|| branch.pointer("/properties/event/const"))
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    fail(
                        &branch_pointer,
                        "a stream event branch without a fixed `event` name",
                    )
                })?;
            if branch.pointer("/properties/data").is_none() {
                return Err(fail(
                    &branch_pointer,
                    "a stream event branch without a `data` schema",
                ));
            }
            if events
                .insert(
                    name.to_string(),
                    format!("{branch_pointer}/properties/data"),
                )
                .is_some()
            {
                return Err(fail(
                    &branch_pointer,
                    &format!("event {name} is declared twice"),
                ));
            }
        }
    }
    Ok(events)
}
