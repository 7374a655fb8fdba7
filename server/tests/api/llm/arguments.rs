//! Synthesised JSON values for function parameters and `json_schema` formats: each
//! schema feature the offline model honours, with the exact value it must produce, and
//! the budget that bounds generation whatever the schema.

use rstest::rstest;
use serde_json::{json, Value};
use server::llm::offline::arguments::{
    arguments_for, arguments_within, synthesise, value_for, DEFAULT_MAX_BYTES,
};

#[rstest]
#[case::required_only(
json!({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "required": ["b"]}),
json!({"b": ""}))]
#[case::default_wins(json!({"type": "string", "default": "metric", "enum": ["imperial", "metric"]}), json!("metric"))]
#[case::first_enum(json!({"type": "string", "enum": ["celsius", "fahrenheit"]}), json!("celsius"))]
#[case::enum_without_type(json!({"enum": [3, 5]}), json!(3))]
#[case::constant(json!({"const": "fixed"}), json!("fixed"))]
#[case::integer(json!({"type": "integer"}), json!(0))]
#[case::integer_minimum(json!({"type": "integer", "minimum": 18}), json!(18))]
#[case::integer_exclusive_minimum(json!({"type": "integer", "exclusiveMinimum": 0}), json!(1))]
#[case::integer_negative_maximum(json!({"type": "integer", "maximum": -4}), json!(-4))]
#[case::integer_multiple(json!({"type": "integer", "minimum": 7, "multipleOf": 5}), json!(10))]
#[case::number(json!({"type": "number"}), json!(0))]
#[case::number_minimum(json!({"type": "number", "minimum": 0.5}), json!(0.5))]
#[case::boolean(json!({"type": "boolean"}), json!(false))]
#[case::null(json!({"type": "null"}), json!(null))]
#[case::nullable_list(json!({"type": ["null", "integer"]}), json!(0))]
#[case::string_min_length(json!({"type": "string", "minLength": 2}), json!("aa"))]
#[case::date_time(json!({"type": "string", "format": "date-time"}), json!("1970-01-01T00:00:00Z"))]
#[case::email(json!({"type": "string", "format": "email"}), json!("user@example.com"))]
#[case::empty_array(json!({"type": "array", "items": {"type": "integer"}}), json!([]))]
#[case::min_items(json!({"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 2}), json!([1, 1]))]
#[case::unique_enum_items(
json!({"type": "array", "items": {"enum": ["a", "b", "c"]}, "minItems": 2, "uniqueItems": true}),
json!(["a", "b"]))]
#[case::nested(
json!({"type": "object", "required": ["address"], "properties": {"address": {"type": "object",
    "required": ["city", "zip"], "properties": {"city": {"type": "string"}, "zip": {"type": "integer"}}}}}),
json!({"address": {"city": "", "zip": 0}}))]
#[case::any_of_first(json!({"anyOf": [{"type": "integer"}, {"type": "string"}]}), json!(0))]
#[case::all_of_merged(
json!({"allOf": [{"type": "object", "required": ["a"], "properties": {"a": {"type": "integer"}}},
                 {"type": "object", "required": ["b"], "properties": {"b": {"type": "boolean"}}}]}),
json!({"a": 0, "b": false}))]
#[case::ref_to_defs(
json!({"type": "object", "required": ["p"], "properties": {"p": {"$ref": "#/$defs/point"}},
       "$defs": {"point": {"type": "object", "required": ["x"], "properties": {"x": {"type": "number"}}}}}),
json!({"p": {"x": 0}}))]
#[case::untyped_properties(json!({"properties": {"n": {"type": "integer"}}, "required": ["n"]}), json!({"n": 0}))]
#[case::min_properties(
json!({"type": "object", "properties": {"x": {"type": "boolean"}}, "minProperties": 1}),
json!({"x": false}))]
#[case::required_without_property_schema(json!({"type": "object", "required": ["free"]}), json!({"free": {}}))]
fn values_follow_the_schema(#[case] schema: Value, #[case] expected: Value) {
    assert_eq!(value_for(&schema), expected);
}

