//! Keyword terms as SQLite's FTS5 makes them with `tokenize = 'porter unicode61'`, in
//! Rust, for backends without FTS5 (PostgreSQL): the same terms give the same matches and
//! term frequencies, so bm25 ([`super::bm25`]) scores to the bit as on SQLite.
//!
//! This is a port of FTS5's C code (SQLite 3.46), quirks included, not of the Unicode
//! standard: `unicode61` splits on characters outside the general categories `L*`, `N*`
//! and `Co` (and those its tables leave unclassified) as of the Unicode tables SQLite
//! ships ([`tables`], generated from its source), lets the combining diacritics
//! U+0300..U+0331 continue a token, folds case and removes diacritics as its tables say;
//! then `porter` stems each token of 3 to 64 bytes byte by byte ([`porter`]). A term is
//! bytes: stemming may cut a multi-byte character, as FTS5 does.

mod porter;
#[rustfmt::skip]
mod tables;

/// FTS5 cuts longer tokens to this many bytes (`FTS5_MAX_TOKEN_SIZE`).
const MAX_TOKEN_BYTES: usize = 32768;

/// The terms of `text` in order, one per token (repeats included), as FTS5 indexes them.
pub fn terms(text: &str) -> Vec<Vec<u8>> {
    let mut terms = Vec::new();
    let mut current: Option<Vec<u8>> = None;
    for c in text.chars() {
        let code = read_utf8(c);
        let continues = match &current {
            None => is_token_char(code),
            Some(_) => is_token_char(code) || is_diacritic(code),
        };
        if !continues {
            if let Some(token) = current.take() {
                terms.push(finish(token));
            }
            continue;
        }
        let token = current.get_or_insert_with(Vec::new);
        let folded = fold(code);
        if folded != 0 {
            write_utf8(token, folded);
        }
    }
    if let Some(token) = current {
        terms.push(finish(token));
    }
    terms
}

/// A token as FTS5 stores it: stemmed, then cut to its maximum size.
fn finish(token: Vec<u8>) -> Vec<u8> {
    let mut term = porter::stem(token);
    term.truncate(MAX_TOKEN_BYTES);
    term
}

/// The code SQLite's `READ_UTF8` reads for `c`: U+FFFE and U+FFFF read as U+FFFD.
fn read_utf8(c: char) -> u32 {
    let code = u32::from(c);
    if code & 0xFFFF_FFFE == 0xFFFE {
        0xFFFD
    } else {
        code
    }
}

/// Appends `code` as SQLite's `WRITE_UTF8` writes it (whatever the code: a fold may
/// in principle land on a surrogate, which it writes in three bytes all the same).
fn write_utf8(out: &mut Vec<u8>, code: u32) {
    if code < 0x80 {
        out.push(code as u8);
    } else if code < 0x800 {
        out.extend([0xC0 | (code >> 6) as u8 & 0x1F, 0x80 | (code & 0x3F) as u8]);
    } else if code < 0x10000 {
        out.extend([
            0xE0 | (code >> 12) as u8 & 0x0F,
            0x80 | (code >> 6) as u8 & 0x3F,
            0x80 | (code & 0x3F) as u8,
        ]);
    } else {
        out.extend([
            0xF0 | (code >> 18) as u8 & 0x07,
            0x80 | (code >> 12) as u8 & 0x3F,
            0x80 | (code >> 6) as u8 & 0x3F,
            0x80 | (code & 0x3F) as u8,
        ]);
    }
}

/// Whether `code` is a token character: ASCII letters and digits, else by category
/// (`L*`, `N*`, `Co`, and the unclassified category 0). NUL never is.
fn is_token_char(code: u32) -> bool {
    const TOKEN_CATEGORIES: u32 = (1 << 0)
        | (1 << 5)
        | (1 << 6)
        | (1 << 7)
        | (1 << 8)
        | (1 << 9)
        | (1 << 30)
        | (1 << 13)
        | (1 << 14)
        | (1 << 15)
        | (1 << 31);
    code != 0 && TOKEN_CATEGORIES & (1 << category(code)) != 0
}

