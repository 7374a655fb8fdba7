//! Chunking by tokens with tiktoken-rs, as OpenAI chunks: windows of at most
//! `max_chunk_size_tokens` that overlap by `chunk_overlap_tokens`. `auto` is 800/400.

use serde_json::{json, Value};

use crate::api_error::ApiError;
use crate::models::JsonMap;
use crate::validation::{json_type_name, Checked};

/// `auto`'s chunk size.
pub const AUTO_MAX_TOKENS: i64 = 800;
/// `auto`'s overlap.
pub const AUTO_OVERLAP_TOKENS: i64 = 400;
/// Bounds of `max_chunk_size_tokens`.
pub const MAX_TOKENS_RANGE: (i64, i64) = (100, 4096);
/// Bytes a chunk's embedding would take at OpenAI: 21 bytes of text used 1,045 bytes
/// (recorded), so each chunk counts its text plus this.
pub const CHUNK_OVERHEAD_BYTES: i64 = 1024;

/// A checked chunking strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunking {
    /// Tokens per chunk at most.
    pub max_tokens: i64,
    /// Tokens shared by neighbouring chunks.
    pub overlap_tokens: i64,
}

impl Default for Chunking {
    fn default() -> Self {
        Self {
            max_tokens: AUTO_MAX_TOKENS,
            overlap_tokens: AUTO_OVERLAP_TOKENS,
        }
    }
}

impl Chunking {
    /// The strategy as echoed on a vector store file (always `static`).
    pub fn to_json(self) -> Value {
        json!({"type": "static", "static": {
            "max_chunk_size_tokens": self.max_tokens,
            "chunk_overlap_tokens": self.overlap_tokens,
        }})
    }

    /// Reads a stored echo back (defaults if unreadable).
    pub fn from_json(value: &Value) -> Self {
        let inner = &value["static"];
        match (
            inner["max_chunk_size_tokens"].as_i64(),
            inner["chunk_overlap_tokens"].as_i64(),
        ) {
            (Some(max_tokens), Some(overlap_tokens)) => Self {
                max_tokens,
                overlap_tokens,
            },
            _ => Self::default(),
        }
    }
}

/// Checks a request's `chunking_strategy` (`auto` or `static` with OpenAI's bounds).
pub fn parse_chunking(value: Option<&Value>) -> Checked<Chunking> {
    let param = "chunking_strategy";
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(Chunking::default());
    };
    let Value::Object(map) = value else {
        return Err(ApiError::invalid_type(
            param,
            "an object",
            json_type_name(value),
        ));
    };
    let kind = map.get("type").and_then(Value::as_str);
    match kind {
        Some("auto") => {
            if let Some(key) = map.keys().find(|k| *k != "type") {
                return Err(ApiError::unknown_parameter(&format!("{param}.{key}")));
            }
            Ok(Chunking::default())
        }
        Some("static") => parse_static(map),
        None => Err(ApiError::missing_parameter("chunking_strategy.type")),
        Some(other) => Err(ApiError::invalid_value(
            "chunking_strategy.type",
            other,
            &["auto", "static"],
        )),
    }
}

fn parse_static(map: &JsonMap) -> Checked<Chunking> {
    let Some(inner) = map.get("static") else {
        return Err(ApiError::missing_parameter("chunking_strategy.static"));
    };
    let Some(inner) = inner.as_object() else {
        return Err(ApiError::invalid_type(
            "chunking_strategy.static",
            "an object",
            json_type_name(inner),
        ));
    };
    let fields = crate::validation::Fields::new(inner, "chunking_strategy.static.");
    fields.only(&["max_chunk_size_tokens", "chunk_overlap_tokens"])?;
    let (min, max) = MAX_TOKENS_RANGE;
    let max_tokens = fields
        .integer("max_chunk_size_tokens", min, max)?
        .set()
        .ok_or_else(|| {
            ApiError::missing_parameter("chunking_strategy.static.max_chunk_size_tokens")
        })?;
    let overlap_tokens = fields
        .integer("chunk_overlap_tokens", 0, i64::MAX)?
        .set()
        .ok_or_else(|| {
            ApiError::missing_parameter("chunking_strategy.static.chunk_overlap_tokens")
        })?;
    if overlap_tokens > max_tokens / 2 {
        let param = "chunking_strategy.static.chunk_overlap_tokens";
        return Err(super::errors::bad_param(
            param,
            format!(
                "Invalid '{param}': chunk_overlap_tokens must be less than or equal to half of \
                 max_chunk_size_tokens."
            ),
        ));
    }
    Ok(Chunking {
        max_tokens,
        overlap_tokens,
    })
}

/// Splits `text` into overlapping token windows (cl100k_base, the embedding models'
/// tokenizer). A window that cuts a multi-byte character keeps what decodes.
pub fn chunk_text(text: &str, chunking: Chunking) -> Vec<String> {
    let bpe = tiktoken_rs::cl100k_base_singleton();
    let tokens = bpe.encode_ordinary(text);
    let size = chunking.max_tokens.max(1) as usize;
    let step = (chunking.max_tokens - chunking.overlap_tokens).max(1) as usize;
    let mut chunks = Vec::new();
    let mut start = 0;
    while start < tokens.len() {
        let end = (start + size).min(tokens.len());
        let bytes: Vec<u8> = tokens[start..end]
            .iter()
            .flat_map(|token| bpe.decode_bytes(&[*token]).unwrap_or_default())
            .collect();
        chunks.push(String::from_utf8_lossy(&bytes).into_owned());
        if end == tokens.len() {
            break;
        }
        start += step;
    }
    chunks
}

/// The usage a file's chunks count for.
pub fn usage_bytes(chunks: &[String]) -> i64 {
    chunks
        .iter()
        .map(|chunk| chunk.len() as i64 + CHUNK_OVERHEAD_BYTES)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_is_800_400_and_static_is_bounded() {
        assert_eq!(parse_chunking(None).unwrap(), Chunking::default());
        assert_eq!(
            parse_chunking(Some(&json!({"type": "auto"}))).unwrap(),
            Chunking::default()
        );
        let ok = json!({"type": "static", "static": {"max_chunk_size_tokens": 1200, "chunk_overlap_tokens": 250}});
        assert_eq!(parse_chunking(Some(&ok)).unwrap().max_tokens, 1200);
        for bad in [
            json!({"type": "static", "static": {"max_chunk_size_tokens": 99, "chunk_overlap_tokens": 0}}),
            json!({"type": "static", "static": {"max_chunk_size_tokens": 4097, "chunk_overlap_tokens": 0}}),
            json!({"type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 51}}),
            json!({"type": "other"}),
        ] {
            assert!(parse_chunking(Some(&bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn chunks_overlap_and_cover_the_text() {
        let text = (0..1000)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        let chunking = Chunking {
            max_tokens: 100,
            overlap_tokens: 50,
        };
        let chunks = chunk_text(&text, chunking);
        assert!(chunks.len() > 10);
        assert!(chunks[0].starts_with("w0"));
        assert!(chunks.last().unwrap().ends_with("w999"));
        assert_eq!(chunk_text("short", chunking), ["short"]);
        assert_eq!(usage_bytes(&["x".repeat(21)]), 1045);
    }
}
