//! The matchers for values a model or an implementation decides, where only the kind of value is
//! known: numbers and relevance scores, strings of a given form (`$regex:`), keys that must not be
//! there (`$absent`, e.g. `results` without `include[]`) and lists of any length (`$every`).

use regex::Regex;
use serde_json::{Map, Value};

/// The key of the list matcher `{"$every": PATTERN, "$min_items": N}`.
pub(super) const EVERY: &str = "$every";
/// The optional least length of a `$every` list (default 1: a list that may be empty says so).
pub(super) const MIN_ITEMS: &str = "$min_items";
/// The value that requires its key to be missing.
pub(super) const ABSENT: &str = "$absent";

/// Whether `text` is one of this module's string matchers.
pub(super) fn is_special(text: &str) -> bool {
    matches!(text, "$number" | "$score" | ABSENT) || text.starts_with("$regex:")
}

/// Why `actual` does not match the string matcher `text`; `None` when it does or when `text` is
/// not one of this module's matchers.
pub(super) fn refusal(text: &str, actual: &Value) -> Option<String> {
    match text {
        "$number" => (!actual.is_number()).then(|| "expected a number".into()),
        "$score" => match actual.as_f64() {
            Some(score) if (0.0..=1.0).contains(&score) => None,
            _ => Some("expected a relevance score, a number from 0 to 1".into()),
        },
        // Reached only when the key is present: a missing one never gets compared.
        ABSENT => Some("expected the key to be absent".into()),
        _ => {
            let pattern = text.strip_prefix("$regex:")?;
            match (Regex::new(pattern), actual.as_str()) {
                (Err(error), _) => Some(format!("the fixture's regex is invalid: {error}")),
                (Ok(_), None) => Some("expected a string".into()),
                (Ok(regex), Some(got)) if !regex.is_match(got) => {
                    Some(format!("expected a string matching /{pattern}/"))
                }
                _ => None,
            }
        }
    }
}

/// The least length a `$every` list accepts.
pub(super) fn min_items(matcher: &Map<String, Value>) -> u64 {
    matcher.get(MIN_ITEMS).and_then(Value::as_u64).unwrap_or(1)
}
