//! Errata parsing and application, including the refusal of errata that no longer apply.

use serde_json::json;

use super::*;

fn erratum(target: &str, change: Value) -> Erratum {
    Erratum {
        id: "test".into(),
        reason: "r".into(),
        evidence: "e".into(),
        patches: vec![Patch {
            target: target.into(),
            change: serde_json::from_value(change).unwrap(),
        }],
    }
}

fn document() -> Value {
    json!({"components": {"schemas": {"List": {
        "type": "object",
        "properties": {"first_id": {"type": "string"}, "object": {"type": "string", "enum": ["list"]}},
        "required": ["first_id", "object"]
    }}}})
}

#[test]
fn the_committed_errata_parse_and_every_patch_targets_a_pointer() {
    let errata = embedded().unwrap();
    assert!(errata
        .iter()
        .flat_map(|e| &e.patches)
        .all(|p| p.target.starts_with('/')));
}

#[test]
fn allow_null_patches_the_target_and_refuses_a_second_time() {
    let mut doc = document();
    let e = erratum(
        "/components/schemas/List/properties/first_id",
        json!({"allow_null": true}),
    );
    apply(&mut doc, &e).unwrap();
    assert_eq!(
        doc.pointer("/components/schemas/List/properties/first_id/type"),
        Some(&json!(["string", "null"]))
    );
    let err = apply(&mut doc, &e).unwrap_err();
    assert!(matches!(err, SpecError::Errata { message, .. } if message.contains("already")));
}

#[test]
fn a_missing_target_is_an_error() {
    let mut doc = document();
    let e = erratum(
        "/components/schemas/Gone/properties/x",
        json!({"allow_null": true}),
    );
    let err = apply(&mut doc, &e).unwrap_err();
    assert!(
        matches!(err, SpecError::Errata { message, .. } if message.contains("not in the document"))
    );
}

#[test]
fn unrequire_needs_the_property_to_be_required() {
    let mut doc = document();
    let e = erratum(
        "/components/schemas/List",
        json!({"unrequire": ["first_id"]}),
    );
    apply(&mut doc, &e).unwrap();
    assert_eq!(
        doc.pointer("/components/schemas/List/required"),
        Some(&json!(["object"]))
    );
    assert!(apply(&mut doc, &e).is_err());
}

#[test]
fn add_properties_and_add_enum_refuse_what_is_already_there() {
    let mut doc = document();
    let add = erratum(
        "/components/schemas/List",
        json!({"add_properties": {"extra": {"type": "integer"}}}),
    );
    apply(&mut doc, &add).unwrap();
    assert!(apply(&mut doc, &add).is_err());
    let enum_value = erratum(
        "/components/schemas/List/properties/object",
        json!({"add_enum": ["page"]}),
    );
    apply(&mut doc, &enum_value).unwrap();
    assert!(apply(&mut doc, &enum_value).is_err());
}

#[test]
fn copy_from_creates_a_variant_and_refuses_to_overwrite() {
    let mut doc = document();
    let copy = erratum(
        "/components/schemas/ShortList",
        json!({"copy_from": "/components/schemas/List"}),
    );
    apply(&mut doc, &copy).unwrap();
    assert_eq!(
        doc.pointer("/components/schemas/ShortList"),
        doc.pointer("/components/schemas/List")
    );
    assert!(apply(&mut doc, &copy).is_err());
    let from_nowhere = erratum(
        "/components/schemas/X",
        json!({"copy_from": "/components/schemas/Nowhere"}),
    );
    assert!(apply(&mut doc, &from_nowhere).is_err());
}

#[test]
fn an_entry_with_two_changes_no_patches_or_no_evidence_is_rejected() {
    let entry = |change: &str, evidence: &str| {
        format!("- id: a\n  reason: r\n  evidence: '{evidence}'\n  patches:\n  - target: /x\n    change: {change}\n")
    };
    assert!(parse(&entry("{allow_null: true}", "e")).is_ok());
    assert!(parse(&entry("{allow_null: true, unrequire: [b]}", "e")).is_err());
    assert!(parse(&entry("{allow_null: true}", " ")).is_err());
    assert!(parse("- id: a\n  reason: r\n  evidence: e\n  patches: []\n").is_err());
    let one = entry("{allow_null: true}", "e");
    assert!(parse(&format!("{one}{one}")).is_err());
}
