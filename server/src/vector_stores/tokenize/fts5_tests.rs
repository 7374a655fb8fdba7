//! The tokenizer against FTS5 itself (SQLite's, in memory): every Unicode scalar value
//! starting, continuing and ending tokens, every suffix rule of the stemmer on many
//! stems, random words of every length, and the project's own prose, each compared
//! term by term with what `tokenize = 'porter unicode61'` indexes.

use sqlx::{Connection, SqliteConnection};

use super::terms;

/// An in-memory FTS5 table with the SQLite backend's tokenizer, and its terms by position.
async fn fts5() -> SqliteConnection {
    let mut conn = SqliteConnection::connect("sqlite::memory:").await.unwrap();
    for statement in [
        "CREATE VIRTUAL TABLE t USING fts5 (x, tokenize = 'porter unicode61')",
        "CREATE VIRTUAL TABLE v USING fts5vocab (t, 'instance')",
    ] {
        sqlx::query(statement).execute(&mut conn).await.unwrap();
    }
    conn
}

/// The terms FTS5 indexes for each of `texts`, in order: all inserted, then read back in
/// one pass over the index.
async fn fts5_terms(conn: &mut SqliteConnection, texts: &[String]) -> Vec<Vec<Vec<u8>>> {
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("DELETE FROM t")
        .execute(&mut *tx)
        .await
        .unwrap();
    for (n, text) in texts.iter().enumerate() {
        sqlx::query("INSERT INTO t (rowid, x) VALUES (?, ?)")
            .bind(n as i64)
            .bind(text)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    // One row per text: sqlx's per-row cost dominates millions of term rows.
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT doc, group_concat(hex(term), ' ' ORDER BY offset) FROM v GROUP BY doc",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let mut terms: Vec<Vec<Vec<u8>>> = vec![Vec::new(); texts.len()];
    for (doc, hex) in rows {
        terms[doc as usize] = hex.split(' ').map(unhex).collect();
    }
    terms
}

/// The bytes of an upper-case hex string.
fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// Compares the terms of each text, naming the first that differs; how many compared.
async fn compare(conn: &mut SqliteConnection, texts: Vec<String>) -> usize {
    let mut compared = 0;
    for (text, expected) in texts.iter().zip(fts5_terms(conn, &texts).await) {
        let ours = terms(text);
        if ours != expected {
            let first = ours
                .iter()
                .zip(&expected)
                .position(|(a, b)| a != b)
                .unwrap_or(ours.len().min(expected.len()));
            panic!(
                "terms differ at {first} (ours {} terms, FTS5 {}): ours {:?}, FTS5 {:?}",
                ours.len(),
                expected.len(),
                ours.get(first).map(|t| String::from_utf8_lossy(t)),
                expected.get(first).map(|t| String::from_utf8_lossy(t)),
            );
        }
        compared += expected.len();
    }
    compared
}

#[tokio::test]
async fn every_character_splits_folds_and_stems_as_in_fts5() {
    let mut conn = fts5().await;
    // Each character starting a token and inside one; every 16th also before "ed"
    // (stemming cuts bytes) and doubled before "ing" (FTS5 takes ~1 µs a term: all of
    // them everywhere would cost a minute).
    let texts = (0..=0x10FFFFu32)
        .filter_map(|code| Some((code, char::from_u32(code)?)))
        .filter(|(_, c)| *c != '\0')
        .collect::<Vec<(u32, char)>>()
        .chunks(4096)
        .map(|chars| {
            chars
                .iter()
                .map(|(code, c)| match code % 16 {
                    0 => format!(" {c}a{c}b a{c}ed {c}{c}ing "),
                    _ => format!(" {c}a{c}b "),
                })
                .collect::<String>()
        })
        .collect::<Vec<String>>();
    let compared = compare(&mut conn, texts).await;
    assert!(compared > 1_200_000, "{compared}");
}

/// A deterministic stream of numbers (a linear congruential generator).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

#[tokio::test]
async fn every_suffix_rule_and_random_words_stem_as_in_fts5() {
    const SUFFIXES: &[&str] = &[
        "", "s", "es", "ies", "sses", "ss", "ed", "eed", "ing", "ational", "tional", "enci",
        "anci", "izer", "bli", "abli", "alli", "entli", "eli", "ousli", "ization", "ation", "ator",
        "alism", "iveness", "fulness", "ousness", "aliti", "iviti", "biliti", "logi", "icate",
        "ative", "alize", "iciti", "ical", "ful", "ness", "al", "ance", "ence", "er", "ic", "able",
        "ible", "ant", "ement", "ment", "ent", "sion", "tion", "ion", "ou", "ism", "ate", "iti",
        "ous", "ive", "ize", "y", "e", "ll", "at", "bl", "iz", "ated", "ating", "ly", "yed",
        "ying",
    ];
    const STEMS: &[&str] = &[
        "a",
        "b",
        "ab",
        "tr",
        "tree",
        "cat",
        "hop",
        "fil",
        "sky",
        "fail",
        "troubl",
        "siz",
        "conform",
        "relat",
        "gener",
        "oscill",
        "happ",
        "agr",
        "feud",
        "formal",
        "sensitiv",
        "adjust",
        "replac",
        "depend",
        "adopt",
        "commun",
        "activ",
        "effect",
        "bowdler",
        "prob",
        "ceas",
        "control",
        "roll",
        "electr",
        "hope",
        "good",
        "reviv",
        "allow",
        "infer",
        "airlin",
        "gyroscop",
        "defens",
        "irrit",
        "homolog",
        "angular",
        "y",
        "ay",
        "sy",
        "toy",
        "syzygy",
        "rhythm",
        "queue",
        "caf\u{e9}",
        "na\u{ef}v",
        "\u{2082}",
        "stra\u{df}",
        "\u{fc}ber",
        "x",
        "xx",
        "wx",
        "ow",
        "ax",
    ];
    let mut texts: Vec<String> = STEMS
        .iter()
        .map(|stem| {
            SUFFIXES
                .iter()
                .flat_map(|a| SUFFIXES.iter().map(move |b| format!("{stem}{a}{b} ")))
                .collect()
        })
        .collect();
    let mut random = Lcg(7);
    // Vowels, `y` and a few consonants, so the measure and `*o` conditions vary.
    let letters = b"aeiouyybcdlmnrsstttzwx";
    for _ in 0..200 {
        let text: String = (0..500)
            .map(|_| {
                let length = 1 + random.below(70) as usize;
                let word: String = (0..length)
                    .map(|_| char::from(letters[random.below(letters.len() as u64) as usize]))
                    .collect();
                format!("{word} ")
            })
            .collect();
        texts.push(text);
    }
    let mut conn = fts5().await;
    let compared = compare(&mut conn, texts).await;
    assert!(compared > 300_000, "{compared}");
}

#[tokio::test]
async fn the_projects_prose_and_corpus_tokenize_as_in_fts5() {
    let mut texts = Vec::new();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for path in [
        "README.md",
        "server/benches/README.md",
        "../shared/docs/openai-behaviour.md",
    ] {
        if let Ok(text) = std::fs::read_to_string(root.join(path)) {
            texts.push(text);
        }
    }
    let corpus =
        std::fs::read_to_string(root.join("server/tests/api/support/vector_stores/corpus.rs"))
            .unwrap();
    texts.push(corpus);
    let mut conn = fts5().await;
    let compared = compare(&mut conn, texts).await;
    assert!(compared > 3_000, "{compared}");
}
