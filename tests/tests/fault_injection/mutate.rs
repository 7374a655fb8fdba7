//! The edits faults make: JSON bodies (re-rendered as the server renders them, only when
//! changed), server-sent-event streams, query strings, and matching requests by method and path
//! pattern (`*` stands for one path segment).

use serde_json::Value;

use super::proxy::{Answer, Forwarded};

/// Whether the request is `method` on a path matching `pattern`, e.g. `/v1/threads/*/runs`.
pub(super) fn is(request: &Forwarded, method: &str, pattern: &str) -> bool {
    request.method == method && path_matches(&request.path, pattern)
}

/// `*` matches one segment.
pub(super) fn path_matches(path: &str, pattern: &str) -> bool {
    let (path, pattern): (Vec<&str>, Vec<&str>) =
        (path.split('/').collect(), pattern.split('/').collect());
    path.len() == pattern.len()
        && path
            .iter()
            .zip(&pattern)
            .all(|(segment, wanted)| *wanted == "*" || segment == wanted)
}

/// Applies `edit` to a JSON request body; the body is re-serialised only when changed.
pub(super) fn request_json(request: &mut Forwarded, edit: impl FnOnce(&mut Value)) {
    let Ok(mut value) = serde_json::from_slice::<Value>(&request.body) else {
        return;
    };
    let before = value.clone();
    edit(&mut value);
    if value != before {
        request.body = serde_json::to_vec(&value).expect("JSON serialises");
    }
}

/// Applies `edit` to a JSON answer; re-rendered (pretty, 2 spaces, the original trailing
/// newline kept) only when changed, so an untouched answer stays byte for byte.
pub(super) fn answer_json(answer: &mut Answer, edit: impl FnOnce(&mut Value)) {
    let is_json = answer
        .header("content-type")
        .is_some_and(|ct| ct.starts_with("application/json"));
    let Some(mut value) = is_json
        .then(|| serde_json::from_slice::<Value>(&answer.body).ok())
        .flatten()
    else {
        return;
    };
    let before = value.clone();
    edit(&mut value);
    if value != before {
        let newline = answer.body.ends_with(b"\n");
        let mut body = serde_json::to_vec_pretty(&value).expect("JSON serialises");
        if newline {
            body.push(b'\n');
        }
        answer.body = body;
    }
}

/// Calls `edit` on every object (at any depth) whose `object` is `kind`.
pub(super) fn each_object(value: &mut Value, kind: &str, edit: &mut dyn FnMut(&mut Value)) {
    if value.get("object").and_then(Value::as_str) == Some(kind) {
        edit(value);
    }
    match value {
        Value::Object(map) => map
            .values_mut()
            .for_each(|item| each_object(item, kind, edit)),
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| each_object(item, kind, edit)),
        _ => {}
    }
}

/// One server-sent event: its name and data text.
pub(super) type Event = (String, String);

/// Applies `edit` to the events of a stream answer; re-framed (`event: X\ndata: Y\n\n`) only
/// when changed.
pub(super) fn answer_events(answer: &mut Answer, edit: impl FnOnce(&mut Vec<Event>)) {
    let is_stream = answer
        .header("content-type")
        .is_some_and(|ct| ct.starts_with("text/event-stream"));
    if !is_stream {
        return;
    }
    let text = String::from_utf8_lossy(&answer.body).into_owned();
    let mut events: Vec<Event> = text
        .split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|line| line.strip_prefix(name))
                    .unwrap_or("")
                    .to_owned()
            };
            (field("event: "), field("data: "))
        })
        .collect();
    let before = events.clone();
    edit(&mut events);
    if events != before {
        answer.body = frame(&events, "\n").into_bytes();
    }
}

/// The events framed with `newline` as the line end.
pub(super) fn frame(events: &[Event], newline: &str) -> String {
    events
        .iter()
        .map(|(name, data)| format!("event: {name}{newline}data: {data}{newline}{newline}"))
        .collect()
}

/// Applies `edit` to the JSON data of every event named `name` (all events when `None`).
pub(super) fn event_data(
    events: &mut [Event],
    name: Option<&str>,
    edit: &mut dyn FnMut(&mut Value),
) {
    for (event, data) in events.iter_mut() {
        if name.is_some_and(|wanted| wanted != event) {
            continue;
        }
        if let Ok(mut value) = serde_json::from_str::<Value>(data) {
            let before = value.clone();
            edit(&mut value);
            if value != before {
                *data = value.to_string();
            }
        }
    }
}

/// Removes a query parameter.
pub(super) fn drop_query(request: &mut Forwarded, name: &str) {
    request.query = request
        .query
        .split('&')
        .filter(|pair| !pair.is_empty() && pair.split('=').next() != Some(name))
        .collect::<Vec<_>>()
        .join("&");
}

/// Sets a header (lower-case name), replacing any value.
pub(super) fn set_header(headers: &mut Vec<(String, String)>, name: &str, value: &str) {
    headers.retain(|(key, _)| !key.eq_ignore_ascii_case(name));
    headers.push((name.to_owned(), value.to_owned()));
}
