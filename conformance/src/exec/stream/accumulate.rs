//! Deltas must add up to the message: the SDKs' stream helpers (`AssistantEventHandler`,
//! `runs.stream`) build the text and its citations from `thread.message.delta` events alone, so
//! the concatenated text fragments of each content part must equal the text of the message's
//! final event (`thread.message.completed` or `.incomplete`), and the annotations the deltas
//! carried (by their `index`) must be the final ones, each span holding its text in the
//! accumulated text. A server whose final event disagrees with its deltas shows one answer to
//! streaming clients and another to polling ones.

use std::collections::BTreeMap;

use serde_json::Value;

use super::grammar::Violation;
use crate::sse::SseEvent;

/// What the deltas of one text content part added up to.
#[derive(Debug, Default)]
struct Accumulated {
    value: String,
    /// Annotations by their `index`, reduced to what the final message shows.
    annotations: BTreeMap<u64, Value>,
}

/// Every message whose final event disagrees with its deltas.
pub fn delta_disagreements(events: &[SseEvent]) -> Vec<Violation> {
    let mut messages: BTreeMap<String, BTreeMap<u64, Accumulated>> = BTreeMap::new();
    let mut found = Vec::new();
    for (index, event) in events.iter().enumerate() {
        let Some(data) = &event.json else { continue };
        let id = data["id"].as_str().unwrap_or_default().to_owned();
        match event.event.as_str() {
            "thread.message.delta" => {
                let parts = messages.entry(id).or_default();
                for part in data["delta"]["content"].as_array().into_iter().flatten() {
                    if part["type"] == "text" {
                        let slot = parts
                            .entry(part["index"].as_u64().unwrap_or(0))
                            .or_default();
                        add(slot, &part["text"]);
                    }
                }
            }
            "thread.message.completed" | "thread.message.incomplete" => {
                let parts = messages.remove(&id).unwrap_or_default();
                for message in compare(&parts, &data["content"]) {
                    found.push(Violation {
                        index,
                        event: event.event.clone(),
                        message: format!("message {id}: {message}"),
                    });
                }
            }
            _ => {}
        }
    }
    found
}

fn add(slot: &mut Accumulated, text: &Value) {
    slot.value
        .push_str(text["value"].as_str().unwrap_or_default());
    for annotation in text["annotations"].as_array().into_iter().flatten() {
        let position = annotation["index"]
            .as_u64()
            .unwrap_or(slot.annotations.len() as u64);
        slot.annotations.insert(position, essentials(annotation));
    }
}

/// What a client keeps of an annotation: its kind, text, span and the cited file (a delta's
/// `quote: ""` and `index` are delta-only).
fn essentials(annotation: &Value) -> Value {
    let target = |kind: &str| annotation[kind]["file_id"].clone();
    serde_json::json!({
        "type": annotation["type"],
        "text": annotation["text"],
        "start_index": annotation["start_index"],
        "end_index": annotation["end_index"],
        "file_id": if annotation["type"] == "file_path" { target("file_path") } else { target("file_citation") },
    })
}

fn compare(parts: &BTreeMap<u64, Accumulated>, content: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let empty = Accumulated::default();
    for (position, part) in content.as_array().into_iter().flatten().enumerate() {
        if part["type"] != "text" {
            continue;
        }
        let streamed = parts.get(&(position as u64)).unwrap_or(&empty);
        let value = part["text"]["value"].as_str().unwrap_or_default();
        if streamed.value != value {
            problems.push(format!(
                "content {position}: the deltas' text `{}` is not the final text `{}`",
                crate::results::excerpt(&streamed.value, 120),
                crate::results::excerpt(value, 120)
            ));
            continue;
        }
        let finals: Vec<Value> = part["text"]["annotations"]
            .as_array()
            .into_iter()
            .flatten()
            .map(essentials)
            .collect();
        let deltas: Vec<Value> = streamed.annotations.values().cloned().collect();
        if deltas != finals {
            problems.push(format!(
                "content {position}: the deltas carried annotations {} but the final message has {}",
                Value::Array(deltas),
                Value::Array(finals)
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(name: &str, data: Value) -> SseEvent {
        SseEvent {
            event: name.into(),
            data: data.to_string(),
            json: Some(data),
        }
    }

    fn delta(value: &str, annotations: Option<Value>) -> SseEvent {
        let mut text = json!({"value": value});
        if let Some(annotations) = annotations {
            text["annotations"] = annotations;
        }
        event(
            "thread.message.delta",
            json!({"id": "msg_1", "object": "thread.message.delta",
                "delta": {"content": [{"index": 0, "type": "text", "text": text}]}}),
        )
    }

    fn completed(value: &str, annotations: Value) -> SseEvent {
        event(
            "thread.message.completed",
            json!({"id": "msg_1", "object": "thread.message", "content": [
                {"type": "text", "text": {"value": value, "annotations": annotations}}]}),
        )
    }

    const MARKER: &str = "【4:0†favorite_foods.txt】";

    fn recorded_stream(final_value: &str, final_start: u64) -> Vec<SseEvent> {
        // FileSearchStreamingWorks.json (openai-dotnet, 2025-10-30), fragments shortened.
        vec![
            delta("Filip's favorite food", Some(json!([]))),
            delta(" is cake", None),
            delta(
                MARKER,
                Some(json!([{"index": 0, "type": "file_citation", "text": MARKER,
                "start_index": 29, "end_index": 53,
                "file_citation": {"file_id": "file-Cy", "quote": ""}}])),
            ),
            delta(".", None),
            completed(
                final_value,
                json!([{"type": "file_citation", "text": MARKER, "start_index": final_start,
                "end_index": final_start + 24, "file_citation": {"file_id": "file-Cy"}}]),
            ),
        ]
    }

    #[test]
    fn the_recorded_stream_adds_up() {
        let value = format!("Filip's favorite food is cake{MARKER}.");
        assert!(delta_disagreements(&recorded_stream(&value, 29)).is_empty());
    }

    #[test]
    fn a_final_text_the_deltas_never_sent_is_reported() {
        let found = delta_disagreements(&recorded_stream("Filip likes cake.", 29));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].index, 4);
        assert!(
            found[0].message.contains("is not the final text"),
            "{found:?}"
        );
    }

    #[test]
    fn annotations_that_moved_are_reported() {
        let value = format!("Filip's favorite food is cake{MARKER}.");
        let found = delta_disagreements(&recorded_stream(&value, 30));
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("annotations"), "{found:?}");
    }

    #[test]
    fn a_message_without_deltas_must_have_no_text() {
        let found = delta_disagreements(&[completed("Hello", json!([]))]);
        assert_eq!(found.len(), 1);
        assert!(delta_disagreements(&[completed("", json!([]))]).is_empty());
    }
}
