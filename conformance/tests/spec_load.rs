//! Loading the pinned document end to end: fetch (through pip, on first use), verify, normalise,
//! apply the errata and compile every covered operation and stream event.

// Test code fails by panicking: unwrapping is how it says what broke.
#![allow(clippy::unwrap_used)]

use std::time::Instant;

use conformance::spec::{default_cache_dir, Family, Spec, SpecSource};
use serde_json::json;

fn load() -> Spec {
    let started = Instant::now();
    let spec = Spec::load(&SpecSource::Pinned {
        cache_dir: default_cache_dir(),
    })
    .expect("the pinned spec loads");
    eprintln!("Spec::load took {:?}", started.elapsed());
    spec
}

#[test]
fn the_pinned_document_covers_the_48_operations_by_family() {
    let spec = load();
    assert_eq!(spec.api_version(), "2.3.0");
    let count = |family| {
        spec.operations()
            .iter()
            .filter(|op| op.family == family)
            .count()
    };
    assert_eq!(spec.operations().len(), 48);
    assert_eq!(
        [
            Family::Assistants,
            Family::Threads,
            Family::Messages,
            Family::Runs,
            Family::RunSteps,
            Family::Files,
            Family::Uploads,
            Family::VectorStores
        ]
        .map(count),
        [5, 4, 5, 7, 2, 5, 4, 16]
    );
    let op = spec.find_operation("POST", "/threads/runs").unwrap();
    assert_eq!(op.id, "createThreadAndRun");
    assert_eq!(
        spec.find_operation("GET", "/assistants/asst_abc")
            .unwrap()
            .id,
        "getAssistant"
    );
    assert!(spec.find_operation("GET", "/chat/completions").is_none());
}

#[test]
fn a_real_queued_run_is_valid_and_a_string_created_at_is_not() {
    let spec = load();
    let mut run = json!({
        "id": "run_abc", "object": "thread.run", "created_at": 1761861632, "assistant_id": "asst_abc",
        "thread_id": "thread_abc", "status": "queued", "started_at": null, "expires_at": 1761862232,
        "cancelled_at": null, "failed_at": null, "completed_at": null, "required_action": null,
        "last_error": null, "model": "gpt-4o", "instructions": "be brief", "tools": [],
        "tool_resources": {}, "metadata": {}, "temperature": 1.0, "top_p": 1.0, "reasoning_effort": null,
        "max_completion_tokens": null, "max_prompt_tokens": null,
        "truncation_strategy": {"type": "auto", "last_messages": null}, "incomplete_details": null,
        "usage": null, "response_format": "auto", "tool_choice": "auto", "parallel_tool_calls": true
    });
    assert_eq!(spec.validate_response("createRun", 200, &run), vec![]);
    assert_eq!(
        spec.validate_stream_event("thread.run.created", &run),
        vec![]
    );
    run["created_at"] = json!("1761861632");
    let errors = spec.validate_response("createRun", 200, &run);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].instance_path, "/created_at");
    assert!(!spec
        .validate_stream_event("thread.run.created", &run)
        .is_empty());
}
