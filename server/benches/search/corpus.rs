//! The synthetic corpus: a seeded generator, a Zipf-distributed vocabulary (English
//! function words at the head, made-up content words after them) and the files and
//! vector stores the chunks belong to. Everything follows from the seed, so two runs
//! index the same text and ask the same questions.

/// Word types in the vocabulary. Real prose of tens of millions of tokens has more,
/// but the tail beyond this adds only singletons that no query hits.
pub(crate) const VOCABULARY: usize = 50_000;
/// Zipf's exponent: word `r` (1-based) is drawn with weight `1 / r^ZIPF_S`.
const ZIPF_S: f64 = 1.0;
/// Share of a file's words drawn from its own topic words (burstiness: a topic word
/// is frequent in few files, as names and terms are in real documents).
const TOPIC_SHARE: f64 = 0.08;
/// Topic words per file, drawn from the mid-frequency ranks.
const TOPIC_WORDS: usize = 12;
/// Ranks topic words come from.
const TOPIC_RANKS: std::ops::Range<usize> = 300..20_000;

/// The most frequent English words, in order: the head of the distribution, so
/// common query words (`the`, `of`, `what`) match nearly every chunk as they do in
/// real text.
const FUNCTION_WORDS: &[&str] = &[
    "the", "of", "and", "to", "a", "in", "is", "that", "for", "it", "as", "was", "with", "be",
    "by", "on", "not", "he", "this", "are", "or", "his", "from", "at", "which", "but", "have",
    "an", "had", "they", "you", "were", "their", "one", "all", "we", "can", "her", "has", "there",
    "been", "if", "more", "when", "will", "would", "who", "so", "no", "what", "about", "into",
    "than", "them", "its", "some", "could", "time", "these", "two", "may", "then", "do", "first",
    "any", "my", "now", "such", "like", "our", "over", "man", "me", "even", "most", "made",
    "after", "also", "did", "many", "before", "must", "through", "back", "years", "where", "much",
    "your", "way", "well", "down", "should", "because", "each", "just", "those", "people", "how",
    "too", "little", "state", "good", "very", "make", "world", "still", "own", "see", "men",
    "work", "long", "get", "here", "between", "both", "life", "being", "under", "never", "day",
    "same", "another", "know",
];

/// Syllables the made-up words are spelled with (English-like letter patterns, so
/// the porter stemmer and the tokenizer treat them roughly as they treat real words).
const SYLLABLES: &[&str] = &[
    "ka", "ter", "mon", "ri", "sal", "ven", "do", "lin", "pra", "cor", "mes", "tu", "bel", "nor",
    "si", "gan", "pel", "ro", "dex", "fa", "lum", "qui", "ston", "ber", "ta", "vor", "mi", "plen",
    "hal", "zu", "cra", "den", "ol", "var", "pi", "ex",
];

/// SplitMix64: a tiny, fully specified generator, so the corpus does not depend on
/// a crate's choice of algorithm.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `range`.
    pub(crate) fn below(&mut self, range: std::ops::Range<usize>) -> usize {
        range.start + (self.next_u64() % (range.end - range.start) as u64) as usize
    }
}

/// The words by rank (0 = most frequent) and the cumulative Zipf weights to draw them.
pub(crate) struct Vocabulary {
    words: Vec<String>,
    cumulative: Vec<f64>,
}

impl Vocabulary {
    /// The fixed vocabulary of [`VOCABULARY`] words.
    pub(crate) fn new() -> Self {
        let mut words: Vec<String> = FUNCTION_WORDS.iter().map(|w| (*w).to_owned()).collect();
        // Syllables are not prefix-free, so two spellings can coincide: keep the first.
        let mut seen: std::collections::HashSet<String> = words.iter().cloned().collect();
        let mut index = 0usize;
        while words.len() < VOCABULARY {
            let word = made_up_word(index);
            if seen.insert(word.clone()) {
                words.push(word);
            }
            index += 1;
        }
        let mut total = 0.0;
        let cumulative = (1..=VOCABULARY)
            .map(|rank| {
                total += 1.0 / (rank as f64).powf(ZIPF_S);
                total
            })
            .collect();
        Self { words, cumulative }
    }

    /// The word of `rank` (0 = most frequent).
    pub(crate) fn word(&self, rank: usize) -> &str {
        &self.words[rank]
    }

    /// A rank drawn from the Zipf distribution.
    pub(crate) fn draw(&self, rng: &mut Rng) -> usize {
        let target = rng.unit() * self.cumulative[VOCABULARY - 1];
        self.cumulative
            .partition_point(|&weight| weight <= target)
            .min(VOCABULARY - 1)
    }
}

/// Made-up word number `index`: two to four syllables spelling `index` in base 36,
/// least significant first.
fn made_up_word(index: usize) -> String {
    let base = SYLLABLES.len();
    let mut word = String::new();
    let mut rest = index + base; // at least two syllables
    while rest > 0 {
        word.push_str(SYLLABLES[rest % base]);
        rest /= base;
    }
    word
}

/// A file's text: `words` words of Zipf prose with its topic words mixed in, cut
/// into sentences.
pub(crate) fn file_text<'v>(
    vocabulary: &'v Vocabulary,
    rng: &mut Rng,
    words: usize,
) -> Vec<&'v str> {
    let topic: Vec<usize> = (0..TOPIC_WORDS).map(|_| rng.below(TOPIC_RANKS)).collect();
    (0..words)
        .map(|_| {
            let rank = if rng.unit() < TOPIC_SHARE {
                topic[rng.below(0..TOPIC_WORDS)]
            } else {
                vocabulary.draw(rng)
            };
            vocabulary.word(rank)
        })
        .collect()
}

/// Joins words into sentences of 8 to 23 words, so chunks look like prose.
pub(crate) fn prose(words: &[&str], rng: &mut Rng) -> String {
    let mut text = String::with_capacity(words.len() * 8);
    let mut sentence_left = 0;
    for word in words {
        if sentence_left == 0 {
            if !text.is_empty() {
                text.push_str(". ");
            }
            sentence_left = rng.below(8..24);
        } else {
            text.push(' ');
        }
        text.push_str(word);
        sentence_left -= 1;
    }
    text.push('.');
    text
}
