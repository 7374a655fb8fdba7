//! The matchers against values they must accept and values they must refuse.

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

#[rstest]
#[case(json!("$number"), json!(0.75))]
#[case(json!("$number"), json!(-3))]
#[case(json!("$score"), json!(0.0))]
#[case(json!("$score"), json!(1))]
#[case(json!("$score"), json!(0.6800102176172463))]
#[case(json!("$regex:^【\\d+:\\d+†foods\\.txt】$"), json!("【4:0†foods.txt】"))]
#[case(json!({"results": "$absent", "a": 1}), json!({"a": 1}))]
#[case(json!({"$every": {"file_id": "x"}}), json!([{"file_id": "x"}, {"file_id": "x", "n": 1}]))]
#[case(json!({"$every": "$string", "$min_items": 0}), json!([]))]
#[case(json!({"$every": "$integer", "$min_items": 2}), json!([1, 2, 3]))]
fn special_matchers_accept(#[case] expected: Value, #[case] actual: Value) {
    let report = check(expected, actual);
    assert!(report.mismatches.is_empty(), "{report:?}");
}

#[rstest]
#[case(json!("$number"), json!("0.5"), "/", "expected a number")]
#[case(json!("$score"), json!(1.01), "/", "from 0 to 1")]
#[case(json!("$score"), json!(-0.1), "/", "from 0 to 1")]
#[case(json!("$regex:^【\\d+:\\d+†a】$"), json!("【x:0†a】"), "/", "matching")]
#[case(json!("$regex:("), json!("x"), "/", "invalid")]
#[case(json!({"results": "$absent"}), json!({"results": []}), "/results", "absent")]
#[case(json!({"$every": "$string"}), json!([]), "/", "at least 1")]
#[case(json!({"$every": "$string"}), json!({"a": "b"}), "/", "expected an array")]
#[case(json!({"l": {"$every": {"id": "x"}}}), json!({"l": [{"id": "x"}, {"id": "y"}]}), "/l/1/id", "different")]
fn special_matchers_refuse(
    #[case] expected: Value,
    #[case] actual: Value,
    #[case] pointer: &str,
    #[case] reason: &str,
) {
    let report = check(expected, actual);
    assert_eq!(report.mismatches.len(), 1, "{report:?}");
    assert_eq!(report.mismatches[0].pointer, pointer);
    assert!(report.mismatches[0].reason.contains(reason), "{report:?}");
}
