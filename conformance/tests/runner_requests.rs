//! Request building from fixture steps: default headers, overrides and removal, variables in
//! every part, repeated query keys, raw bodies and raw URLs, and the masked request record.

// Test code fails by panicking: unwrapping is how it says what broke.
#![allow(clippy::unwrap_used)]

use conformance::client::{base_headers, mask_authorization, record_request};
use conformance::exec::request::prepare;
use conformance::fixture::Step;
use conformance::spec::{Family, Operation};
use conformance::vars::Vars;
use rstest::rstest;
use serde_json::json;

fn step(yaml: &str) -> Step {
    serde_yaml::from_str(yaml).unwrap()
}

fn operation(method: &str, path: &str, family: Family) -> Operation {
    Operation {
        id: "op".into(),
        method: method.into(),
        path: path.into(),
        family,
    }
}

fn vars() -> Vars {
    let mut vars = Vars::for_scenario("gpt-4o");
    vars.set("thread", json!("thread_abc123"));
    vars.set("limit", json!(2));
    vars
}

const BASE: &str = "http://localhost:1/v1/";

#[test]
fn beta_family_requests_carry_the_defaults_in_order() {
    let step = step(
        "{name: s, operation: x, body: {model: '${model}', n: '${limit}'}, expect: {status: 200}}",
    );
    let base = base_headers(Some("sk-1"), &[("X-Extra".into(), "1".into())]);
    let request = prepare(
        &step,
        Some(&operation("POST", "/assistants", Family::Assistants)),
        BASE,
        &base,
        &vars(),
    )
    .unwrap();
    assert_eq!(request.method, "POST");
    assert_eq!(request.url, "http://localhost:1/v1/assistants");
    let headers: Vec<(&str, &str)> = request
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        headers,
        [
            ("Authorization", "Bearer sk-1"),
            ("OpenAI-Beta", "assistants=v2"),
            ("Content-Type", "application/json"),
            ("X-Extra", "1")
        ]
    );
    assert_eq!(request.body.as_deref(), Some(r#"{"model":"gpt-4o","n":2}"#));
}

#[rstest]
#[case(Family::Files, false)]
#[case(Family::VectorStores, false)]
#[case(Family::Uploads, false)]
#[case(Family::RunSteps, true)]
#[case(Family::Messages, true)]
fn the_beta_header_goes_only_to_assistants_families(#[case] family: Family, #[case] beta: bool) {
    let step = step("{name: s, operation: x, expect: {status: 200}}");
    let request = prepare(
        &step,
        Some(&operation("GET", "/x", family)),
        BASE,
        &[],
        &vars(),
    )
    .unwrap();
    assert_eq!(
        request.headers.iter().any(|(k, _)| k == "OpenAI-Beta"),
        beta
    );
    assert!(
        request.headers.iter().all(|(k, _)| k != "Content-Type"),
        "no body, no content type"
    );
}

#[test]
fn step_headers_override_case_insensitively_and_null_removes() {
    let step = step("{name: s, operation: x, headers: {openai-beta: assistants=v1, Authorization: null, X-Thread: '${thread}'}, expect: {status: 400}}");
    let base = base_headers(Some("sk-1"), &[]);
    let request = prepare(
        &step,
        Some(&operation("GET", "/threads", Family::Threads)),
        BASE,
        &base,
        &vars(),
    )
    .unwrap();
    assert_eq!(
        request.headers,
        [
            ("OpenAI-Beta".to_string(), "assistants=v1".to_string()),
            ("X-Thread".into(), "thread_abc123".into())
        ]
    );
}

#[test]
fn path_and_query_parameters_are_substituted_encoded_and_lists_repeat() {
    let step = step(
        "{name: s, operation: x, path: {thread_id: '${thread}', message_id: 'a/b c'}, query: {limit: '${limit}', 'include[]': [x, y], order: desc}, expect: {status: 200}}",
    );
    let op = operation(
        "GET",
        "/threads/{thread_id}/messages/{message_id}",
        Family::Messages,
    );
    let request = prepare(&step, Some(&op), BASE, &[], &vars()).unwrap();
    assert_eq!(
        request.url,
        "http://localhost:1/v1/threads/thread_abc123/messages/a%2Fb%20c?limit=2&include%5B%5D=x&include%5B%5D=y&order=desc"
    );
}

#[test]
fn raw_bodies_and_raw_urls_are_sent_verbatim_with_variables_spliced() {
    let step = step("{name: s, url: '/threads/${thread}/nope', method: PATCH, raw_body: '{\"broken\": ${limit}', expect: {status: 404}}");
    let request = prepare(&step, None, BASE, &[], &vars()).unwrap();
    assert_eq!(
        (request.method.as_str(), request.url.as_str()),
        ("PATCH", "http://localhost:1/v1/threads/thread_abc123/nope")
    );
    assert_eq!(request.body.as_deref(), Some("{\"broken\": 2"));
    assert!(
        request
            .headers
            .contains(&("OpenAI-Beta".into(), "assistants=v2".into())),
        "raw /threads path is a beta family"
    );
    assert!(request
        .headers
        .contains(&("Content-Type".into(), "application/json".into())));
}

#[test]
fn unknown_variables_stop_the_request() {
    let step = step("{name: s, operation: x, path: {id: '${ghost}'}, expect: {status: 200}}");
    let err = prepare(
        &step,
        Some(&operation("GET", "/x/{id}", Family::Files)),
        BASE,
        &[],
        &vars(),
    )
    .unwrap_err();
    assert_eq!(err.name, "ghost");
}

#[rstest]
#[case("Bearer sk-test", "Bearer ****")]
#[case("Bearer sk-proj-0123456789abcdefWXYZ", "Bearer ****WXYZ")]
#[case("secret", "****")]
fn authorization_is_masked_in_records(#[case] value: &str, #[case] masked: &str) {
    assert_eq!(mask_authorization(value), masked);
}

#[test]
fn records_mask_only_the_authorization_header() {
    let step = step("{name: s, operation: x, expect: {status: 200}}");
    let base = base_headers(Some("sk-secret"), &[]);
    let request = prepare(
        &step,
        Some(&operation("GET", "/assistants", Family::Assistants)),
        BASE,
        &base,
        &vars(),
    )
    .unwrap();
    let record = record_request(&request);
    assert_eq!(
        record.headers[0],
        ("Authorization".into(), "Bearer ****".into())
    );
    assert_eq!(
        record.headers[1],
        ("OpenAI-Beta".into(), "assistants=v2".into())
    );
}
