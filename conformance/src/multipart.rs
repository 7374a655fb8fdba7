//! `multipart/form-data` request bodies for fixture steps (`POST /files`, `POST /uploads/{id}/parts`):
//! the fixture's `multipart:` section, and its encoding into the bytes sent (RFC 7578), with
//! `filename*` (RFC 5987) for names that are not plain ASCII.

use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::vars::{as_text, UnknownVariable, Vars};

/// A step's `multipart:` section: text fields, then file parts, each in file order.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Multipart {
    /// Text fields by name (`purpose: assistants`); a list value repeats the field.
    #[serde(default)]
    pub fields: Map<String, Value>,
    /// File parts by field name (`file: {filename, content, content_type}`).
    #[serde(default)]
    pub files: Map<String, Value>,
}

/// One file part, as written in a fixture.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilePart {
    /// The file name the part declares (any Unicode; non-ASCII is sent as `filename*`).
    pub filename: String,
    /// The part's bytes as UTF-8 text (variables spliced in).
    #[serde(default)]
    pub content: Option<String>,
    /// The part's bytes in standard base64, for binary files; instead of `content`.
    #[serde(default)]
    pub content_base64: Option<String>,
    /// The part's `Content-Type` (default `application/octet-stream`).
    #[serde(default)]
    pub content_type: Option<String>,
}

impl FilePart {
    /// Reads one entry of `multipart.files`; the error says what is wrong with it.
    pub fn parse(value: &Value) -> Result<FilePart, String> {
        let part: FilePart = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
        match (&part.content, &part.content_base64) {
            (Some(_), Some(_)) => Err("both `content` and `content_base64` given".into()),
            (None, None) => Err("neither `content` nor `content_base64` given".into()),
            (None, Some(encoded)) => base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map(|_| part.clone())
                .map_err(|e| format!("`content_base64` is not base64: {e}")),
            (Some(_), None) => Ok(part),
        }
    }
}

/// An encoded body and the `Content-Type` header that names its boundary.
#[derive(Debug, Clone, PartialEq)]
pub struct Encoded {
    /// `multipart/form-data; boundary=...`.
    pub content_type: String,
    /// The bytes to send.
    pub body: Vec<u8>,
}

/// Makes boundaries differ between requests of one run, so a server cannot rely on a fixed one.
static BOUNDARY_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Encodes `multipart` with variables substituted. Bad file parts are caught at load time, so
/// here they can only be a variable problem.
pub fn encode(multipart: &Multipart, vars: &Vars) -> Result<Encoded, UnknownVariable> {
    let mut parts: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for (name, value) in &multipart.fields {
        let values = match vars.substitute(value)? {
            Value::Array(items) => items,
            single => vec![single],
        };
        for value in values {
            let head = format!(
                "Content-Disposition: form-data; name=\"{}\"\r\n",
                quote(name)
            );
            parts.push((head.into_bytes(), as_text(&value).into_bytes()));
        }
    }
    for (name, value) in &multipart.files {
        let Ok(part) = FilePart::parse(value) else {
            continue;
        };
        let bytes = match (&part.content, &part.content_base64) {
            (Some(text), _) => vars.splice(text)?.into_bytes(),
            (None, Some(encoded)) => base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .unwrap_or_default(),
            (None, None) => Vec::new(),
        };
        let filename = vars.splice(&part.filename)?;
        let content_type = part
            .content_type
            .as_deref()
            .unwrap_or("application/octet-stream");
        let head = format!(
            "Content-Disposition: form-data; name=\"{}\"; {}\r\nContent-Type: {content_type}\r\n",
            quote(name),
            filename_parameters(&filename)
        );
        parts.push((head.into_bytes(), bytes));
    }
    let boundary = boundary_for(&parts);
    let mut body = Vec::new();
    for (head, content) in &parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        body.extend_from_slice(head);
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    Ok(Encoded {
        content_type: format!("multipart/form-data; boundary={boundary}"),
        body,
    })
}

/// `filename="..."` for plain printable ASCII; otherwise an ASCII fallback (non-ASCII characters
/// as `_`) plus `filename*=UTF-8''<percent-encoded>`, as the .NET and Python SDKs send it.
pub fn filename_parameters(filename: &str) -> String {
    let plain = filename
        .chars()
        .all(|c| c.is_ascii() && !c.is_ascii_control());
    if plain {
        return format!("filename=\"{}\"", quote(filename));
    }
    let fallback: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = filename
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect();
    format!(
        "filename=\"{}\"; filename*=UTF-8''{encoded}",
        quote(&fallback)
    )
}

/// Escapes `"` and `\` inside a quoted parameter.
fn quote(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// A boundary that occurs in no part (a clash is astronomically unlikely, but checked).
fn boundary_for(parts: &[(Vec<u8>, Vec<u8>)]) -> String {
    loop {
        let n = BOUNDARY_COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let boundary = format!("conformance-{nanos:08x}{n:016x}");
        let clashes = parts.iter().any(|(head, content)| {
            contains(content, boundary.as_bytes()) || contains(head, boundary.as_bytes())
        });
        if !clashes {
            return boundary;
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_ascii_filenames_get_an_rfc5987_parameter() {
        assert_eq!(filename_parameters("notes.txt"), "filename=\"notes.txt\"");
        assert_eq!(
            filename_parameters("你好.txt"),
            "filename=\"__.txt\"; filename*=UTF-8''%E4%BD%A0%E5%A5%BD.txt"
        );
        assert_eq!(filename_parameters("a\"b"), "filename=\"a\\\"b\"");
    }

    #[test]
    fn file_parts_need_exactly_one_content() {
        let parse = |v: Value| FilePart::parse(&v);
        assert!(parse(serde_json::json!({"filename": "a", "content": "x"})).is_ok());
        assert!(parse(serde_json::json!({"filename": "a", "content_base64": "AAE="})).is_ok());
        assert!(parse(serde_json::json!({"filename": "a"})).is_err());
        assert!(parse(serde_json::json!({"filename": "a", "content_base64": "!!"})).is_err());
        assert!(parse(
            serde_json::json!({"filename": "a", "content": "x", "content_base64": "AA=="})
        )
        .is_err());
    }
}
