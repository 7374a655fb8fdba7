//! Each form of OpenAPI 3.0 nullability and each draft 4 bound, before and after normalisation.

use rstest::rstest;
use serde_json::{json, Value};

use super::*;

fn normalised(mut schema: Value) -> Value {
    normalise_document(&mut schema);
    schema
}

#[rstest]
#[case::beside_type(
    json!({"type": "integer", "nullable": true, "description": "when"}),
    json!({"type": ["integer", "null"], "description": "when"})
)]
#[case::beside_type_with_enum(
    json!({"type": "string", "enum": ["auto"], "nullable": true}),
    json!({"type": ["string", "null"], "enum": ["auto", null]})
)]
#[case::beside_ref(
    json!({"$ref": "#/components/schemas/X", "nullable": true, "description": "d"}),
    json!({"description": "d", "anyOf": [{"type": "null"}, {"$ref": "#/components/schemas/X"}]})
)]
#[case::beside_any_of(
    json!({"anyOf": [{"type": "string"}, {"type": "integer"}], "nullable": true}),
    json!({"anyOf": [{"type": "null"}, {"anyOf": [{"type": "string"}, {"type": "integer"}]}]})
)]
#[case::all_of_member(
    json!({"allOf": [{"$ref": "#/components/schemas/T"}, {"nullable": true}]}),
    json!({"anyOf": [{"type": "null"}, {"allOf": [{"$ref": "#/components/schemas/T"}]}]})
)]
#[case::all_of_member_with_description(
    json!({"allOf": [{"$ref": "#/components/schemas/T"}, {"nullable": true, "description": "d"}]}),
    json!({"anyOf": [{"type": "null"}, {"allOf": [{"$ref": "#/components/schemas/T"}]}]})
)]
#[case::alone_means_anything(
    json!({"nullable": true, "description": "any"}),
    json!({"description": "any", "anyOf": [{"type": "null"}, {}]})
)]
#[case::false_is_dropped(json!({"type": "string", "nullable": false}), json!({"type": "string"}))]
#[case::already_null(json!({"type": ["string", "null"], "nullable": true}), json!({"type": ["string", "null"]}))]
#[case::exclusive_minimum_true(
    json!({"type": "number", "minimum": 0, "exclusiveMinimum": true}),
    json!({"type": "number", "exclusiveMinimum": 0})
)]
#[case::exclusive_maximum_false(
    json!({"type": "number", "maximum": 2, "exclusiveMaximum": false}),
    json!({"type": "number", "maximum": 2})
)]
#[case::numeric_exclusive_is_kept(
    json!({"type": "number", "exclusiveMinimum": 0}),
    json!({"type": "number", "exclusiveMinimum": 0})
)]
#[case::repeated_required_names(
    json!({"type": "object", "required": ["id", "name", "id"]}),
    json!({"type": "object", "required": ["id", "name"]})
)]
#[case::a_property_named_nullable_is_not_the_keyword(
    json!({"type": "object", "properties": {"nullable": {"type": "boolean"}}}),
    json!({"type": "object", "properties": {"nullable": {"type": "boolean"}}})
)]
fn each_form_is_rewritten(#[case] input: Value, #[case] expected: Value) {
    assert_eq!(normalised(input), expected);
}

#[test]
fn nested_nullable_properties_are_rewritten_inside_objects() {
    let schema = normalised(json!({
        "type": "object",
        "nullable": true,
        "properties": {"at": {"type": "integer", "nullable": true}},
        "required": ["at"]
    }));
    insta::assert_json_snapshot!(schema, @r###"
    {
      "properties": {
        "at": {
          "type": [
            "integer",
            "null"
          ]
        }
      },
      "required": [
        "at"
      ],
      "type": [
        "object",
        "null"
      ]
    }
    "###);
}

#[rstest]
#[case(json!({"type": "integer", "nullable": true}))]
#[case(json!({"$ref": "#/$defs/T", "nullable": true}))]
#[case(json!({"allOf": [{"$ref": "#/$defs/T"}, {"nullable": true}]}))]
#[case(json!({"oneOf": [{"$ref": "#/$defs/T"}], "nullable": true}))]
fn every_form_then_accepts_null_and_still_rejects_wrong_types(#[case] schema: Value) {
    let mut schema = normalised(schema);
    schema["$defs"] = json!({"T": {"type": "integer"}});
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&schema)
        .unwrap();
    assert!(validator.is_valid(&json!(null)));
    assert!(validator.is_valid(&json!(3)));
    assert!(!validator.is_valid(&json!("3")));
}

#[test]
fn allow_null_reports_when_there_is_nothing_to_do() {
    let mut schema = json!({"type": ["integer", "null"]});
    assert!(!allow_null(&mut schema));
    let mut schema = json!({"type": "integer"});
    assert!(allow_null(&mut schema));
    assert!(!allow_null(&mut schema));
}

#[test]
fn draft_2019_recursion_in_a_component_becomes_a_self_reference() {
    let document = normalised(json!({"components": {"schemas": {"Filter": {
        "$recursiveAnchor": true,
        "type": "object",
        "properties": {"filters": {"type": "array", "items": {"oneOf": [
            {"$ref": "#/components/schemas/Leaf"},
            {"$recursiveRef": "#"}
        ]}}}
    }}}}));
    let filter = &document["components"]["schemas"]["Filter"];
    assert!(filter.get("$recursiveAnchor").is_none());
    assert_eq!(
        filter.pointer("/properties/filters/items/oneOf/1"),
        Some(&json!({"$ref": "#/components/schemas/Filter"}))
    );
}
