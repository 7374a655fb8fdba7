//! DOCX: the text of `word/document.xml` (paragraphs as lines, table cells separated by
//! tabs, tabs and breaks kept), then of the headers and footers.

use std::io::{Cursor, Read};

use quick_xml::events::Event;
use quick_xml::Reader;
use zip::ZipArchive;

use super::{invalid, MAX_EXTRACTED_CHARS};
use crate::vector_stores::model::LastError;

/// The part holding the document body.
const BODY_PART: &str = "word/document.xml";

/// The text of DOCX `bytes`: the body first, then headers and footers.
pub fn docx_text(bytes: &[u8]) -> Result<String, LastError> {
    let mut archive =
        ZipArchive::new(Cursor::new(bytes)).map_err(|_| not_docx("it is not a ZIP archive"))?;
    let mut parts = vec![BODY_PART.to_owned()];
    let mut extra: Vec<String> = archive
        .file_names()
        .filter_map(Result::ok)
        .filter(|name| is_header_or_footer(name))
        .map(|name| name.into_owned())
        .collect();
    extra.sort();
    parts.extend(extra);
    let mut texts = Vec::new();
    for name in parts {
        let xml = read_part(&mut archive, &name)?;
        let text = wordprocessing_text(&xml)?;
        if !text.trim().is_empty() {
            texts.push(text);
        }
    }
    Ok(texts.join("\n\n"))
}

fn is_header_or_footer(name: &str) -> bool {
    name.strip_prefix("word/").is_some_and(|rest| {
        (rest.starts_with("header") || rest.starts_with("footer"))
            && rest.ends_with(".xml")
            && !rest.contains('/')
    })
}

/// A part's XML, read at most [`MAX_EXTRACTED_CHARS`] bytes far (a zip bomb stops there).
fn read_part(archive: &mut ZipArchive<Cursor<&[u8]>>, name: &str) -> Result<String, LastError> {
    let part = archive.by_name(name).map_err(|_| {
        if name == BODY_PART {
            not_docx("it has no word/document.xml")
        } else {
            not_docx("a header or footer cannot be read")
        }
    })?;
    let mut xml = String::new();
    part.take(MAX_EXTRACTED_CHARS as u64 + 1)
        .read_to_string(&mut xml)
        .map_err(|_| not_docx("its XML cannot be decompressed as UTF-8"))?;
    if xml.len() > MAX_EXTRACTED_CHARS {
        return Err(invalid("The DOCX document is too large to process."));
    }
    Ok(xml)
}

/// The text of WordprocessingML: `w:t` runs, `w:tab` as a tab, `w:br`/`w:cr` as a line
/// break, a line per paragraph `w:p`, table cells `w:tc` separated by tabs.
pub(super) fn wordprocessing_text(xml: &str) -> Result<String, LastError> {
    let mut reader = Reader::from_str(xml);
    let mut out = String::new();
    let mut in_text = false;
    loop {
        let event = reader
            .read_event()
            .map_err(|_| not_docx("its XML is malformed"))?;
        match event {
            Event::Start(tag) if tag.local_name().as_ref() == "t" => in_text = true,
            Event::End(tag) => match tag.local_name().as_ref() {
                "t" => in_text = false,
                "p" => out.push('\n'),
                "tc" => out.push('\t'),
                "tr" => out.push('\n'),
                _ => {}
            },
            Event::Empty(tag) => match tag.local_name().as_ref() {
                "tab" => out.push('\t'),
                "br" | "cr" => out.push('\n'),
                "p" => out.push('\n'),
                _ => {}
            },
            Event::Text(text) if in_text => {
                out.push_str(&text.xml10_content());
            }
            Event::GeneralRef(reference) if in_text => {
                let resolved = reference
                    .resolve_char_ref()
                    .ok()
                    .flatten()
                    .map(String::from)
                    .or_else(|| predefined_entity(reference.as_ref()).map(String::from));
                out.push_str(&resolved.unwrap_or_default());
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

fn predefined_entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => None,
    }
}

fn not_docx(why: &str) -> LastError {
    invalid(&format!(
        "The file could not be read as a DOCX document: {why}."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_runs_tabs_breaks_and_cells_become_lines() {
        let xml = r#"<w:document xmlns:w="x"><w:body>
            <w:p><w:r><w:t>Hello</w:t></w:r><w:r><w:t xml:space="preserve"> world &amp; co</w:t></w:r></w:p>
            <w:p><w:r><w:t>a</w:t><w:tab/><w:t>b</w:t><w:br/><w:t>c</w:t></w:r></w:p>
            <w:tbl><w:tr><w:tc><w:p><w:r><w:t>x</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>y</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
            </w:body></w:document>"#;
        let text = wordprocessing_text(xml).unwrap();
        assert!(text.starts_with("Hello world & co\na\tb\nc\n"), "{text:?}");
        assert!(text.contains("x\n\ty\n\t\n"), "{text:?}");
    }

    #[test]
    fn malformed_xml_fails() {
        let error = wordprocessing_text("<w:p><w:t>a</w:p>").unwrap_err();
        assert_eq!(error.code, "invalid_file");
    }

    #[test]
    fn only_top_level_headers_and_footers_are_read() {
        assert!(is_header_or_footer("word/header1.xml"));
        assert!(is_header_or_footer("word/footer2.xml"));
        assert!(!is_header_or_footer("word/_rels/header1.xml.rels"));
        assert!(!is_header_or_footer("word/document.xml"));
    }
}
