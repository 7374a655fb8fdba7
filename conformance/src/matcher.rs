//! Compares a response body with the recorded one, honouring the fixture matchers (`$id:PREFIX`,
//! `$timestamp`, `$integer`, `$number`, `$score`, `$string`, `$regex:`, `$any`, `$absent`,
//! `{$every: ...}`, `${name}`; see fixtures/README.md), and notes what only makes a step NON-STRICT
//! (extra keys, a different key order).

mod special;

use serde_json::Value;

use crate::vars::{whole_placeholder, Vars};

/// How far before the step a `$timestamp` may lie: objects created earlier in a scenario.
const TIMESTAMP_PAST_SECS: i64 = 24 * 60 * 60;
/// How far after the step a `$timestamp` may lie: an active run's `expires_at` (`created_at +
/// 600`) plus clock skew between harness and server.
const TIMESTAMP_FUTURE_SECS: i64 = 15 * 60;
/// Minimum characters after an `$id:` prefix, so a bare prefix is not an id.
const ID_MIN_SUFFIX: usize = 8;

/// The reason of a mismatch for a key the response lacks.
pub const MISSING_KEY: &str = "missing key";

/// One place where the response differs from the recording in a way that fails the step.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Mismatch {
    /// JSON pointer into the response body.
    pub pointer: String,
    /// The expected value or matcher, as written in the fixture (after substitution).
    pub expected: Value,
    /// The actual value, or `null` with `missing` when absent.
    pub actual: Value,
    /// Why it does not match, in words.
    pub reason: String,
}

/// Everything the comparison found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MatchReport {
    /// Differences that fail the step.
    pub mismatches: Vec<Mismatch>,
    /// Pointers of keys present in the response but not in the recording (NON-STRICT).
    pub extra_keys: Vec<String>,
    /// Pointers of objects whose expected keys appear in another order (NON-STRICT).
    pub key_order: Vec<String>,
    /// Variables the expectation references but nobody defined (a harness error, not a mismatch).
    pub unknown_variables: Vec<String>,
}

/// Compares `actual` with `expected` at the root; `now` is the unix time the response arrived.
pub fn match_body(expected: &Value, actual: &Value, vars: &Vars, now: i64) -> MatchReport {
    let mut report = MatchReport::default();
    Matcher {
        vars,
        now,
        report: &mut report,
    }
    .compare("", expected, actual);
    report
}

struct Matcher<'a> {
    vars: &'a Vars,
    now: i64,
    report: &'a mut MatchReport,
}

