//! Ingestion throughput (`cargo bench --workspace --bench ingest`): text extraction in
//! MB/s for plain text, pages/s for a generated multi-page PDF and MB/s for a generated
//! DOCX, plus extraction followed by token chunking (what a worker does per file).
//! Sizes come from `BENCH_TEXT_MB` (default 16), `BENCH_PDF_PAGES` (default 1000) and
//! `BENCH_REPEATS` (default 3); each figure is the median of the repeats.

// Test code fails by panicking: unwrapping is how it says what broke.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use server::vector_stores::chunking::{chunk_text, Chunking};
use server::vector_stores::extract::extract_text;

/// Words the generated documents are made of (prose-like lengths, no repetition
/// pattern shorter than a line).
const WORDS: &[&str] = &[
    "the",
    "archive",
    "of",
    "quarterly",
    "reports",
    "lists",
    "every",
    "shipment",
    "and",
    "its",
    "warehouse",
    "with",
    "dates",
    "prices",
    "in",
    "euro",
    "a",
    "committee",
    "reviewed",
    "contracts",
    "before",
    "signing",
    "them",
    "on",
    "Tuesday",
];

fn main() {
    let text_mb = env_number("BENCH_TEXT_MB", 16);
    let pdf_pages = env_number("BENCH_PDF_PAGES", 1000);
    let repeats = env_number("BENCH_REPEATS", 3).max(1);
    println!("bench ingest: text {text_mb} MB, pdf {pdf_pages} pages, {repeats} repeats (median)");
    println!("| input | size | extraction | extraction + chunking (auto) |");
    println!("| --- | --- | --- | --- |");

    let text = prose(text_mb * 1024 * 1024);
    let megabytes = text.len() as f64 / 1e6;
    let extract = median(repeats, || extract_text("a.txt", text.as_bytes()).map(drop));
    let both = median(repeats, || ingest("a.txt", text.as_bytes()));
    println!(
        "| plain text (.txt) | {megabytes:.1} MB | {:.0} MB/s | {:.2} MB/s |",
        megabytes / extract.as_secs_f64(),
        megabytes / both.as_secs_f64()
    );

    let lines_per_page = 40;
    let pages: Vec<String> = (0..pdf_pages)
        .map(|page| {
            (0..lines_per_page)
                .map(|line| words_line(page * lines_per_page + line, 12))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    let page_refs: Vec<&str> = pages.iter().map(String::as_str).collect();
    let pdf = testkit::documents::pdf(&page_refs);
    let pdf_text_mb = extract_text("a.pdf", &pdf)
        .expect("the generated PDF reads")
        .len() as f64
        / 1e6;
    let extract = median(repeats, || extract_text("a.pdf", &pdf).map(drop));
    let both = median(repeats, || ingest("a.pdf", &pdf));
    println!(
        "| PDF, {pdf_pages} pages x {lines_per_page} lines | {:.1} MB file, {pdf_text_mb:.1} MB text | {:.0} pages/s ({:.1} MB/s of text) | {:.0} pages/s |",
        pdf.len() as f64 / 1e6,
        pdf_pages as f64 / extract.as_secs_f64(),
        pdf_text_mb / extract.as_secs_f64(),
        pdf_pages as f64 / both.as_secs_f64()
    );

    let paragraphs: Vec<String> = (0..text.len() / 100).map(|i| words_line(i, 15)).collect();
    let paragraph_refs: Vec<&str> = paragraphs.iter().map(String::as_str).collect();
    let docx = testkit::documents::docx(&paragraph_refs);
    let docx_text_mb = extract_text("a.docx", &docx)
        .expect("the generated DOCX reads")
        .len() as f64
        / 1e6;
    let extract = median(repeats, || extract_text("a.docx", &docx).map(drop));
    let both = median(repeats, || ingest("a.docx", &docx));
    println!(
        "| DOCX, {} paragraphs | {:.1} MB file, {docx_text_mb:.1} MB text | {:.0} MB/s of text | {:.2} MB/s of text |",
        paragraphs.len(),
        docx.len() as f64 / 1e6,
        docx_text_mb / extract.as_secs_f64(),
        docx_text_mb / both.as_secs_f64()
    );
}

/// What an ingestion worker does with a file's bytes: extraction, then chunking.
fn ingest(filename: &str, bytes: &[u8]) -> Result<(), server::vector_stores::model::LastError> {
    let text = extract_text(filename, bytes)?;
    let chunks = chunk_text(&text, Chunking::default());
    assert!(!chunks.is_empty());
    Ok(())
}

/// The median wall time of `repeats` runs of `work`, which must succeed.
fn median<E: std::fmt::Debug>(repeats: usize, mut work: impl FnMut() -> Result<(), E>) -> Duration {
    let mut times: Vec<Duration> = (0..repeats)
        .map(|_| {
            let start = Instant::now();
            work().expect("the benchmark input is valid");
            start.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

/// Line number `index` of generated prose, `count` words long.
fn words_line(index: usize, count: usize) -> String {
    (0..count)
        .map(|i| WORDS[(index * 7 + i * 13 + i * i) % WORDS.len()])
        .collect::<Vec<_>>()
        .join(" ")
}

/// Generated prose of about `bytes` bytes, in lines of twelve words.
fn prose(bytes: usize) -> String {
    let mut text = String::with_capacity(bytes + 128);
    let mut line = 0;
    while text.len() < bytes {
        text.push_str(&words_line(line, 12));
        text.push('\n');
        line += 1;
    }
    text
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}
