//! The .NET SDK test proxy's SessionRecords format (`{"Entries": [{RequestUri, RequestMethod,
//! StatusCode, ResponseHeaders, ResponseBody, ...}]}`): JSON bodies stored parsed, event streams
//! stored as the list of raw wire lines, other text as a string.

use serde_json::Value;

use super::exchange::{Body, Exchange};

/// Whether a parsed file is in this format.
pub(super) fn recognises(document: &Value) -> bool {
    document.get("Entries").is_some_and(Value::is_array)
}

/// Reads every entry of a SessionRecords document.
pub(super) fn exchanges(document: &Value) -> Result<Vec<Exchange>, String> {
    let entries = document
        .get("Entries")
        .and_then(Value::as_array)
        .ok_or("no Entries list")?;
    entries
        .iter()
        .enumerate()
        .map(|(index, entry)| exchange(index, entry))
        .collect()
}

fn exchange(index: usize, entry: &Value) -> Result<Exchange, String> {
    let text = |key: &str| {
        entry
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or(format!("Entries[{index}] has no {key}"))
    };
    let status = entry
        .get("StatusCode")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .ok_or(format!("Entries[{index}] has no StatusCode"))?;
    let content_type = entry
        .get("ResponseHeaders")
        .and_then(Value::as_object)
        .and_then(|headers| {
            headers
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        })
        .and_then(|(_, value)| value.as_str());
    let is_stream =
        content_type.is_some_and(|ct| ct.to_ascii_lowercase().contains("text/event-stream"));
    let body = match entry.get("ResponseBody") {
        None | Some(Value::Null) => Body::Empty,
        Some(Value::Array(lines)) if is_stream => {
            let lines: Option<Vec<&str>> = lines.iter().map(Value::as_str).collect();
            match lines {
                Some(lines) => Body::Sse(lines.concat()),
                None => {
                    Body::Invalid("an event-stream body whose lines are not all strings".into())
                }
            }
        }
        Some(Value::String(text)) => Body::from_text(content_type, text.clone()),
        Some(value) => Body::Json(value.clone()),
    };
    Ok(Exchange {
        index,
        method: text("RequestMethod")?.to_ascii_uppercase(),
        url: text("RequestUri")?,
        status,
        body,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_json_stream_and_empty_bodies() {
        let document = json!({"Entries": [
            {"RequestUri": "https://api.openai.com/v1/assistants", "RequestMethod": "POST", "StatusCode": 200,
             "ResponseHeaders": {"Content-Type": "application/json"}, "ResponseBody": {"id": "asst_1"}},
            {"RequestUri": "https://api.openai.com/v1/threads/runs", "RequestMethod": "POST", "StatusCode": 200,
             "ResponseHeaders": {"content-type": "text/event-stream; charset=utf-8"},
             "ResponseBody": ["event: done\n", "data: [DONE]\n\n"]},
            {"RequestUri": "https://api.openai.com/v1/x", "RequestMethod": "delete", "StatusCode": 204,
             "ResponseHeaders": {}, "ResponseBody": null}
        ]});
        assert!(recognises(&document));
        let exchanges = exchanges(&document).unwrap();
        assert_eq!(exchanges[0].body, Body::Json(json!({"id": "asst_1"})));
        assert_eq!(
            exchanges[1].body,
            Body::Sse("event: done\ndata: [DONE]\n\n".into())
        );
        assert_eq!(
            (
                exchanges[2].method.as_str(),
                exchanges[2].status,
                &exchanges[2].body
            ),
            ("DELETE", 204, &Body::Empty)
        );
    }

    #[test]
    fn an_entry_without_a_status_is_unusable() {
        let document = json!({"Entries": [{"RequestUri": "u", "RequestMethod": "GET"}]});
        assert!(exchanges(&document).unwrap_err().contains("StatusCode"));
    }
}
