//! Compares a response body with the recorded one, honouring the fixture matchers (`$id:PREFIX`,
//! `$timestamp`, `$integer`, `$string`, `$any`, `${name}`), and notes what only makes a step NON-STRICT
//! (extra keys, a different key order).

use serde_json::Value;

use crate::vars::{whole_placeholder, Vars};

/// How far before the step a `$timestamp` may lie: objects created earlier in a scenario.
const TIMESTAMP_PAST_SECS: i64 = 24 * 60 * 60;
/// How far after the step a `$timestamp` may lie: an active run's `expires_at` (`created_at +
/// 600`) plus clock skew between harness and server.
const TIMESTAMP_FUTURE_SECS: i64 = 15 * 60;
/// Minimum characters after an `$id:` prefix, so a bare prefix is not an id.
const ID_MIN_SUFFIX: usize = 8;

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
                Some(got) => self.compare(&child, want, got),
                None => self.report.mismatches.push(Mismatch {
                    pointer: child,
                    expected: want.clone(),
                    actual: Value::Null,
                    reason: "missing key".into(),
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
mod tests {
    use super::*;
    use rstest::rstest;
    use serde_json::json;

    const NOW: i64 = 1_761_861_736;

    fn vars() -> Vars {
        let mut vars = Vars::default();
        vars.set("asst", json!("asst_abc12345"));
        vars.set("count", json!(3));
        vars
    }

    fn check(expected: Value, actual: Value) -> MatchReport {
        match_body(&expected, &actual, &vars(), NOW)
    }

    #[rstest]
    #[case(json!("$id:asst_"), json!("asst_lmHh31nj3iu1EBPXnXq16NFe"))]
    #[case(json!("$id:req_"), json!("req_0123456789abcdef"))]
    #[case(json!("$timestamp"), json!(NOW))]
    #[case(json!("$timestamp"), json!(NOW - 3600))]
    #[case(json!("$timestamp"), json!(NOW + 300))]
    #[case(json!("$timestamp"), json!(NOW + 600 + 60))]
    #[case(json!("$string"), json!("anything at all"))]
    #[case(json!("$integer"), json!(0))]
    #[case(json!("$integer"), json!(24165))]
    #[case(json!("$any"), json!(null))]
    #[case(json!("$any"), json!({"deep": [1]}))]
    #[case(json!("${asst}"), json!("asst_abc12345"))]
    #[case(json!("${count}"), json!(3))]
    #[case(json!("No assistant found with id '${asst}'."), json!("No assistant found with id 'asst_abc12345'."))]
    #[case(json!(1), json!(1.0))]
    #[case(json!(1.0), json!(1))]
    #[case(json!(null), json!(null))]
    #[case(json!([1, "$string"]), json!([1, "x"]))]
    #[case(json!({"a": {"b": "$id:msg_"}}), json!({"a": {"b": "msg_ABCDEFGHijkl"}}))]
    fn matching_values_pass(#[case] expected: Value, #[case] actual: Value) {
        assert_eq!(check(expected, actual), MatchReport::default());
    }

    #[rstest]
    #[case(json!("$id:asst_"), json!("thread_abcdefghijkl"), "/")]
    #[case(json!("$id:asst_"), json!("asst_short"), "/")]
    #[case(json!("$id:asst_"), json!("asst_has spaces in it"), "/")]
    #[case(json!("$id:asst_"), json!(12), "/")]
    #[case(json!("$timestamp"), json!(NOW - 2 * 86_400), "/")]
    #[case(json!("$timestamp"), json!(NOW + 3600), "/")]
    #[case(json!("$timestamp"), json!(1.5), "/")]
    #[case(json!("$timestamp"), json!("1761861736"), "/")]
    #[case(json!("$string"), json!(null), "/")]
    #[case(json!("$integer"), json!(-1), "/")]
    #[case(json!("$integer"), json!(1.5), "/")]
    #[case(json!("$integer"), json!("3"), "/")]
    #[case(json!("${asst}"), json!("asst_other999"), "/")]
    #[case(json!({"a": 1}), json!({"a": 2}), "/a")]
    #[case(json!({"a": "$any"}), json!({}), "/a")]
    #[case(json!({"a/b": {"c~d": true}}), json!({"a/b": {"c~d": false}}), "/a~1b/c~0d")]
    #[case(json!([1, 2]), json!([1]), "/")]
    #[case(json!({"l": [{"x": 1}]}), json!({"l": [{"x": 0}]}), "/l/0/x")]
    #[case(json!({"o": {}}), json!({"o": []}), "/o")]
    #[case(json!("assistant"), json!("thread"), "/")]
    fn mismatches_name_their_pointer(
        #[case] expected: Value,
        #[case] actual: Value,
        #[case] pointer: &str,
    ) {
        let report = check(expected, actual);
        assert_eq!(report.mismatches.len(), 1, "{report:?}");
        assert_eq!(report.mismatches[0].pointer, pointer);
    }

    #[test]
    fn extra_keys_and_order_are_noted_not_failed() {
        let report = check(
            json!({"id": "$id:asst_", "object": "assistant", "nested": {"a": 1, "b": 2}}),
            json!({"object": "assistant", "id": "asst_abcdefghij", "extra": 1, "nested": {"a": 1, "b": 2, "c": 3}}),
        );
        assert!(report.mismatches.is_empty());
        assert_eq!(report.extra_keys, vec!["/extra", "/nested/c"]);
        assert_eq!(report.key_order, vec!["/"]);
    }

    #[rstest]
    #[case(json!("${ghost}"))]
    #[case(json!({"m": "id '${ghost}'"}))]
    fn unknown_variables_are_reported_apart_from_mismatches(#[case] expected: Value) {
        let report = check(expected, json!({"m": "x"}));
        assert_eq!(report.unknown_variables, vec!["ghost"]);
        assert!(report.mismatches.is_empty());
    }

    #[test]
    fn mismatch_records_expected_and_actual() {
        let report = check(json!({"name": "x"}), json!({"name": null}));
        assert_eq!(
            report.mismatches,
            vec![Mismatch {
                pointer: "/name".into(),
                expected: json!("x"),
                actual: json!(null),
                reason: "expected a string".into()
            }]
        );
        let report = check(
            json!({"m": "No assistant '${asst}'."}),
            json!({"m": "No assistant 'asst_x'."}),
        );
        assert_eq!(
            report.mismatches[0].expected,
            json!("No assistant 'asst_abc12345'.")
        );
        assert_eq!(
            report.mismatches[0].reason,
            "different string (first difference at character 19)"
        );
    }
}
