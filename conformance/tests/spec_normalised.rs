//! The pinned document after normalisation and errata: no OpenAPI 3.0 keyword survives, each form
//! of `nullable` in the real document is rewritten as expected (snapshots), a broken reachable
//! schema or a stale erratum stops the load, and status codes pick the right schema.

// Test code fails by panicking: unwrapping is how it says what broke.
#![allow(clippy::unwrap_used)]

use conformance::spec::{
    default_cache_dir, errata::Erratum, load_document, load_raw_document, Spec, SpecError,
    SpecSource,
};
use serde_json::{json, Value};

fn source() -> SpecSource {
    SpecSource::Pinned {
        cache_dir: default_cache_dir(),
    }
}

fn document() -> Value {
    load_document(&source()).expect("the pinned document loads")
}

/// Every place in `value` where `key` holds a boolean.
fn boolean_keywords(value: &Value, key: &str, at: String, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == key && v.is_boolean() {
                    found.push(at.clone());
                }
                boolean_keywords(v, key, format!("{at}/{k}"), found);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                boolean_keywords(v, key, format!("{at}/{i}"), found);
            }
        }
        _ => {}
    }
}

#[test]
fn no_openapi_3_0_keyword_survives() {
    let document = document();
    for key in ["nullable", "exclusiveMinimum", "exclusiveMaximum"] {
        let mut found = Vec::new();
        boolean_keywords(&document["components"], key, String::new(), &mut found);
        // `properties/nullable` would be a property named so, not the keyword; none is boolean.
        assert!(found.is_empty(), "boolean {key} left at {found:?}");
    }
}

#[test]
fn each_nullable_form_of_the_real_document_is_rewritten() {
    let document = document();
    let at = |pointer: &str| {
        document
            .pointer(pointer)
            .cloned()
            .unwrap_or_else(|| panic!("{pointer}"))
    };
    let run = "/components/schemas/RunObject/properties";
    insta::assert_json_snapshot!("beside_type", at(&format!("{run}/started_at")));
    insta::assert_json_snapshot!(
        "beside_type_with_object",
        at(&format!("{run}/incomplete_details"))
    );
    insta::assert_json_snapshot!("beside_ref", at(&format!("{run}/response_format")));
    insta::assert_json_snapshot!("all_of_member", at(&format!("{run}/truncation_strategy")));
    insta::assert_json_snapshot!(
        "beside_any_of",
        at("/components/schemas/CreateImageVariationRequest/properties/model")
    );
    insta::assert_json_snapshot!(
        "boolean_exclusive_minimum",
        at("/components/schemas/FineTuneDPOHyperparameters/properties/beta/oneOf/1")
    );
}

#[test]
fn nullable_fields_accept_null_but_not_other_types() {
    let spec = Spec::load(&source()).unwrap();
    let run = json!({
        "id": "run_1", "object": "thread.run", "created_at": 1, "assistant_id": "asst_1",
        "thread_id": "thread_1", "status": "queued", "started_at": null, "expires_at": null,
        "cancelled_at": null, "failed_at": null, "completed_at": null, "required_action": null,
        "last_error": null, "model": "gpt-4o", "instructions": null, "tools": [], "metadata": null,
        "temperature": null, "top_p": null, "max_completion_tokens": null, "max_prompt_tokens": null,
        "truncation_strategy": null, "incomplete_details": null, "usage": null,
        "response_format": null, "tool_choice": null, "parallel_tool_calls": true
    });
    assert_eq!(spec.validate_response("getRun", 200, &run), vec![]);
    for (field, wrong) in [
        ("truncation_strategy", json!("auto")),
        ("response_format", json!(3)),
        ("started_at", json!("now")),
        ("tool_choice", json!(7)),
    ] {
        let mut bad = run.clone();
        bad[field] = wrong;
        let errors = spec.validate_response("getRun", 200, &bad);
        assert!(!errors.is_empty(), "{field} accepted a wrong type");
        assert!(
            errors
                .iter()
                .all(|e| e.instance_path == format!("/{field}")),
            "{errors:#?}"
        );
    }
}

#[test]
fn errors_use_error_response_and_undocumented_statuses_are_reported() {
    let spec = Spec::load(&source()).unwrap();
    let envelope = json!({"error": {"message": "No assistant found with id 'asst_x'.",
        "type": "invalid_request_error", "param": null, "code": null}});
    assert_eq!(
        spec.validate_response("getAssistant", 404, &envelope),
        vec![]
    );
    assert_eq!(spec.validate_response("createRun", 500, &envelope), vec![]);
    let missing_code = json!({"error": {"message": "m", "type": "t", "param": null}});
    assert_eq!(
        spec.validate_response("getAssistant", 400, &missing_code)
            .len(),
        1
    );
    assert!(spec.validate_response("getAssistant", 201, &envelope)[0]
        .message
        .contains("not documented"));
    assert!(
        spec.validate_response("createChatCompletion", 200, &json!({}))[0]
            .message
            .contains("not a covered operation")
    );
}

#[test]
fn every_stream_event_of_the_document_has_a_validator() {
    let spec = Spec::load(&source()).unwrap();
    let names: Vec<&str> = spec.stream_event_names().collect();
    for name in conformance::exec::stream::KNOWN_EVENTS {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    assert_eq!(spec.validate_stream_event("done", &json!("[DONE]")), vec![]);
    assert!(!spec
        .validate_stream_event("done", &json!("[done]"))
        .is_empty());
    assert!(
        spec.validate_stream_event("thread.run.teleported", &json!({}))[0]
            .message
            .contains("not an event")
    );
}

fn raw_document() -> Value {
    // The document as read, before normalisation: `from_document` normalises it itself.
    load_raw_document(&source())
        .expect("the pinned document loads")
        .0
}

#[test]
fn a_reachable_schema_that_does_not_compile_stops_the_load_and_is_named() {
    let mut document = raw_document();
    document["components"]["schemas"]["RunCompletionUsage"]["anyOf"][0]["properties"]
        ["total_tokens"]["minimum"] = json!("zero");
    match Spec::from_document(document, "test".into(), vec![]) {
        Err(SpecError::Compile { pointer, message }) => {
            assert!(
                message.contains("RunCompletionUsage"),
                "{pointer}: {message}"
            )
        }
        Err(other) => panic!("wrong error: {other}"),
        Ok(_) => panic!("a broken reachable schema was accepted"),
    }
}

#[test]
fn an_erratum_that_no_longer_applies_stops_the_load() {
    let stale: Vec<Erratum> = serde_yaml::from_str(
        "- id: stale\n  reason: r\n  evidence: e\n  patches:\n  - {target: /components/schemas/NoSuchThing/properties/x, change: {allow_null: true}}\n",
    )
    .unwrap();
    let result = Spec::from_document(raw_document(), "test".into(), stale);
    assert!(matches!(result, Err(SpecError::Errata { id, .. }) if id == "stale"));
}

#[test]
fn a_user_supplied_document_loads_from_its_path() {
    let yml = conformance::spec::fetch::cached_document_path(
        &default_cache_dir(),
        &conformance::spec::pin::Pin::embedded(),
    );
    Spec::load(&source()).unwrap();
    let spec = Spec::load(&SpecSource::Path(yml)).unwrap();
    assert_eq!(spec.operations().len(), 48);
    assert!(matches!(
        Spec::load(&SpecSource::Path("/nonexistent/openapi.yml".into())),
        Err(SpecError::Fetch(_))
    ));
}
