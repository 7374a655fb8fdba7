//! The tokenizer on known answers: the examples of Porter's 1980 paper and the start of
//! his published vocabulary with its stems, and unicode61's folding and splitting.

use super::terms;

/// The one term of `word`, as text.
fn stem(word: &str) -> String {
    let found = terms(word);
    assert_eq!(found.len(), 1, "{word}: {found:?}");
    String::from_utf8(found[0].clone()).unwrap()
}

fn texts(text: &str) -> Vec<String> {
    terms(text)
        .into_iter()
        .map(|t| String::from_utf8(t).unwrap())
        .collect()
}

#[test]
fn the_examples_of_porters_paper_stem_as_printed() {
    // "An algorithm for suffix stripping" (1980), steps 1a to 5b, with the departures
    // of Porter's C version that FTS5 follows ("conformabli" -> "conformable" there).
    let examples = [
        ("caresses", "caress"),
        ("ponies", "poni"),
        ("ties", "ti"),
        ("caress", "caress"),
        ("cats", "cat"),
        ("feed", "feed"),
        ("agreed", "agre"),
        ("plastered", "plaster"),
        ("bled", "bled"),
        ("motoring", "motor"),
        ("sing", "sing"),
        ("conflated", "conflat"),
        ("troubled", "troubl"),
        ("sized", "size"),
        ("hopping", "hop"),
        ("tanned", "tan"),
        ("falling", "fall"),
        ("hissing", "hiss"),
        ("fizzed", "fizz"),
        ("failing", "fail"),
        ("filing", "file"),
        ("happy", "happi"),
        ("sky", "sky"),
        ("relational", "relat"),
        ("conditional", "condit"),
        ("rational", "ration"),
        ("valenci", "valenc"),
        ("hesitanci", "hesit"),
        ("digitizer", "digit"),
        ("conformabli", "conform"),
        ("radicalli", "radic"),
        ("differentli", "differ"),
        ("vileli", "vile"),
        ("analogousli", "analog"),
        ("vietnamization", "vietnam"),
        ("predication", "predic"),
        ("operator", "oper"),
        ("feudalism", "feudal"),
        ("decisiveness", "decis"),
        ("hopefulness", "hope"),
        ("callousness", "callous"),
        ("formaliti", "formal"),
        ("sensitiviti", "sensit"),
        ("sensibiliti", "sensibl"),
        ("triplicate", "triplic"),
        ("formative", "form"),
        ("formalize", "formal"),
        ("electriciti", "electr"),
        ("electrical", "electr"),
        ("hopeful", "hope"),
        ("goodness", "good"),
        ("revival", "reviv"),
        ("allowance", "allow"),
        ("inference", "infer"),
        ("airliner", "airlin"),
        ("gyroscopic", "gyroscop"),
        ("adjustable", "adjust"),
        ("defensible", "defens"),
        ("irritant", "irrit"),
        ("replacement", "replac"),
        ("adjustment", "adjust"),
        ("dependent", "depend"),
        ("adoption", "adopt"),
        ("homologou", "homolog"),
        ("communism", "commun"),
        ("activate", "activ"),
        ("angulariti", "angular"),
        ("homologous", "homolog"),
        ("effective", "effect"),
        ("bowdlerize", "bowdler"),
        ("probate", "probat"),
        ("rate", "rate"),
        ("cease", "ceas"),
        ("controll", "control"),
        ("roll", "roll"),
        ("generalizations", "gener"),
        ("oscillators", "oscil"),
    ];
    let wrong: Vec<String> = examples
        .iter()
        .filter(|(word, expected)| stem(word) != *expected)
        .map(|(word, expected)| format!("{word}: {} (paper: {expected})", stem(word)))
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn the_start_of_porters_vocabulary_stems_as_his_output() {
    // The first words of voc.txt and their lines in output.txt, published with the
    // algorithm (the original stemmer, not Porter2).
    let vocabulary = "a aaron abaissiez abandon abandoned abase abash abate abated abatement \
        abatements abates abbess abbey abbeys abbominable abbot abbots abbreviated abed abel \
        aberga abergavenny abet abetting abhominable abhor abhorr abhorred abhorring abhors \
        abhorson abide abides abilities ability";
    let output = "a aaron abaissiez abandon abandon abas abash abat abat abat abat abat abbess \
        abbei abbei abbomin abbot abbot abbrevi ab abel aberga abergavenni abet abet abhomin \
        abhor abhorr abhor abhor abhor abhorson abid abid abil abil";
    assert_eq!(
        texts(vocabulary),
        output.split_whitespace().collect::<Vec<_>>()
    );
}

#[test]
fn tokens_are_folded_split_on_non_alphanumerics_and_lose_simple_diacritics() {
    assert_eq!(
        texts("Don't STOP: café-au-lait, naïve Ünïcödé x2 ½"),
        ["don", "t", "stop", "cafe", "au", "lait", "naiv", "unicod", "x2", "½"]
    );
    // A combining accent continues a token and is dropped; it never starts one.
    assert_eq!(texts("e\u{301}te\u{301} \u{301}a"), ["et", "a"]);
    // Hindi vowel signs are marks, not letters: unicode61 splits there.
    assert_eq!(terms("हिन्दी").len(), 3);
    // Private use characters are token characters; U+FFFF reads as U+FFFD, a symbol.
    assert_eq!(terms("a\u{E000}b").len(), 1);
    assert_eq!(texts("a\u{FFFF}b"), ["a", "b"]);
}

#[test]
fn short_and_long_tokens_pass_through_unstemmed() {
    assert_eq!(texts("is as ties"), ["is", "as", "ti"]);
    let long = "running".repeat(10);
    assert_eq!(texts(&long), [long]);
    // 64 bytes are stemmed, 65 are not.
    let at_limit = format!("{}ing", "walk".repeat(15)).replacen('w', "ww", 1);
    assert_eq!(texts(&at_limit), [format!("w{}", "walk".repeat(15))]);
    let past_limit = format!("{}ings", "walk".repeat(15)).replacen('w', "ww", 1);
    assert_eq!(texts(&past_limit), [past_limit]);
}

#[test]
fn stemming_works_on_bytes_as_fts5_does() {
    // U+2082 SUBSCRIPT TWO is E2 82 82: its last two bytes look like a doubled
    // consonant once "ed" is off, and FTS5 drops the last one.
    assert_eq!(terms("a\u{2082}ed"), [b"a\xE2\x82".to_vec()]);
}