#[test]
fn recursive_schemas_terminate() {
    let schema =
        json!({"type": "object", "required": ["next"], "properties": {"next": {"$ref": "#"}}});
    let value = value_for(&schema);
    let mut depth = 0;
    let mut cursor = &value;
    while let Some(next) = cursor.get("next") {
        depth += 1;
        cursor = next;
    }
    assert!(depth > 5 && depth < 100, "{depth}");
}

#[rstest]
#[case::missing(None, json!({}))]
#[case::empty(Some(json!({})), json!({}))]
#[case::not_an_object_schema(Some(json!({"type": "string"})), json!({}))]
#[case::real(Some(json!({"type": "object", "properties": {"city_name": {"type": "string"}}, "required": ["city_name"]})),
         json!({"city_name": ""}))]
fn function_arguments_are_always_an_object(#[case] schema: Option<Value>, #[case] expected: Value) {
    assert_eq!(arguments_for(schema.as_ref()), expected);
}

/// 64 x 64 x 64 strings of 4 characters: about 1.6 MB when complete.
fn three_wide_levels() -> Value {
    let mut schema = json!({"type": "string", "minLength": 4});
    for _ in 0..3 {
        schema = json!({"type": "array", "minItems": 64, "items": schema});
    }
    schema
}

#[test]
fn generation_stops_at_the_byte_budget() {
    let synthesised = synthesise(&three_wide_levels(), 10_000);
    assert!(synthesised.cut);
    assert!(synthesised.bytes <= 10_000, "{}", synthesised.bytes);
    let (text, cut) = synthesised.into_text();
    assert!(cut);
    assert!(text.len() <= 10_000 && text.len() > 9_000, "{}", text.len());
    assert!(text.starts_with(r#"[[["aaaa","aaaa","#), "{}", &text[..20]);
    assert!(!text.ends_with("]]]"), "a cut answer is unfinished JSON");
}

#[test]
fn values_within_the_budget_are_complete_and_exact() {
    let schema =
        json!({"type": "array", "minItems": 3, "items": {"type": "string", "minLength": 2}});
    let synthesised = synthesise(&schema, 16);
    assert!(!synthesised.cut);
    assert_eq!(synthesised.bytes, r#"["aa","aa","aa"]"#.len());
    assert_eq!(
        synthesised.into_text(),
        (r#"["aa","aa","aa"]"#.to_owned(), false)
    );
    let (text, cut) = synthesise(&schema, 15).into_text();
    assert!(cut);
    assert_eq!(text, r#"["aa","aa","aa""#);
}

#[test]
fn the_issues_self_multiplying_arguments_stay_bounded() {
    let schema = json!({"type": "object", "properties": {"a": {"type": "array",
        "minItems": 64, "items": {"$ref": "#"}}}, "required": ["a"]});
    let synthesised = arguments_within(Some(&schema), DEFAULT_MAX_BYTES);
    assert!(synthesised.cut);
    let (text, _) = synthesised.into_text();
    assert!(text.len() <= DEFAULT_MAX_BYTES);
    assert!(text.starts_with(r#"{"a":[{"a":[{"a":["#));
    // The convenience form is bounded by the same default budget.
    assert!(arguments_for(Some(&schema)).to_string().len() < 2 * DEFAULT_MAX_BYTES);
}

#[test]
fn all_of_fan_out_stops_at_the_budget() {
    // Each level visits the root three more times, up to the depth limit: about
    // 3^12 merged values without a budget.
    let schema = json!({"allOf": [{"$ref": "#"}, {"$ref": "#"}, {"$ref": "#"}]});
    let synthesised = synthesise(&schema, 1_000);
    assert!(synthesised.cut);
    assert!(synthesised.bytes <= 1_000);
}
