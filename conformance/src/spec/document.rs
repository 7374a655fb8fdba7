//! Reading the OpenAPI document from its source into JSON. Parsing 3 MB of YAML is the slow part
//! of loading, so the parsed document is cached as JSON next to the pinned copy, keyed by the
//! sha256 of the YAML it came from; the YAML itself is still hashed (and, when pinned, verified)
//! on every load.

use std::path::Path;

use serde_json::Value;

use super::fetch::{default_cache_dir, pinned_document, write_atomically};
use super::hash::sha256_hex;
use super::pin::Pin;
use super::{SpecError, SpecSource};

mod yaml;

/// A parsed, not yet normalised document and the hash of the bytes it was parsed from.
pub(super) struct RawDocument {
    /// The document as JSON, key order as in the file.
    pub value: Value,
    /// sha256 of the source file (the pinned hash for the pinned document).
    pub sha256: String,
}

/// Reads, verifies (when pinned) and parses the document `source` names.
pub(super) fn read(source: &SpecSource) -> Result<RawDocument, SpecError> {
    match source {
        SpecSource::Pinned { cache_dir } => {
            let pin = Pin::embedded();
            let bytes = pinned_document(cache_dir, &pin)?;
            let value = parse_cached(cache_dir, &pin.file_sha256, &bytes)?;
            Ok(RawDocument {
                value,
                sha256: pin.file_sha256,
            })
        }
        SpecSource::Path(path) => {
            let bytes = std::fs::read(path)
                .map_err(|e| SpecError::Fetch(format!("cannot read {}: {e}", path.display())))?;
            let sha256 = sha256_hex(&bytes);
            let value = parse_cached(&default_cache_dir(), &sha256, &bytes)?;
            Ok(RawDocument { value, sha256 })
        }
    }
}

/// Parses `bytes`, reusing the JSON cached under `sha256` when there is a readable one and
/// writing it otherwise. Cache failures only cost time, never correctness.
fn parse_cached(cache_dir: &Path, sha256: &str, bytes: &[u8]) -> Result<Value, SpecError> {
    let cache_file = cache_dir.join(format!("parsed-{sha256}.json"));
    if let Ok(cached) = std::fs::read(&cache_file) {
        if let Ok(value) = serde_json::from_slice::<Value>(&cached) {
            if value.is_object() {
                return Ok(value);
            }
        }
    }
    let value = parse(bytes)?;
    if let Ok(json) = serde_json::to_vec(&value) {
        let _ = write_atomically(&cache_file, &json);
    }
    Ok(value)
}

/// Parses a JSON or YAML document (JSON is a subset of YAML, but the JSON parser is much faster).
pub(super) fn parse(bytes: &[u8]) -> Result<Value, SpecError> {
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(value) => value,
        Err(_) => {
            serde_yaml::from_slice::<yaml::LenientValue>(bytes)
                .map_err(|e| SpecError::Parse(e.to_string()))?
                .0
        }
    };
    if !value.get("paths").is_some_and(Value::is_object) {
        return Err(SpecError::Parse(
            "the document has no `paths` object".into(),
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_and_json_parse_to_the_same_value() {
        let yaml = parse(b"openapi: 3.1.0\npaths:\n  /a: {}\n").unwrap();
        let json = parse(br#"{"openapi":"3.1.0","paths":{"/a":{}}}"#).unwrap();
        assert_eq!(yaml, json);
    }

    #[test]
    fn a_document_without_paths_is_not_an_openapi_document() {
        assert!(matches!(parse(b"just: text"), Err(SpecError::Parse(_))));
    }
}
