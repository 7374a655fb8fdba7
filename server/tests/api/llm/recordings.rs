//! The upstream client against real Chat Completions exchanges recorded from OpenAI
//! (the .NET SDK's `ChatTests` and `ChatToolTests` session records, read from
//! `<workspace>/../shared/recordings` when that folder exists; the tests say SKIPPED
//! and pass vacuously otherwise, and `llm_upstream_*.rs` hold the always-on cases).
//!
//! For every recorded `POST /chat/completions` whose features the LLM layer models:
//! - the body the client sends equals the recorded request body (plus `stream` and
//!   `stream_options`);
//! - replaying the recorded answer (streamed as recorded, or whole JSON) yields the
//!   recorded text, tool calls, finish reason and usage;
//! - the same answers re-chunked into event streams with varied framing do too;
//! - recorded errors map to the run's error codes with the upstream's own message.

use crate::support::llm::recorded::{
    actual, expected_body, expected_from_completion, rechunked, recordings, run, same_json,
    to_request, usage_numbers,
};
use crate::support::llm::Reply;
use serde_json::Value;
use server::llm::{FinishReason, ResponseFormat};

#[tokio::test]
async fn recorded_requests_are_rendered_byte_for_byte_and_recorded_answers_are_read_back() {
    let Some(exchanges) = recordings() else {
        return;
    };
    let mut failures = Vec::new();
    let mut checked = 0;
    for exchange in &exchanges {
        let Some(request) = to_request(&exchange.request) else {
            eprintln!("not modelled, skipped: {}", exchange.name);
            continue;
        };
        let reply = match (&exchange.status, &exchange.response) {
            (200, Value::Array(lines)) => Reply::Sse(
                lines
                    .iter()
                    .map(|l| l.as_str().unwrap().to_owned())
                    .collect(),
            ),
            (status, body) => Reply::Status(*status, vec![], body.to_string()),
        };
        let (fake, result) = run(reply, request).await;
        checked += 1;
        let sent = fake.body(0);
        let wanted = expected_body(&exchange.request);
        if !same_json(&sent, &wanted) {
            failures.push(format!(
                "{}: sent body\n{sent}\nrecorded\n{wanted}",
                exchange.name
            ));
        }
        match (exchange.status, &exchange.response) {
            (200, Value::Array(lines)) => {
                let mut text = String::new();
                let mut usage = [0; 5];
                for line in lines.iter().filter_map(Value::as_str) {
                    let Some(data) = line.trim().strip_prefix("data: ") else {
                        continue;
                    };
                    let Ok(chunk) = serde_json::from_str::<Value>(data) else {
                        continue;
                    };
                    if let Some(piece) = chunk
                        .pointer("/choices/0/delta/content")
                        .and_then(Value::as_str)
                    {
                        text.push_str(piece);
                    }
                    if chunk["usage"].is_object() {
                        usage = usage_numbers(&chunk["usage"]);
                    }
                }
                match &result {
                    Ok(completion)
                        if (completion.text.clone(), actual(completion).3)
                            == (text.clone(), usage) => {}
                    other => failures.push(format!(
                        "{}: streamed replay gave {other:?}, want {text:?} {usage:?}",
                        exchange.name
                    )),
                }
            }
            (200, response) => {
                let wanted = expected_from_completion(response);
                match &result {
                    Ok(completion) if actual(completion) == wanted => {}
                    other => failures.push(format!(
                        "{}: replay gave {other:?}, want {wanted:?}",
                        exchange.name
                    )),
                }
            }
            (status, response) => {
                let message = response["error"]["message"].as_str().unwrap_or_default();
                let code = if status == 400 {
                    "invalid_prompt"
                } else {
                    "server_error"
                };
                match &result {
                    Err(error)
                        if error.code() == code
                            && error.message.contains(message)
                            && fake.hits() == 1 => {}
                    other => failures.push(format!(
                        "{}: HTTP {status} gave {other:?}, want {code} with {message:?}",
                        exchange.name
                    )),
                }
            }
        }
    }
    assert!(
        checked >= 40,
        "only {checked} recorded exchanges could be checked"
    );
    assert!(
        failures.is_empty(),
        "{} of {checked} exchanges failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[tokio::test]
async fn recorded_answers_re_chunked_as_event_streams_read_back_the_same() {
    let Some(exchanges) = recordings() else {
        return;
    };
    let mut failures = Vec::new();
    let mut checked = 0;
    for exchange in exchanges
        .iter()
        .filter(|e| e.status == 200 && e.response.is_object())
    {
        let Some(request) = to_request(&exchange.request) else {
            continue;
        };
        let wanted = expected_from_completion(&exchange.response);
        for style in 0..3 {
            let (_, result) = run(
                Reply::Sse(rechunked(&exchange.response, style)),
                request.clone(),
            )
            .await;
            checked += 1;
            match &result {
                Ok(completion) if actual(completion) == wanted => {}
                other => failures.push(format!(
                    "{} (style {style}): gave {other:?}, want {wanted:?}",
                    exchange.name
                )),
            }
        }
    }
    assert!(checked >= 90, "only {checked} re-chunked replays ran");
    assert!(
        failures.is_empty(),
        "{} of {checked} failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[tokio::test]
async fn recorded_parallel_tool_calls_keep_their_ids_order_and_arguments() {
    let Some(exchanges) = recordings() else {
        return;
    };
    let exchange = exchanges
        .iter()
        .find(|e| e.name == "ChatToolTests/ParallelToolCalls.json#0")
        .expect("the ParallelToolCalls recording");
    let request = to_request(&exchange.request).unwrap();
    let (_, result) = run(Reply::Sse(rechunked(&exchange.response, 0)), request).await;
    let completion = result.unwrap();
    assert_eq!(completion.finish_reason, FinishReason::ToolCalls);
    let arguments: Vec<&str> = completion
        .tool_calls
        .iter()
        .map(|c| c.arguments.as_str())
        .collect();
    assert_eq!(
        arguments,
        [
            r#"{"city_name": "Santiago"}"#,
            r#"{"city_name": "Karachi"}"#
        ]
    );
    assert_ne!(completion.tool_calls[0].id, completion.tool_calls[1].id);
}

#[tokio::test]
async fn local_prompt_token_counts_match_recorded_usage() {
    let Some(exchanges) = recordings() else {
        return;
    };
    let mut failures = Vec::new();
    let mut exact = 0;
    for exchange in exchanges
        .iter()
        .filter(|e| e.status == 200 && e.response.is_object())
    {
        let Some(request) = to_request(&exchange.request) else {
            continue;
        };
        // o-series and search models frame prompts differently; the cookbook covers gpt-4o*.
        if !request.model.starts_with("gpt-4o") || request.model.contains("search") {
            continue;
        }
        let recorded = exchange.response["usage"]["prompt_tokens"]
            .as_u64()
            .unwrap() as f64;
        let counted = f64::from(server::llm::tokens::count_prompt(&request));
        let plain = request.tools.is_empty()
            && request.response_format == ResponseFormat::Text
            && request.messages.iter().all(|m| m.tool_calls.is_empty());
        if plain {
            exact += 1;
            if counted != recorded {
                failures.push(format!(
                    "{}: counted {counted}, recorded {recorded} (exact expected)",
                    exchange.name
                ));
            }
        } else if (counted - recorded).abs() > recorded * 0.2 {
            failures.push(format!(
                "{}: counted {counted}, recorded {recorded} (within 20% expected)",
                exchange.name
            ));
        }
    }
    assert!(exact >= 10, "only {exact} plain exchanges");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