/// The general category FTS5's tables give `code` (`sqlite3Fts5UnicodeCategory`):
/// 0 unclassified, 5 `Ll`, 9 `Lu`, 13 `Nd`... (see `sqlite3Fts5UnicodeCatParse`).
fn category(code: u32) -> u32 {
    use tables::{CATEGORY_BLOCKS, CATEGORY_DATA, CATEGORY_MAP};
    if code >= 1 << 20 {
        return 0;
    }
    let plane = (code >> 16) as usize;
    let (mut low, mut high) = (
        usize::from(CATEGORY_BLOCKS[plane]),
        usize::from(CATEGORY_BLOCKS[plane + 1]),
    );
    let key = (code & 0xFFFF) as u16;
    let mut found = None;
    while high > low {
        let test = (high + low) / 2;
        if key >= CATEGORY_MAP[test] {
            found = Some(test);
            low = test + 1;
        } else {
            high = test;
        }
    }
    let Some(range) = found else {
        return 0;
    };
    let start = u32::from(CATEGORY_MAP[range]);
    if u32::from(key) >= start + u32::from(CATEGORY_DATA[range] >> 5) {
        return 0;
    }
    match u32::from(CATEGORY_DATA[range] & 0x1F) {
        // Alternating upper and lower case letters.
        30 if (u32::from(key) - start) & 1 == 1 => 5,
        30 => 9,
        category => category,
    }
}

/// Whether `code` is one of the combining diacritics that continue a token
/// (`sqlite3Fts5UnicodeIsdiacritic`).
fn is_diacritic(code: u32) -> bool {
    const LOW: u32 = 0x0802_9FDF;
    const HIGH: u32 = 0x0003_61F8;
    match code {
        768..=799 => LOW & (1 << (code - 768)) != 0,
        800..=817 => HIGH & (1 << (code - 800)) != 0,
        _ => false,
    }
}

/// `code` folded to lower case with diacritics removed (`sqlite3Fts5UnicodeFold` with
/// `remove_diacritics=1`, unicode61's default); 0 drops the character.
fn fold(code: u32) -> u32 {
    use tables::{FOLD_ENTRIES, FOLD_OFFSETS};
    if code < 128 {
        return if (65..=90).contains(&code) {
            code + 32
        } else {
            code
        };
    }
    if code < 65536 {
        // The last entry starting at or before `code` (the first starts at 65).
        let index = FOLD_ENTRIES.partition_point(|(first, _, _)| u32::from(*first) <= code) - 1;
        let (first, flags, count) = FOLD_ENTRIES[index];
        let (first, flags) = (u32::from(first), u32::from(flags));
        let mut folded = code;
        if code < first + u32::from(count) && (1 & flags & (first ^ code)) == 0 {
            folded = (code + u32::from(FOLD_OFFSETS[(flags >> 1) as usize])) & 0xFFFF;
        }
        return remove_diacritic(folded);
    }
    if (66560..66600).contains(&code) {
        return code + 40;
    }
    code
}

/// The ASCII letter of a lower-case letter with a simple diacritic, else `code`
/// (`fts5_remove_diacritic` with `bComplex` 0).
fn remove_diacritic(code: u32) -> u32 {
    use tables::{DIACRITIC_BASES, DIACRITIC_KEYS};
    let key = (code << 3) | 7;
    // The last range starting at or before `code` (the first starts at 0).
    let index = DIACRITIC_KEYS.partition_point(|first| u32::from(*first) <= key) - 1;
    let base = DIACRITIC_BASES[index];
    if base & 0x80 != 0 {
        return code;
    }
    let range = u32::from(DIACRITIC_KEYS[index]);
    if code > (range >> 3) + (range & 7) {
        code
    } else {
        u32::from(base & 0x7F)
    }
}

#[cfg(test)]
mod fts5_tests;
#[cfg(test)]
mod tests;
