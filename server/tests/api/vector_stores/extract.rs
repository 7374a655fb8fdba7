//! Text extraction from PDF and DOCX: the extractors on documents written at test time
//! (pages, paragraphs, tables, tabs, breaks, entities), and ingestion end to end: a
//! PDF and a DOCX reach `completed` and their words are found by search, while
//! corrupt, encrypted and text-less documents end `failed` with a `last_error`.

use crate::support::vector_stores::VsApp;
use serde_json::{json, Value};
use server::vector_stores::extract::{docx_text, extract_text, pdf_text};
use testkit::documents::{docx, docx_with_body, encrypted_pdf, pdf, textless_pdf, zip_of};

#[test]
fn pdf_pages_are_read_in_order_and_joined_by_blank_lines() {
    let bytes = pdf(&[
        "Aardvarks dig burrows\nat night (mostly)",
        "Page two mentions zebras",
    ]);
    let text = pdf_text(&bytes).unwrap();
    let pages: Vec<&str> = text.split("\n\n").collect();
    assert_eq!(pages.len(), 2, "{text:?}");
    assert_eq!(
        pages[0].split_whitespace().collect::<Vec<_>>(),
        ["Aardvarks", "dig", "burrows", "at", "night", "(mostly)"]
    );
    assert_eq!(
        pages[1].split_whitespace().collect::<Vec<_>>(),
        ["Page", "two", "mentions", "zebras"]
    );
}

#[test]
fn empty_pages_add_no_blank_paragraphs() {
    let bytes = pdf(&["first", "", "third"]);
    assert_eq!(pdf_text(&bytes).unwrap(), "first\n\nthird");
}

#[test]
fn pdfs_without_text_encrypted_or_broken_fail_with_a_reason() {
    let textless = pdf_text(&textless_pdf(3)).unwrap_err();
    assert_eq!(textless.code, "invalid_file");
    assert!(
        textless.message.contains("no extractable text"),
        "{textless:?}"
    );

    let encrypted = pdf_text(&encrypted_pdf(&["secret words"])).unwrap_err();
    assert_eq!(encrypted.code, "invalid_file");
    assert!(encrypted.message.contains("encrypted"), "{encrypted:?}");

    let valid = pdf(&["some words"]);
    for broken in [
        b"%PDF-1.4\n garbage".to_vec(),
        valid[..valid.len() / 2].to_vec(),
        Vec::new(),
    ] {
        let error = pdf_text(&broken).unwrap_err();
        assert_eq!(error.code, "invalid_file", "{error:?}");
    }
}

#[test]
fn docx_paragraphs_become_lines_and_cells_stay_apart() {
    let bytes = docx_with_body(
        "<w:p><w:r><w:t>Quokkas smile</w:t></w:r><w:r><w:t xml:space=\"preserve\"> &amp; wave</w:t></w:r></w:p>\
         <w:p><w:r><w:t>left</w:t><w:tab/><w:t>right</w:t><w:br/><w:t>below</w:t></w:r></w:p>\
         <w:tbl><w:tr>\
         <w:tc><w:p><w:r><w:t>cellA</w:t></w:r></w:p></w:tc>\
         <w:tc><w:p><w:r><w:t>cellB</w:t></w:r></w:p></w:tc>\
         </w:tr></w:tbl>",
    );
    let text = docx_text(&bytes).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "Quokkas smile & wave");
    assert_eq!(lines[1], "left\tright");
    assert_eq!(lines[2], "below");
    assert!(
        text.split_whitespace().any(|w| w == "cellA")
            && text.split_whitespace().any(|w| w == "cellB"),
        "{text:?}"
    );
}

#[test]
fn docx_headers_and_footers_follow_the_body() {
    let document = "<w:document xmlns:w=\"w\"><w:body><w:p><w:r><w:t>body</w:t></w:r></w:p></w:body></w:document>";
    let header = "<w:hdr xmlns:w=\"w\"><w:p><w:r><w:t>heading</w:t></w:r></w:p></w:hdr>";
    let bytes = zip_of(&[
        ("word/document.xml", document),
        ("word/header1.xml", header),
    ]);
    assert_eq!(docx_text(&bytes).unwrap(), "body\n\n\nheading\n");
}

