//! How a stream is written, beyond what an SSE parser tolerates: OpenAI frames every event as
//! exactly `event: NAME\ndata: JSON\n\n` with compact JSON (openai-behaviour.md §3.1 item 2).
//! Other spellings the SSE standard allows (CRLF, `event:NAME`, several `data:` lines, `id:`
//! fields) and pretty-printed data are NON-STRICT: clients parse them, byte-exact ones may not.
//! Comment lines (`: keep-alive`) are allowed anywhere and never reported.

use serde_json::Value;

use crate::sse::SseEvent;

/// The ways a stream's writing differs from OpenAI's, one message each (empty: identical).
pub fn framing_differences(raw: &str, events: &[SseEvent]) -> Vec<String> {
    let mut differences = Vec::new();
    if raw.contains('\r') {
        differences.push("lines end with CR or CRLF; OpenAI ends them with LF".to_owned());
    }
    let normalised = raw.replace("\r\n", "\n").replace('\r', "\n");
    let mut odd_blocks = Vec::new();
    let blocks = normalised.split("\n\n").filter(|block| !block.is_empty());
    for (index, block) in blocks.enumerate() {
        let lines: Vec<&str> = block
            .split('\n')
            .filter(|line| !line.is_empty() && !line.starts_with(':'))
            .collect();
        if lines.is_empty() {
            continue;
        }
        let exact =
            lines.len() == 2 && lines[0].starts_with("event: ") && lines[1].starts_with("data: ");
        if !exact {
            odd_blocks.push(index);
        }
    }
    if let Some(first) = odd_blocks.first() {
        differences.push(format!(
            "{} event(s) are not written as exactly `event: NAME` + `data: JSON` (first: block #{first})",
            odd_blocks.len()
        ));
    }
    let not_compact: Vec<(usize, &SseEvent)> = events
        .iter()
        .enumerate()
        .filter(|(_, event)| !is_compact(event))
        .collect();
    if let Some((index, event)) = not_compact.first() {
        differences.push(format!(
            "{} event(s) carry data that is not compact JSON as OpenAI sends it (first: #{index} `{}`)",
            not_compact.len(),
            event.event
        ));
    }
    differences
}

/// Whether an event's JSON data is written compactly (no whitespace between tokens, keys and
/// values as serde_json writes them). Non-JSON data (`[DONE]`) is not JSON to judge.
pub fn is_compact(event: &SseEvent) -> bool {
    match &event.json {
        Some(value @ (Value::Object(_) | Value::Array(_))) => {
            serde_json::to_string(value).is_ok_and(|compact| compact == event.data)
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sse::parse;

    #[test]
    fn openai_framing_has_no_differences() {
        let raw = ": keep-alive\n\nevent: thread.run.created\ndata: {\"id\":\"run_1\",\"n\":1.0}\n\nevent: done\ndata: [DONE]\n\n";
        let events = parse(raw).unwrap();
        assert_eq!(framing_differences(raw, &events), Vec::<String>::new());
    }

    #[test]
    fn spaced_json_crlf_and_odd_fields_are_each_named() {
        let raw = "event: thread.run.created\r\ndata: {\"id\": \"run_1\"}\r\n\r\nid: 7\nevent:done\ndata: [DONE]\n\n";
        let events = parse(raw).unwrap();
        let differences = framing_differences(raw, &events);
        assert_eq!(differences.len(), 3, "{differences:?}");
        assert!(differences[0].contains("CRLF"));
        assert!(differences[1].contains("block #1"));
        assert!(differences[2].contains("not compact"));
    }
}
