//! JSON rendering exactly as OpenAI's REST API wrote it: pretty-printed with a 2-space
//! indent, `": "` separators, raw UTF-8, floats keeping `.0`, no trailing newline.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::ser::{PrettyFormatter, Serializer};

/// Renders `value` the way OpenAI's REST bodies look.
pub fn render_pretty(value: &impl Serialize) -> Vec<u8> {
    render_pretty_indented(value, b"  ")
}

/// Renders `value` pretty-printed with the given indent (OpenAI's 401s used four spaces).
pub fn render_pretty_indented(value: &impl Serialize, indent: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    let mut serializer = Serializer::with_formatter(&mut out, PrettyFormatter::with_indent(indent));
    // Our own types hold only strings, numbers and JSON values: serialising cannot fail.
    value
        .serialize(&mut serializer)
        .expect("serialising an in-memory value to a Vec cannot fail");
    out
}

/// A successful JSON answer rendered with [`render_pretty`].
pub struct Pretty<T>(pub T);

impl<T: Serialize> IntoResponse for Pretty<T> {
    fn into_response(self) -> Response {
        let mut response = (StatusCode::OK, render_pretty(&self.0)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_like_python_json_dumps_indent_2() {
        let value = json!({"a": 1.0, "b": [], "c": {}, "d": [0.0, "é"], "e": null});
        let text = String::from_utf8(render_pretty(&value)).unwrap();
        assert_eq!(
            text,
            "{\n  \"a\": 1.0,\n  \"b\": [],\n  \"c\": {},\n  \"d\": [\n    0.0,\n    \"é\"\n  ],\n  \"e\": null\n}"
        );
    }

    #[test]
    fn keeps_insertion_order_of_keys() {
        let value = json!({"z": 1, "a": 2});
        assert_eq!(render_pretty(&value), b"{\n  \"z\": 1,\n  \"a\": 2\n}");
    }
}