#[test]
fn broken_docx_fail_with_a_reason() {
    let valid = docx(&["words"]);
    let cases: [(&str, Vec<u8>); 4] = [
        ("not a zip", b"PK not really".to_vec()),
        ("truncated", valid[..valid.len() / 2].to_vec()),
        ("no body", zip_of(&[("other.xml", "<a/>")])),
        (
            "malformed xml",
            zip_of(&[("word/document.xml", "<w:body><w:p><w:t>x</w:p>")]),
        ),
    ];
    for (case, bytes) in cases {
        let error = docx_text(&bytes).unwrap_err();
        assert_eq!(error.code, "invalid_file", "{case}");
        assert!(error.message.contains("DOCX"), "{case}: {error:?}");
    }
}

#[test]
fn an_empty_docx_has_no_text() {
    let error = extract_text("empty.docx", &docx(&[])).unwrap_err();
    assert_eq!(error.message, "The file contains no text.");
}

async fn ingest(app: &VsApp, uploads: &[(&str, Vec<u8>)]) -> (String, Vec<Value>) {
    let mut ids = Vec::new();
    for (name, bytes) in uploads {
        let file = app.files.upload(name, "assistants", bytes).await;
        ids.push(file["id"].as_str().unwrap().to_owned());
    }
    let store = app.create_store(json!({"file_ids": ids})).await;
    let store = store["id"].as_str().unwrap().to_owned();
    let mut files = Vec::new();
    for id in &ids {
        let path = format!("/v1/vector_stores/{store}/files/{id}");
        files.push(app.poll(&path, |f| f["status"] != "in_progress").await);
    }
    (store, files)
}

#[tokio::test]
async fn a_pdf_and_a_docx_are_ingested_and_searchable() {
    let app = VsApp::new().await;
    let report = pdf(&[
        "Quarterly report",
        "The heliotrope warehouse shipped nine crates.",
    ]);
    let memo = docx(&["Memo", "The marmalade committee meets on Tuesday."]);
    let (store, files) = ingest(&app, &[("report.pdf", report), ("memo.docx", memo)]).await;
    for file in &files {
        assert_eq!(file["status"], "completed", "{file}");
        assert_eq!(file["last_error"], Value::Null, "{file}");
        assert!(file["usage_bytes"].as_u64().unwrap() > 0, "{file}");
    }
    for (query, filename, phrase) in [
        (
            "heliotrope warehouse",
            "report.pdf",
            "heliotrope warehouse shipped",
        ),
        (
            "marmalade committee",
            "memo.docx",
            "marmalade committee meets",
        ),
    ] {
        let page = app.search(&store, json!({"query": query})).await;
        let best = &page["data"][0];
        assert_eq!(best["filename"], filename, "{page}");
        assert!(
            best["content"][0]["text"]
                .as_str()
                .unwrap()
                .contains(phrase),
            "{page}"
        );
    }
}

#[tokio::test]
async fn corrupt_documents_fail_with_last_error_and_others_still_complete() {
    let app = VsApp::new().await;
    let valid_pdf = pdf(&["fine words"]);
    let (store, files) = ingest(
        &app,
        &[
            ("broken.pdf", valid_pdf[..valid_pdf.len() / 3].to_vec()),
            ("broken.docx", b"PK\x03\x04 not a real archive".to_vec()),
            ("locked.pdf", encrypted_pdf(&["secret"])),
            ("scan.pdf", textless_pdf(2)),
            ("fine.pdf", valid_pdf),
        ],
    )
    .await;
    for failed in &files[..4] {
        assert_eq!(failed["status"], "failed", "{failed}");
        assert_eq!(failed["last_error"]["code"], "invalid_file", "{failed}");
        assert!(
            !failed["last_error"]["message"].as_str().unwrap().is_empty(),
            "{failed}"
        );
    }
    assert_eq!(files[4]["status"], "completed", "{}", files[4]);
    let settled = app.settled_store(&store).await;
    assert_eq!(
        settled["file_counts"],
        json!({"in_progress": 0, "completed": 1, "failed": 4, "cancelled": 0, "total": 5})
    );
}
