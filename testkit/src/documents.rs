//! Documents written at test time, byte by byte, so no binary fixture is committed: a
//! minimal PDF (one text object per page, Helvetica, exact cross-reference offsets) and
//! a minimal DOCX (a ZIP holding `word/document.xml`). Shared by the extraction tests
//! and the ingestion benchmark.

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;
use zip::ZipWriter;

/// A PDF with one page per entry of `pages`, each line of an entry shown as a line of text.
pub fn pdf(pages: &[&str]) -> Vec<u8> {
    pdf_with_trailer_extra(pages, "")
}

/// A PDF whose trailer refers to a Standard security handler whose user password is not
/// empty, so nothing can be read without it.
pub fn encrypted_pdf(pages: &[&str]) -> Vec<u8> {
    pdf_with_trailer_extra(pages, "encrypt")
}

/// A PDF with pages but no text operators (as a scanned document holds only images).
pub fn textless_pdf(page_count: usize) -> Vec<u8> {
    let blank: Vec<&str> = vec![""; page_count];
    pdf(&blank)
}

fn pdf_with_trailer_extra(pages: &[&str], extra: &str) -> Vec<u8> {
    // Objects: 1 catalog, 2 page tree, 3 font, then a page and its content per page,
    // then the encryption dictionary if any.
    let mut objects: Vec<Vec<u8>> = Vec::new();
    let kids: Vec<String> = (0..pages.len())
        .map(|i| format!("{} 0 R", 4 + 2 * i))
        .collect();
    objects.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    objects.push(
        format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            pages.len()
        )
        .into_bytes(),
    );
    objects.push(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    );
    for (i, page) in pages.iter().enumerate() {
        let content_id = 5 + 2 * i;
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] \
                 /Resources << /Font << /F1 3 0 R >> >> /Contents {content_id} 0 R >>"
            )
            .into_bytes(),
        );
        let content = page_content(page);
        let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
        stream.extend_from_slice(content.as_bytes());
        stream.extend_from_slice(b"\nendstream");
        objects.push(stream);
    }
    let mut trailer_entries = format!("/Size {} /Root 1 0 R", objects.len() + 2);
    if extra == "encrypt" {
        let id = objects.len() + 1;
        let filler = "AB".repeat(32);
        objects.push(
            format!(
                "<< /Filter /Standard /V 1 /R 2 /Length 40 /P -4 /O <{filler}> /U <{filler}> >>"
            )
            .into_bytes(),
        );
        trailer_entries = format!(
            "/Size {} /Root 1 0 R /Encrypt {id} 0 R /ID [<{filler}> <{filler}>]",
            objects.len() + 1
        );
    }
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (index, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", index + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref_at = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< {trailer_entries} >>\nstartxref\n{xref_at}\n%%EOF\n").as_bytes(),
    );
    out
}

/// A content stream showing each line of `text` on its own line.
fn page_content(text: &str) -> String {
    if text.is_empty() {
        return "0 0 1 rg 0 0 612 792 re f".to_owned();
    }
    let mut content = "BT /F1 12 Tf 72 720 Td 14 TL".to_owned();
    for line in text.lines() {
        let escaped = line
            .replace('\\', "\\\\")
            .replace('(', "\\(")
            .replace(')', "\\)");
        content.push_str(&format!(" ({escaped}) Tj T*"));
    }
    content.push_str(" ET");
    content
}

/// A DOCX whose body is `body_xml` (the children of `w:body`).
pub fn docx_with_body(body_xml: &str) -> Vec<u8> {
    let document = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
         <w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">\
         <w:body>{body_xml}</w:body></w:document>"
    );
    zip_of(&[
        ("[Content_Types].xml", CONTENT_TYPES),
        ("word/document.xml", &document),
    ])
}

/// A DOCX with one paragraph (one run) per entry of `paragraphs`.
pub fn docx(paragraphs: &[&str]) -> Vec<u8> {
    let body: String = paragraphs
        .iter()
        .map(|p| {
            format!(
                "<w:p><w:r><w:t xml:space=\"preserve\">{}</w:t></w:r></w:p>",
                xml_escape(p)
            )
        })
        .collect();
    docx_with_body(&body)
}

/// A ZIP archive holding `(name, text)` entries, deflated.
pub fn zip_of(entries: &[(&str, &str)]) -> Vec<u8> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, text) in entries {
        writer
            .start_file(*name, SimpleFileOptions::default())
            .unwrap();
        writer.write_all(text.as_bytes()).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

const CONTENT_TYPES: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
<Default Extension=\"xml\" ContentType=\"application/xml\"/>\
<Override PartName=\"/word/document.xml\" \
ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>\
</Types>";
