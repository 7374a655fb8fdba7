//! Text extraction for ingestion, chosen by file extension: plain-text formats are read
//! as UTF-8, HTML loses its tags, PDF and DOCX are parsed; anything else fails as OpenAI
//! failed it, with `unsupported_file`. Every failure is a [`LastError`], never a panic.

mod docx;
mod html;
mod pdf;
mod text;

pub use docx::docx_text;
pub use html::strip_tags;
pub use pdf::pdf_text;

use super::model::LastError;

/// At most this many characters of text are kept from one document, so a small file
/// that expands enormously (a compressed PDF, a zipped DOCX) cannot exhaust memory.
pub const MAX_EXTRACTED_CHARS: usize = 64 * 1024 * 1024;

/// The text of a file named `filename`, or why it cannot be ingested.
pub fn extract_text(filename: &str, bytes: &[u8]) -> Result<String, LastError> {
    let extension = filename
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    let text = match extension.as_str() {
        "pdf" => guarded("PDF", || pdf_text(bytes))?,
        "docx" => guarded("DOCX", || docx_text(bytes))?,
        ext if html::HTML_EXTENSIONS.contains(&ext) => strip_tags(text::utf8_text(bytes)?),
        ext if text::TEXT_EXTENSIONS.contains(&ext) => text::utf8_text(bytes)?.to_owned(),
        _ => return Err(unsupported(&extension)),
    };
    if text.trim().is_empty() {
        return Err(invalid("The file contains no text."));
    }
    Ok(text)
}

/// Runs a third-party parser so that a panic on malformed input fails the file instead
/// of the ingestion worker.
fn guarded(
    format: &str,
    parse: impl FnOnce() -> Result<String, LastError>,
) -> Result<String, LastError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(parse)).unwrap_or_else(|_| {
        Err(invalid(&format!(
            "The file could not be read as a {format} document."
        )))
    })
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

/// An `invalid_file` error saying `message`.
fn invalid(message: &str) -> LastError {
    LastError {
        code: "invalid_file".to_owned(),
        message: message.to_owned(),
    }
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
    fn garbage_in_a_pdf_or_docx_fails_as_invalid() {
        for name in ["a.pdf", "a.PDF", "a.docx"] {
            let error = extract_text(name, b"not a document at all").unwrap_err();
            assert_eq!(error.code, "invalid_file", "{name}");
            assert!(!error.message.is_empty());
        }
    }

    #[test]
    fn a_panicking_parser_fails_the_file() {
        let error = guarded("PDF", || panic!("malformed")).unwrap_err();
        assert_eq!(error.code, "invalid_file");
        assert!(error.message.contains("PDF"), "{}", error.message);
    }
}
