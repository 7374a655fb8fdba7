//! Schemas that make the offline model's smallest valid answer huge (issue 9, item 1):
//! its output budget bounds the turn and the run ends `incomplete`; schemas past
//! OpenAI's size limits are refused with a 400 wherever a tool or a `json_schema`
//! response format is accepted.

use serde_json::{json, Value};
use server::llm::offline::render::{BYTES_PER_TOKEN, MAX_OUTPUT_TOKENS};

use crate::support::runs::{assistant, create_run, poll_until, thread_with, SETTLED};
use testkit::{assert_error, TestApp};

/// The function parameters: every level asks for 64 copies of the root.
fn self_multiplying() -> Value {
    json!({"type": "object", "properties": {"a": {"type": "array", "minItems": 64,
        "items": {"$ref": "#"}}}, "required": ["a"]})
}

/// The two-level `json_schema`: 64 x 64 strings of 4096 characters (16.8 MB).
fn two_level_format() -> Value {
    json!({"type": "json_schema", "json_schema": {"name": "wide", "schema": {
        "type": "object", "required": ["a"], "properties": {"a": {"type": "array",
            "minItems": 64, "items": {"type": "object", "required": ["b"], "properties": {
                "b": {"type": "array", "minItems": 64,
                    "items": {"type": "string", "minLength": 4096}}}}}}}}})
}

async fn steps_of(app: &TestApp, thread_id: &str, run_id: &str) -> Vec<Value> {
    let steps = app
        .get(&format!(
            "/v1/threads/{thread_id}/runs/{run_id}/steps?order=asc"
        ))
        .await
        .json();
    steps["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_self_multiplying_function_schema_ends_the_run_incomplete() {
    let app = TestApp::new().await;
    let tool = json!({"type": "function", "function": {"name": "grow",
        "parameters": self_multiplying()}});
    let assistant_id = assistant(&app, json!([tool])).await;
    let thread_id = thread_with(&app, "Go").await;
    let run = create_run(
        &app,
        &thread_id,
        json!({"assistant_id": assistant_id, "tool_choice": "required"}),
    )
    .await;
    let run_id = run["id"].as_str().unwrap();
    let done = poll_until(&app, &thread_id, run_id, SETTLED).await;
    assert_eq!(done["status"], "incomplete", "{done}");
    assert_eq!(
        done["incomplete_details"],
        json!({"reason": "max_completion_tokens"})
    );
    let completion = done["usage"]["completion_tokens"].as_u64().unwrap();
    assert!(completion <= MAX_OUTPUT_TOKENS as u64 + 2, "{completion}");
    let steps = steps_of(&app, &thread_id, run_id).await;
    assert!(
        steps.iter().all(|step| step["status"] == "completed"),
        "no step is left open under an ended run: {steps:?}"
    );
    let calls = &steps[0]["step_details"]["tool_calls"];
    let arguments = calls[0]["function"]["arguments"].as_str().unwrap();
    assert!(
        arguments.starts_with("{\"a\":[{\"a\":["),
        "{}",
        &arguments[..40]
    );
    assert!(arguments.len() <= MAX_OUTPUT_TOKENS * BYTES_PER_TOKEN);
}

#[tokio::test]
async fn a_wide_json_schema_answer_is_bounded_and_max_completion_tokens_holds() {
    let app = TestApp::new().await;
    let assistant_id = assistant(&app, json!([])).await;
    for (limit, expected_max) in [(None, MAX_OUTPUT_TOKENS), (Some(50), 50)] {
        let thread_id = thread_with(&app, "Fill it in").await;
        let mut body = json!({"assistant_id": assistant_id, "response_format": two_level_format()});
        if let Some(limit) = limit {
            body["max_completion_tokens"] = json!(limit);
        }
        let run = create_run(&app, &thread_id, body).await;
        let run_id = run["id"].as_str().unwrap();
        let done = poll_until(&app, &thread_id, run_id, SETTLED).await;
        assert_eq!(done["status"], "incomplete", "{done}");
        let completion = done["usage"]["completion_tokens"].as_u64().unwrap();
        assert!(completion <= expected_max as u64, "{limit:?}: {completion}");
        let messages = app
            .get(&format!("/v1/threads/{thread_id}/messages?run_id={run_id}"))
            .await
            .json();
        let text = messages["data"][0]["content"][0]["text"]["value"]
            .as_str()
            .unwrap();
        assert!(text.starts_with("{\"a\":[{\"b\":[\"aaaa"), "{limit:?}");
        assert!(
            text.len() <= expected_max * BYTES_PER_TOKEN,
            "{limit:?}: {}",
            text.len()
        );
    }
}

/// `levels` nested objects, each with one property `p`.
fn nested(levels: usize) -> Value {
    let mut schema = json!({"type": "string"});
    for _ in 0..levels {
        schema = json!({"type": "object", "properties": {"p": schema}});
    }
    schema
}

fn wide(properties: usize) -> Value {
    let map: serde_json::Map<String, Value> = (0..properties)
        .map(|i| (format!("p{i}"), json!({"type": "integer"})))
        .collect();
    json!({"type": "object", "properties": map})
}

#[tokio::test]
async fn oversized_schemas_are_refused_wherever_they_are_accepted() {
    let app = TestApp::new().await;
    let deep_tool = |name: &str| json!([{"type": "function", "function": {"name": name, "parameters": nested(11)}}]);
    let nesting = "11 levels of nesting exceeds limit of 10.";
    let function_error = |name: &str| format!("Invalid schema for function '{name}': {nesting}");
    let param = Some("tools[0].function.parameters");
    let code = Some("invalid_function_parameters");

    let created = app
        .post(
            "/v1/assistants",
            json!({"model": "gpt-4o", "tools": deep_tool("deep")}),
        )
        .await;
    assert_error(&created, 400, &function_error("deep"), param, code);
    let fine = json!([{"type": "function", "function": {"name": "ok", "parameters": nested(10)}}]);
    let assistant_id = assistant(&app, fine).await;
    let modified = app
        .post(
            &format!("/v1/assistants/{assistant_id}"),
            json!({"tools": deep_tool("deeper")}),
        )
        .await;
    assert_error(&modified, 400, &function_error("deeper"), param, code);

    let thread_id = thread_with(&app, "Hi").await;
    let run = app
        .post(
            &format!("/v1/threads/{thread_id}/runs"),
            json!({"assistant_id": assistant_id, "tools": deep_tool("in_run")}),
        )
        .await;
    assert_error(&run, 400, &function_error("in_run"), param, code);

    let format =
        json!({"type": "json_schema", "json_schema": {"name": "big", "schema": wide(5001)}});
    let thread_and_run = app
        .post(
            "/v1/threads/runs",
            json!({"assistant_id": assistant_id, "response_format": format,
                "thread": {"messages": [{"role": "user", "content": "Hi"}]}}),
        )
        .await;
    assert_error(
        &thread_and_run,
        400,
        "Invalid schema for response_format 'big': 5001 total object properties exceeds limit of 5000.",
        Some("response_format.json_schema.schema"),
        None,
    );
    // Nothing was written by the refused requests.
    let runs = app
        .get(&format!("/v1/threads/{thread_id}/runs"))
        .await
        .json();
    assert_eq!(runs["data"], json!([]));
}