impl Matcher<'_> {
    fn compare(&mut self, pointer: &str, expected: &Value, actual: &Value) {
        match expected {
            Value::String(text) => self.compare_string(pointer, text, actual),
            Value::Object(map) if map.contains_key(special::EVERY) => {
                self.compare_every(pointer, map, actual)
            }
            Value::Object(map) => match actual.as_object() {
                Some(actual_map) => self.compare_objects(pointer, map, actual_map),
                None => self.mismatch(pointer, expected, actual, "expected an object"),
            },
            Value::Array(items) => match actual.as_array() {
                Some(actual_items) if actual_items.len() == items.len() => {
                    for (index, (want, got)) in items.iter().zip(actual_items).enumerate() {
                        self.compare(&format!("{pointer}/{index}"), want, got);
                    }
                }
                Some(actual_items) => {
                    let reason = format!(
                        "expected {} elements, got {}",
                        items.len(),
                        actual_items.len()
                    );
                    self.mismatch(pointer, expected, actual, &reason)
                }
                None => self.mismatch(pointer, expected, actual, "expected an array"),
            },
            Value::Number(want) => {
                let equal = match actual {
                    Value::Number(got) => want == got || want.as_f64() == got.as_f64(),
                    _ => false,
                };
                if !equal {
                    self.mismatch(pointer, expected, actual, "different value");
                }
            }
            literal => {
                if literal != actual {
                    self.mismatch(pointer, expected, actual, "different value");
                }
            }
        }
    }

    fn compare_objects(
        &mut self,
        pointer: &str,
        expected: &serde_json::Map<String, Value>,
        actual: &serde_json::Map<String, Value>,
    ) {
        for key in actual.keys().filter(|key| !expected.contains_key(*key)) {
            self.report
                .extra_keys
                .push(format!("{pointer}/{}", escape(key)));
        }
        for (key, want) in expected {
            let child = format!("{pointer}/{}", escape(key));
            match actual.get(key) {
                None if want == special::ABSENT => {}
                Some(got) => self.compare(&child, want, got),
                None => self.report.mismatches.push(Mismatch {
                    pointer: child,
                    expected: want.clone(),
                    actual: Value::Null,
                    reason: MISSING_KEY.into(),
                }),
            }
        }
        let expected_order: Vec<&String> = expected
            .keys()
            .filter(|key| actual.contains_key(*key))
            .collect();
        let actual_order: Vec<&String> = actual
            .keys()
            .filter(|key| expected.contains_key(*key))
            .collect();
        if expected_order != actual_order {
            self.report.key_order.push(if pointer.is_empty() {
                "/".into()
            } else {
                pointer.into()
            });
        }
    }

    fn compare_string(&mut self, pointer: &str, text: &str, actual: &Value) {
        let expected = Value::String(text.to_owned());
        if text == "$any" {
            return;
        }
        if text == "$string" {
            if !actual.is_string() {
                self.mismatch(pointer, &expected, actual, "expected a string");
            }
            return;
        }
        if text == "$integer" {
            if actual.as_u64().is_none() {
                self.mismatch(
                    pointer,
                    &expected,
                    actual,
                    "expected a non-negative integer",
                );
            }
            return;
        }
        if let Some(reason) = special::refusal(text, actual) {
            self.mismatch(pointer, &expected, actual, &reason);
            return;
        }
        if special::is_special(text) {
            return;
        }
        if text == "$timestamp" {
            match actual.as_i64() {
                Some(seconds)
                    if (self.now - TIMESTAMP_PAST_SECS..=self.now + TIMESTAMP_FUTURE_SECS)
                        .contains(&seconds) => {}
                Some(_) => self.mismatch(
                    pointer,
                    &expected,
                    actual,
                    "timestamp not within 24 hours before to 15 minutes after the step",
                ),
                None => self.mismatch(
                    pointer,
                    &expected,
                    actual,
                    "expected an integer unix timestamp",
                ),
            }
            return;
        }
        if let Some(prefix) = text.strip_prefix("$id:") {
            if !is_id(prefix, actual) {
                let reason = format!(
                    "expected an id `{prefix}` + at least {ID_MIN_SUFFIX} of [A-Za-z0-9_-]"
                );
                self.mismatch(pointer, &expected, actual, &reason);
            }
            return;
        }
        if whole_placeholder(text).is_some() {
            match self.vars.substitute_string(text) {
                Ok(want) => self.compare(pointer, &want, actual),
                Err(unknown) => self.report.unknown_variables.push(unknown.name),
            }
            return;
        }
        let want = match self.vars.splice(text) {
            Ok(spliced) => spliced,
            Err(unknown) => {
                self.report.unknown_variables.push(unknown.name);
                return;
            }
        };
        match actual.as_str() {
            Some(got) if got == want => {}
            Some(got) => {
                let at = first_difference(&want, got);
                let reason = format!("different string (first difference at character {at})");
                self.mismatch(pointer, &Value::String(want), actual, &reason)
            }
            None => self.mismatch(pointer, &Value::String(want), actual, "expected a string"),
        }
    }

    /// `{"$every": PATTERN, "$min_items": N}`: an array of at least N (default 1) elements,
    /// each matching PATTERN, for lists whose length a model decides (citations, results).
    fn compare_every(
        &mut self,
        pointer: &str,
        expected: &serde_json::Map<String, Value>,
        actual: &Value,
    ) {
        let whole = Value::Object(expected.clone());
        let Some(items) = actual.as_array() else {
            return self.mismatch(pointer, &whole, actual, "expected an array");
        };
        let min_items = special::min_items(expected);
        if (items.len() as u64) < min_items {
            let reason = format!(
                "expected at least {min_items} elements, got {}",
                items.len()
            );
            return self.mismatch(pointer, &whole, actual, &reason);
        }
        for (index, item) in items.iter().enumerate() {
            self.compare(
                &format!("{pointer}/{index}"),
                &expected[special::EVERY],
                item,
            );
        }
    }

    fn mismatch(&mut self, pointer: &str, expected: &Value, actual: &Value, reason: &str) {
        self.report.mismatches.push(Mismatch {
            pointer: if pointer.is_empty() {
                "/".into()
            } else {
                pointer.into()
            },
            expected: expected.clone(),
            actual: actual.clone(),
            reason: reason.into(),
        });
    }
}

fn is_id(prefix: &str, actual: &Value) -> bool {
    let Some(rest) = actual.as_str().and_then(|id| id.strip_prefix(prefix)) else {
        return false;
    };
    rest.len() >= ID_MIN_SUFFIX
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Index (in characters) of the first character where two strings differ.
fn first_difference(a: &str, b: &str) -> usize {
    a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count()
}

/// Escapes a key for a JSON pointer (RFC 6901).
pub fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests;
