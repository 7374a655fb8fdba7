//! Citation consistency, which no schema can express: clients render a message by replacing
//! each annotation's span `start_index..end_index` of the text's `value` (OpenAI's
//! `【4:0†name】` markers become footnotes, links, ...), so the span must hold exactly the
//! annotation's `text`. A server whose indices are off by one corrupts every rendered answer
//! while passing schema validation, hence this check on every JSON body and streamed event.
//!
//! Spans count characters (Unicode scalar values), which is how the recordings count; a span
//! that only fits when counted in UTF-16 code units (as JavaScript clients count) is also
//! accepted, since no recording shows which one OpenAI used for text beyond the BMP. Deltas'
//! annotations (they carry an `index`) are skipped: their spans count in the whole message,
//! not in the fragment the delta carries.

use serde_json::Value;

/// One annotation whose span does not hold its text.
#[derive(Debug, Clone, PartialEq)]
pub struct Misplaced {
    /// JSON pointer to the annotation.
    pub pointer: String,
    /// What is wrong, with the expected and the found text.
    pub message: String,
}

/// Every misplaced annotation anywhere inside `value`; `base` prefixes the pointers.
pub fn misplaced_annotations(value: &Value, base: &str) -> Vec<Misplaced> {
    let mut found = Vec::new();
    walk(value, base, &mut found);
    found
}

fn walk(value: &Value, pointer: &str, found: &mut Vec<Misplaced>) {
    match value {
        Value::Object(map) => {
            if let (Some(Value::String(text)), Some(Value::Array(annotations))) =
                (map.get("value"), map.get("annotations"))
            {
                for (index, annotation) in annotations.iter().enumerate() {
                    let at = format!("{pointer}/annotations/{index}");
                    if let Some(message) = check(text, annotation) {
                        found.push(Misplaced {
                            pointer: at,
                            message,
                        });
                    }
                }
            }
            for (key, child) in map {
                walk(
                    child,
                    &format!("{pointer}/{}", crate::matcher::escape(key)),
                    found,
                );
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                walk(item, &format!("{pointer}/{index}"), found);
            }
        }
        _ => {}
    }
}

/// Why `annotation` does not fit `text`, or `None` when it does (or is not a span at all).
fn check(text: &str, annotation: &Value) -> Option<String> {
    if annotation.get("index").is_some() {
        return None;
    }
    let (Some(start), Some(end), Some(cited)) = (
        annotation["start_index"].as_u64(),
        annotation["end_index"].as_u64(),
        annotation["text"].as_str(),
    ) else {
        return None;
    };
    let (start, end) = (start as usize, end as usize);
    if utf16_span(text, start, end).as_deref() == Some(cited) {
        return None;
    }
    let chars: Vec<char> = text.chars().collect();
    if start > end || end > chars.len() {
        return Some(format!(
            "annotation span {start}..{end} lies outside the text's {} characters (annotation text `{cited}`)",
            chars.len()
        ));
    }
    let by_chars: String = chars[start..end].iter().collect();
    (by_chars != cited).then(|| {
        format!("the text at {start}..{end} is `{by_chars}`, not the annotation's `{cited}`")
    })
}

/// The text between two UTF-16 code-unit offsets, when both fall on character boundaries.
fn utf16_span(text: &str, start: usize, end: usize) -> Option<String> {
    let units: Vec<u16> = text.encode_utf16().collect();
    String::from_utf16(units.get(start..end)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(value: &str, start: u64, end: u64, cited: &str) -> Value {
        json!({"content": [{"type": "text", "text": {"value": value, "annotations": [
            {"type": "file_citation", "text": cited, "start_index": start, "end_index": end,
             "file_citation": {"file_id": "file-abc"}}]}}]})
    }

    #[test]
    fn the_recorded_citation_fits() {
        // FileSearchWorks.json (openai-dotnet, 2025-10-30).
        let recorded = message(
            "Filip's favorite food is cake【4:0†favorite_foods.txt】.",
            29,
            53,
            "【4:0†favorite_foods.txt】",
        );
        assert_eq!(misplaced_annotations(&recorded, ""), vec![]);
    }

    #[test]
    fn a_span_counted_in_bytes_is_misplaced() {
        let text = "Cake【4:0†foods.txt】!";
        let bytes_end = text.find('!').unwrap() as u64;
        let found = misplaced_annotations(&message(text, 4, bytes_end, "【4:0†foods.txt】"), "");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].pointer, "/content/0/text/annotations/0");
        assert!(found[0].message.contains("outside"), "{}", found[0].message);
    }

    #[test]
    fn an_off_by_one_span_names_what_it_found() {
        let found = misplaced_annotations(&message("Cake【0:0†a】.", 5, 12, "【0:0†a】"), "/x");
        assert_eq!(found[0].pointer, "/x/content/0/text/annotations/0");
        assert!(
            found[0].message.contains("`0:0†a】.`"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn utf16_spans_are_accepted_beyond_the_bmp() {
        // "🎂" is one character but two UTF-16 units.
        let text = "🎂【0:0†a】";
        assert_eq!(
            misplaced_annotations(&message(text, 1, 8, "【0:0†a】"), ""),
            vec![]
        );
        assert_eq!(
            misplaced_annotations(&message(text, 2, 9, "【0:0†a】"), ""),
            vec![]
        );
        assert_eq!(
            misplaced_annotations(&message(text, 0, 7, "【0:0†a】"), "").len(),
            1
        );
    }

    #[test]
    fn delta_annotations_are_not_judged() {
        let delta = json!({"delta": {"content": [{"index": 0, "type": "text", "text": {
            "value": "【0:0†a】", "annotations": [{"index": 0, "type": "file_citation",
            "text": "【0:0†a】", "start_index": 30, "end_index": 37,
            "file_citation": {"file_id": "file-abc", "quote": ""}}]}}]}});
        assert_eq!(misplaced_annotations(&delta, ""), vec![]);
    }
}
