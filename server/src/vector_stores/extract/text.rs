//! Plain-text formats (prose, data and source code): read as UTF-8 as they are.

use super::invalid;
use crate::vector_stores::model::LastError;

/// Extensions read as plain text (OpenAI's supported text and source formats).
pub(super) const TEXT_EXTENSIONS: &[&str] = &[
    "txt", "md", "markdown", "json", "jsonl", "csv", "tsv", "xml", "yaml", "yml", "toml", "ini",
    "log", "tex", "rst", "c", "h", "cc", "cpp", "hpp", "cs", "css", "go", "java", "js", "mjs",
    "ts", "tsx", "jsx", "php", "py", "rb", "rs", "sh", "bash", "sql", "swift", "kt", "scala",
    "lua", "pl", "r",
];

/// `bytes` as text, refusing invalid UTF-8 and binary data under a text extension.
pub(super) fn utf8_text(bytes: &[u8]) -> Result<&str, LastError> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Err(invalid("The file is not valid UTF-8 text."));
    };
    if text.contains('\0') {
        return Err(invalid("The file contains binary data."));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_under_a_text_extension_is_refused() {
        assert_eq!(utf8_text(b"a\0b").unwrap_err().code, "invalid_file");
        assert_eq!(utf8_text("é ok".as_bytes()).unwrap(), "é ok");
    }
}
