//! Reports rendered from [`Results`](crate::results::Results) alone (never from runner state):
//! the Markdown report, `coverage.md`, JUnit XML, the comparison of several targets, and the
//! plain-text failure details shared by the console and the report.

pub mod compare;
pub mod coverage;
pub mod junit;
pub mod markdown;
pub mod problems;
pub mod text;

pub use compare::render_compare;
pub use coverage::render_coverage;
pub use junit::render_junit;
pub use markdown::render_report;

pub use crate::results::excerpt;

/// Renders a Markdown table with `tabled`: the header row first, then the rows.
pub fn markdown_table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut builder = tabled::builder::Builder::default();
    builder.push_record(header.iter().map(|cell| cell.to_string()));
    for row in rows {
        builder.push_record(row.into_iter().map(|cell| escape_cell(&cell)));
    }
    let mut table = builder.build();
    table.with(tabled::settings::Style::markdown());
    table.to_string()
}

/// Keeps a cell on one line and its pipes from splitting the row.
fn escape_cell(cell: &str) -> String {
    cell.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("short", 10, "short")]
    #[case("abcdef", 3, "abc… (3 more bytes)")]
    #[case("ééé", 1, "é… (4 more bytes)")]
    fn excerpts_cut_on_character_boundaries(
        #[case] text: &str,
        #[case] max: usize,
        #[case] expected: &str,
    ) {
        assert_eq!(excerpt(text, max), expected);
    }
}
