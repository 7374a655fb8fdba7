//! Errata parsing and application, including the refusal of errata that no longer apply.

use serde_json::json;

use super::*;

fn erratum(target: &str, change: Value) -> Erratum {
    Erratum {
        id: "test".into(),
        target: target.into(),
        change: serde_json::from_value(change).unwrap(),
        reason: "r".into(),
        evidence: "e".into(),
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
fn the_committed_errata_parse() {
    let errata = embedded().unwrap();
    assert!(errata.iter().all(|e| e.target.starts_with('/')));
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
    assert!(
        matches!(apply(&mut doc, &e), Err(SpecError::Errata { message, .. }) if message.contains("already"))
    );
}

#[test]
fn a_missing_target_is_an_error() {
    let mut doc = document();
    let e = erratum(
        "/components/schemas/Gone/properties/x",
        json!({"allow_null": true}),
    );
    assert!(
        matches!(apply(&mut doc, &e), Err(SpecError::Errata { message, .. }) if message.contains("not in the document"))
    );
}

#[test]
fn unrequire_needs_the_property_to_be_required() {
    let mut doc = document();
    apply(
        &mut doc,
        &erratum(
            "/components/schemas/List",
            json!({"unrequire": ["first_id"]}),
        ),
    )
    .unwrap();
    assert_eq!(
        doc.pointer("/components/schemas/List/required"),
        Some(&json!(["object"]))
    );
    assert!(apply(
        &mut doc,
        &erratum(
            "/components/schemas/List",
            json!({"unrequire": ["first_id"]})
        )
    )
    .is_err());
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
fn an_entry_with_two_changes_or_no_evidence_is_rejected() {
    let two = "- id: a\n  target: /x\n  change: {allow_null: true, unrequire: [b]}\n  reason: r\n  evidence: e\n";
    assert!(parse(two).is_err());
    let bare =
        "- id: a\n  target: /x\n  change: {allow_null: true}\n  reason: r\n  evidence: ' '\n";
    assert!(parse(bare).is_err());
    let dup = "- id: a\n  target: /x\n  change: {allow_null: true}\n  reason: r\n  evidence: e\n";
    assert!(parse(&format!("{dup}{dup}")).is_err());
}
