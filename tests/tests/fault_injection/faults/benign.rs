//! Changes clients do not care about: the harness may call them NON-STRICT, never FAIL.

use serde_json::{json, Map, Value};

use super::super::mutate::{answer_events, answer_json, frame};
use super::{answers, Fault};

/// Every object's keys in reverse order, at every depth.
fn reversed(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, item) in map.iter().rev() {
                out.insert(key.clone(), reversed(item));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(reversed).collect()),
        other => other.clone(),
    }
}

/// An extra key on every object that has an `object` kind.
fn with_extra(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.contains_key("object") {
                map.insert("x_extension".into(), json!({"note": "extra"}));
            }
            map.values_mut().for_each(with_extra);
        }
        Value::Array(items) => items.iter_mut().for_each(with_extra),
        _ => {}
    }
}

pub(super) static CHANGES: &[Fault] = &[
    answers("keys in reverse order", &[], |_, a| {
        let is_json = a
            .header("content-type")
            .is_some_and(|ct| ct.starts_with("application/json"));
        if let Some(value) = is_json
            .then(|| serde_json::from_slice::<Value>(&a.body).ok())
            .flatten()
        {
            let newline = a.body.ends_with(b"\n");
            a.body = serde_json::to_vec_pretty(&reversed(&value)).expect("JSON serialises");
            if newline {
                a.body.push(b'\n');
            }
        }
    }),
    answers("compact JSON without trailing newline", &[], |_, a| {
        let is_json = a
            .header("content-type")
            .is_some_and(|ct| ct.starts_with("application/json"));
        if let Some(value) = is_json
            .then(|| serde_json::from_slice::<Value>(&a.body).ok())
            .flatten()
        {
            a.body = value.to_string().into_bytes();
        }
    }),
    answers("extra fields on every object", &[], |_, a| {
        answer_json(a, with_extra);
        answer_events(a, |events| {
            for (_, data) in events.iter_mut() {
                if let Ok(mut value) = serde_json::from_str::<Value>(data) {
                    with_extra(&mut value);
                    *data = value.to_string();
                }
            }
        });
    }),
    answers("CRLF line ends in streams", &[], |_, a| {
        let is_stream = a
            .header("content-type")
            .is_some_and(|ct| ct.starts_with("text/event-stream"));
        if is_stream {
            let mut events = Vec::new();
            answer_events(a, |parsed| events = parsed.clone());
            a.body = frame(&events, "\r\n").into_bytes();
        }
    }),
    answers("informational headers missing", &[], |_, a| {
        a.headers.retain(|(name, _)| {
            ![
                "openai-version",
                "x-request-id",
                "openai-processing-ms",
                "openai-organization",
            ]
            .contains(&name.to_ascii_lowercase().as_str())
        })
    }),
];
