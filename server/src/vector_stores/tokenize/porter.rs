//! The Porter stemmer of FTS5's `porter` tokenizer (`fts5_porter.c`), ported step by
//! step: Martin Porter's original algorithm (not Porter2/Snowball English) with the
//! departures of his own C version (`bli` -> `ble`, `logi` -> `log`). It works on bytes:
//! only ASCII vowels count as vowels, any other byte (of a multi-byte character too) as
//! a consonant, and tokens under 3 or over 64 bytes pass through unstemmed.

/// Tokens longer than this many bytes are not stemmed (`FTS5_PORTER_MAX_TOKEN`).
const MAX_STEMMED: usize = 64;

/// `token` stemmed as FTS5's porter tokenizer stems it.
pub(super) fn stem(token: Vec<u8>) -> Vec<u8> {
    if token.len() < 3 || token.len() > MAX_STEMMED {
        return token;
    }
    let mut word = Word(token);
    word.step_1a();
    if word.step_1b() && !word.step_1b2() {
        let c = word.at(-1);
        if !is_vowel(c, false) && c != b'l' && c != b's' && c != b'z' && c == word.at(-2) {
            word.0.pop();
        } else if m_eq_1(&word.0) && o_star(&word.0) {
            word.0.push(b'e');
        }
    }
    // Step 1c.
    let n = word.0.len();
    if word.at(-1) == b'y' && has_vowel(&word.0[..n - 1]) {
        word.0[n - 1] = b'i';
    }
    word.step_2();
    word.step_3();
    word.step_4();
    // Step 5a.
    let n = word.0.len();
    if word.at(-1) == b'e' {
        let stem = &word.0[..n - 1];
        if m_gt_1(stem) || (m_eq_1(stem) && !o_star(stem)) {
            word.0.pop();
        }
    }
    // Step 5b.
    let n = word.0.len();
    if n > 1 && word.at(-1) == b'l' && word.at(-2) == b'l' && m_gt_1(&word.0[..n - 1]) {
        word.0.pop();
    }
    word.0
}

/// What a rule requires of the stem left once its suffix is off.
#[derive(Clone, Copy)]
enum Condition {
    /// `(m > 0)`.
    MGt0,
    /// `(m > 1)`.
    MGt1,
    /// `(m > 1 and (*S or *T))`.
    MGt1AndSOrT,
    /// `(*v*)`.
    Vowel,
}

impl Condition {
    fn holds(self, stem: &[u8]) -> bool {
        match self {
            Condition::MGt0 => gobble_vc(stem, false).is_some(),
            Condition::MGt1 => m_gt_1(stem),
            Condition::MGt1AndSOrT => matches!(stem.last(), Some(b's' | b't')) && m_gt_1(stem),
            Condition::Vowel => has_vowel(stem),
        }
    }
}

/// One rule: suffix, condition, replacement.
type Rule = (&'static [u8], Condition, &'static [u8]);

/// The word being stemmed.
struct Word(Vec<u8>);

impl Word {
    /// The byte `from_end` from the end (-1 the last); 0 before the start, as FTS5 reads
    /// there the zero high byte of the pointer that precedes its buffer.
    fn at(&self, from_end: isize) -> u8 {
        let index = self.0.len() as isize + from_end;
        usize::try_from(index)
            .ok()
            .and_then(|i| self.0.get(i).copied())
            .unwrap_or(0)
    }

    /// Applies the first rule of `rules` whose suffix the word ends with (FTS5 picks the
    /// candidates by the next-to-last byte, then tries them in order and stops at the
    /// first suffix that matches, whether its condition holds or not); whether it did.
    fn apply(&mut self, rules: &[Rule]) -> bool {
        let n = self.0.len();
        for (suffix, condition, replacement) in rules {
            // FTS5 wants the word strictly longer than the suffix.
            if n > suffix.len() && self.0.ends_with(suffix) {
                let stem = n - suffix.len();
                if condition.holds(&self.0[..stem]) {
                    self.0.truncate(stem);
                    self.0.extend_from_slice(replacement);
                    return true;
                }
                return false;
            }
        }
        false
    }

    fn step_1a(&mut self) {
        let n = self.0.len();
        if self.at(-1) == b's' {
            if self.at(-2) == b'e' {
                if (n > 4 && self.at(-4) == b's' && self.at(-3) == b's')
                    || (n > 3 && self.at(-3) == b'i')
                {
                    self.0.truncate(n - 2);
                } else {
                    self.0.truncate(n - 1);
                }
            } else if self.at(-2) != b's' {
                self.0.truncate(n - 1);
            }
        }
    }

    /// `eed`, `ed`, `ing`: true when `ed` or `ing` came off (step 1b2 follows).
    fn step_1b(&mut self) -> bool {
        use Condition::{MGt0, Vowel};
        match self.at(-2) {
            b'e' => {
                let n = self.0.len();
                if n > 3 && self.0.ends_with(b"eed") {
                    if MGt0.holds(&self.0[..n - 3]) {
                        self.0.truncate(n - 1);
                    }
                    false
                } else {
                    self.apply(&[(b"ed", Vowel, b"")])
                }
            }
            b'n' => self.apply(&[(b"ing", Vowel, b"")]),
            _ => false,
        }
    }

