//! Text extraction for ingestion: plain-text formats are read as UTF-8, HTML loses its
//! tags; anything else fails as OpenAI failed it, with `unsupported_file`.

use super::model::LastError;

/// Extensions read as plain text (OpenAI's supported text and source formats).
const TEXT_EXTENSIONS: &[&str] = &[
    "txt", "md", "markdown", "json", "jsonl", "csv", "tsv", "xml", "yaml", "yml", "toml", "ini",
    "log", "tex", "rst", "c", "h", "cc", "cpp", "hpp", "cs", "css", "go", "java", "js", "mjs",
    "ts", "tsx", "jsx", "php", "py", "rb", "rs", "sh", "bash", "sql", "swift", "kt", "scala",
    "lua", "pl", "r",
];
/// Extensions whose tags are stripped.
const HTML_EXTENSIONS: &[&str] = &["html", "htm", "xhtml"];

/// The text of a file named `filename`, or why it cannot be ingested.
pub fn extract_text(filename: &str, bytes: &[u8]) -> Result<String, LastError> {
    let extension = filename
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    let is_html = HTML_EXTENSIONS.contains(&extension.as_str());
    if !is_html && !TEXT_EXTENSIONS.contains(&extension.as_str()) {
        return Err(unsupported(&extension));
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Err(invalid("The file is not valid UTF-8 text."));
    };
    if text.contains('\0') {
        return Err(invalid("The file contains binary data."));
    }
    let text = if is_html {
        strip_tags(text)
    } else {
        text.to_owned()
    };
    if text.trim().is_empty() {
        return Err(invalid("The file contains no text."));
    }
    Ok(text)
}

fn unsupported(extension: &str) -> LastError {
    let shown = if extension.is_empty() {
        "(none)".to_owned()
    } else {
        format!(".{extension}")
    };
    LastError {
        code: "unsupported_file".to_owned(),
        message: format!("The file type {shown} is not supported for retrieval."),
    }
}

fn invalid(message: &str) -> LastError {
    LastError {
        code: "invalid_file".to_owned(),
        message: message.to_owned(),
    }
}

/// HTML without tags, scripts, styles and the common entities; tags become spaces so
/// words on either side stay apart.
pub fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let tag = &rest[start..];
        let lower = tag.get(..8).unwrap_or(tag).to_ascii_lowercase();
        let skip_to = if lower.starts_with("<script") {
            find_ci(tag, "</script>").map(|i| i + "</script>".len())
        } else if lower.starts_with("<style") {
            find_ci(tag, "</style>").map(|i| i + "</style>".len())
        } else {
            tag.find('>').map(|i| i + 1)
        };
        out.push(' ');
        match skip_to {
            Some(end) => rest = &tag[end..],
            None => {
                rest = "";
                break;
            }
        }
    }
    out.push_str(rest);
    decode_entities(&out)
}

fn find_ci(haystack: &str, needle: &str) -> Option<usize> {
    haystack.to_ascii_lowercase().find(needle)
}

fn decode_entities(text: &str) -> String {
    text.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_formats_are_read_and_others_fail() {
        assert_eq!(extract_text("a.md", b"# Hi").unwrap(), "# Hi");
        assert_eq!(
            extract_text("a.png", b"\x89PNG").unwrap_err().code,
            "unsupported_file"
        );
        assert_eq!(
            extract_text("a.txt", b"\xff\xfe").unwrap_err().code,
            "invalid_file"
        );
    }

    #[test]
    fn html_loses_tags_scripts_and_entities() {
        let text = strip_tags("<p>Tom&amp;Jerry</p><script>x()</script><b>cat</b>");
        assert_eq!(
            text.split_whitespace().collect::<Vec<_>>(),
            ["Tom&Jerry", "cat"]
        );
    }
}
