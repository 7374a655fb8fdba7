//! PDF: the text of each page (through `lopdf`), pages joined by blank lines. Encrypted
//! documents and documents without a text layer (scans) fail with a reason.

use lopdf::{Document, Error as PdfError, LoadOptions};

use super::{invalid, MAX_EXTRACTED_CHARS};
use crate::vector_stores::model::LastError;

/// Bound on any one stream's (and page content's) decompressed size, against
/// decompression bombs.
const MAX_DECOMPRESSED_BYTES: usize = 32 * 1024 * 1024;
/// Bound on the pages read, so a document of empty pages cannot keep a worker busy.
const MAX_PAGES: usize = 50_000;

/// The text of PDF `bytes`, page by page, pages separated by a blank line.
pub fn pdf_text(bytes: &[u8]) -> Result<String, LastError> {
    let options = LoadOptions {
        max_decompressed_size: Some(MAX_DECOMPRESSED_BYTES),
        ..LoadOptions::default()
    };
    let document =
        Document::load_mem_with_options(bytes, options).map_err(|error| match error {
            PdfError::Decryption(_) | PdfError::InvalidPassword => encrypted(),
            _ => invalid("The file could not be read as a PDF document."),
        })?;
    // An empty user password is tried while loading; still encrypted means a password
    // is needed to read the text.
    if document.is_encrypted() {
        return Err(encrypted());
    }
    let mut pages = Vec::new();
    let mut total_chars = 0;
    for page_number in document.get_pages().into_keys().take(MAX_PAGES) {
        let page = page_text(&document, page_number);
        total_chars += page.len();
        if total_chars > MAX_EXTRACTED_CHARS {
            return Err(invalid("The PDF holds too much text to process."));
        }
        if !page.is_empty() {
            pages.push(page);
        }
    }
    if pages.is_empty() {
        return Err(invalid(
            "The PDF has no extractable text (it may hold only scanned images).",
        ));
    }
    Ok(pages.join("\n\n"))
}

/// One page's text, trimmed; the parts that fail to decode (an unknown font encoding)
/// are left out rather than failing the page.
fn page_text(document: &Document, page_number: u32) -> String {
    let chunks = document.extract_text_chunks_with_limit(&[page_number], MAX_DECOMPRESSED_BYTES);
    let text: String = chunks.into_iter().filter_map(Result::ok).collect();
    text.trim().to_owned()
}

fn encrypted() -> LastError {
    invalid("The PDF is encrypted; password-protected documents cannot be processed.")
}