    /// `at`, `bl`, `iz` gain an `e` (no condition); whether one did.
    fn step_1b2(&mut self) -> bool {
        let (suffix, replacement): (&[u8], &[u8]) = match self.at(-2) {
            b'a' => (b"at", b"ate"),
            b'b' => (b"bl", b"ble"),
            b'i' => (b"iz", b"ize"),
            _ => return false,
        };
        let n = self.0.len();
        if n > suffix.len() && self.0.ends_with(suffix) {
            self.0.truncate(n - suffix.len());
            self.0.extend_from_slice(replacement);
            return true;
        }
        false
    }

    fn step_2(&mut self) {
        use Condition::MGt0;
        let rules: &[Rule] = match self.at(-2) {
            b'a' => &[(b"ational", MGt0, b"ate"), (b"tional", MGt0, b"tion")],
            b'c' => &[(b"enci", MGt0, b"ence"), (b"anci", MGt0, b"ance")],
            b'e' => &[(b"izer", MGt0, b"ize")],
            b'g' => &[(b"logi", MGt0, b"log")],
            b'l' => &[
                (b"bli", MGt0, b"ble"),
                (b"alli", MGt0, b"al"),
                (b"entli", MGt0, b"ent"),
                (b"eli", MGt0, b"e"),
                (b"ousli", MGt0, b"ous"),
            ],
            b'o' => &[
                (b"ization", MGt0, b"ize"),
                (b"ation", MGt0, b"ate"),
                (b"ator", MGt0, b"ate"),
            ],
            b's' => &[
                (b"alism", MGt0, b"al"),
                (b"iveness", MGt0, b"ive"),
                (b"fulness", MGt0, b"ful"),
                (b"ousness", MGt0, b"ous"),
            ],
            b't' => &[
                (b"aliti", MGt0, b"al"),
                (b"iviti", MGt0, b"ive"),
                (b"biliti", MGt0, b"ble"),
            ],
            _ => return,
        };
        self.apply(rules);
    }

    fn step_3(&mut self) {
        use Condition::MGt0;
        let rules: &[Rule] = match self.at(-2) {
            b'a' => &[(b"ical", MGt0, b"ic")],
            b's' => &[(b"ness", MGt0, b"")],
            b't' => &[(b"icate", MGt0, b"ic"), (b"iciti", MGt0, b"ic")],
            b'u' => &[(b"ful", MGt0, b"")],
            b'v' => &[(b"ative", MGt0, b"")],
            b'z' => &[(b"alize", MGt0, b"al")],
            _ => return,
        };
        self.apply(rules);
    }

    fn step_4(&mut self) {
        use Condition::{MGt1, MGt1AndSOrT};
        let rules: &[Rule] = match self.at(-2) {
            b'a' => &[(b"al", MGt1, b"")],
            b'c' => &[(b"ance", MGt1, b""), (b"ence", MGt1, b"")],
            b'e' => &[(b"er", MGt1, b"")],
            b'i' => &[(b"ic", MGt1, b"")],
            b'l' => &[(b"able", MGt1, b""), (b"ible", MGt1, b"")],
            b'n' => &[
                (b"ant", MGt1, b""),
                (b"ement", MGt1, b""),
                (b"ment", MGt1, b""),
                (b"ent", MGt1, b""),
            ],
            b'o' => &[(b"ion", MGt1AndSOrT, b""), (b"ou", MGt1, b"")],
            b's' => &[(b"ism", MGt1, b"")],
            b't' => &[(b"ate", MGt1, b""), (b"iti", MGt1, b"")],
            b'u' => &[(b"ous", MGt1, b"")],
            b'v' => &[(b"ive", MGt1, b"")],
            b'z' => &[(b"ize", MGt1, b"")],
            _ => return,
        };
        self.apply(rules);
    }
}

/// Whether `c` is a vowel: `a e i o u`, and `y` after a consonant.
fn is_vowel(c: u8, y_is_vowel: bool) -> bool {
    matches!(c, b'a' | b'e' | b'i' | b'o' | b'u') || (y_is_vowel && c == b'y')
}

/// Past the first vowel-consonant sequence of `stem` (`fts5PorterGobbleVC`): the length
/// it takes, or `None` when there is none.
fn gobble_vc(stem: &[u8], previous_consonant: bool) -> Option<usize> {
    let mut consonant = previous_consonant;
    let mut i = 0;
    while i < stem.len() {
        consonant = !is_vowel(stem[i], consonant);
        if !consonant {
            break;
        }
        i += 1;
    }
    i += 1;
    while i < stem.len() {
        consonant = !is_vowel(stem[i], consonant);
        if consonant {
            return Some(i + 1);
        }
        i += 1;
    }
    None
}

/// `(m > 1)`.
fn m_gt_1(stem: &[u8]) -> bool {
    gobble_vc(stem, false).is_some_and(|n| gobble_vc(&stem[n..], true).is_some())
}

/// `(m = 1)`.
fn m_eq_1(stem: &[u8]) -> bool {
    gobble_vc(stem, false).is_some_and(|n| gobble_vc(&stem[n..], true).is_none())
}

/// `(*o)`: the stem ends consonant-vowel-consonant, the last not `w`, `x` or `y`.
fn o_star(stem: &[u8]) -> bool {
    if matches!(stem.last(), Some(b'w' | b'x' | b'y')) {
        return false;
    }
    let mut mask = 0u32;
    let mut consonant = false;
    for c in stem {
        consonant = !is_vowel(*c, consonant);
        mask = (mask << 1) + u32::from(consonant);
    }
    mask & 0x7 == 0x5
}

/// `(*v*)`: the stem holds a vowel (`y` counts after its first byte).
fn has_vowel(stem: &[u8]) -> bool {
    stem.iter().enumerate().any(|(i, c)| is_vowel(*c, i > 0))
}
