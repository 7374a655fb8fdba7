//! The format-independent view of one recorded HTTP exchange that the checker validates.

use serde_json::Value;

/// One recorded request and the response it got.
#[derive(Debug, Clone, PartialEq)]
pub struct Exchange {
    /// Position in the recording file (0-based), so a failure can be found again.
    pub index: usize,
    /// Upper-case HTTP method.
    pub method: String,
    /// The full request URL as recorded.
    pub url: String,
    /// Response status code.
    pub status: u16,
    /// The response body, decoded.
    pub body: Body,
}

/// A decoded response body.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// A JSON document.
    Json(Value),
    /// A `text/event-stream` body, as the wire text.
    Sse(String),
    /// Any other text (e.g. a downloaded file's content).
    Text(String),
    /// Bytes that are not UTF-8 text under a content type that does not claim text (a PNG
    /// download); only their length is kept.
    Binary(usize),
    /// A body that claims a type it does not have (e.g. JSON that does not parse); the reason.
    Invalid(String),
    /// No body at all.
    Empty,
}

impl Body {
    /// Classifies decoded body text by its `Content-Type`: event streams, JSON (which must
    /// parse), and anything else as text. Without a content type, JSON is recognised by parsing.
    pub fn from_text(content_type: Option<&str>, text: String) -> Body {
        let content_type = content_type.unwrap_or("").to_ascii_lowercase();
        if content_type.contains("text/event-stream") {
            return Body::Sse(text);
        }
        if text.is_empty() {
            return Body::Empty;
        }
        match serde_json::from_str(&text) {
            Ok(value) => Body::Json(value),
            Err(e) if content_type.contains("json") => {
                Body::Invalid(format!("the body is not JSON: {e}"))
            }
            Err(_) => Body::Text(text),
        }
    }
}

impl Body {
    /// Classifies decoded body bytes: UTF-8 as in [`Body::from_text`]; other bytes are a binary
    /// download unless the content type claims JSON, an event stream or text.
    pub fn from_bytes(content_type: Option<&str>, bytes: Vec<u8>) -> Body {
        match String::from_utf8(bytes) {
            Ok(text) => Body::from_text(content_type, text),
            Err(err) => {
                let claimed = content_type.unwrap_or("").to_ascii_lowercase();
                let textual = ["json", "event-stream", "text/"]
                    .iter()
                    .any(|kind| claimed.contains(kind));
                if textual {
                    Body::Invalid(format!("the {claimed} body is not UTF-8 text"))
                } else {
                    Body::Binary(err.into_bytes().len())
                }
            }
        }
    }
}

/// Decodes a stored body according to its `Content-Encoding` (gzip, deflate or identity).
pub(super) fn decode_content(encoding: Option<&str>, bytes: Vec<u8>) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let encoding = encoding.unwrap_or("identity").trim().to_ascii_lowercase();
    let mut out = Vec::new();
    match encoding.as_str() {
        "" | "identity" => return Ok(bytes),
        // Recorders sometimes keep the header after storing the decompressed body.
        "gzip" | "x-gzip" if !bytes.starts_with(&[0x1f, 0x8b]) => return Ok(bytes),
        "gzip" | "x-gzip" => flate2::read::MultiGzDecoder::new(&bytes[..]).read_to_end(&mut out),
        "deflate" => flate2::read::ZlibDecoder::new(&bytes[..]).read_to_end(&mut out),
        other => return Err(format!("unsupported Content-Encoding {other}")),
    }
    .map_err(|e| format!("cannot decode {encoding} body: {e}"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn content_type_decides_the_body_kind() {
        assert_eq!(
            Body::from_text(Some("application/json"), "{\"a\":1}".into()),
            Body::Json(json!({"a": 1}))
        );
        assert!(matches!(
            Body::from_text(Some("application/json"), "{".into()),
            Body::Invalid(_)
        ));
        assert!(matches!(
            Body::from_text(Some("text/event-stream; charset=utf-8"), "x".into()),
            Body::Sse(_)
        ));
        assert_eq!(
            Body::from_text(Some("application/octet-stream"), "plain".into()),
            Body::Text("plain".into())
        );
        assert_eq!(Body::from_text(None, String::new()), Body::Empty);
    }

    #[test]
    fn bytes_that_are_not_text_are_binary_unless_text_was_claimed() {
        let png = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0xff];
        assert_eq!(
            Body::from_bytes(Some("image/png"), png.clone()),
            Body::Binary(9)
        );
        assert_eq!(Body::from_bytes(None, png.clone()), Body::Binary(9));
        assert!(matches!(
            Body::from_bytes(Some("application/json"), png),
            Body::Invalid(_)
        ));
        assert_eq!(
            Body::from_bytes(Some("application/octet-stream"), b"plain".to_vec()),
            Body::Text("plain".into())
        );
    }

    #[test]
    fn gzip_bodies_are_inflated_and_plain_ones_kept() {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(b"{}").unwrap();
        let gz = encoder.finish().unwrap();
        assert_eq!(decode_content(Some("gzip"), gz).unwrap(), b"{}");
        assert_eq!(decode_content(Some("gzip"), b"{}".to_vec()).unwrap(), b"{}");
        assert!(decode_content(Some("br"), b"x".to_vec()).is_err());
    }
}
