//! How the offline model answers: word-sized text deltas and usage, tool calls with
//! distinct ids streamed id-and-name first, `max_completion_tokens` → `length`, JSON
//! formats, any model name, and delays.

use crate::support::llm::offline::{asking, events, names, run};

use std::time::Duration;

use futures::StreamExt;

use serde_json::{json, Value};

use server::llm::{
    complete, tokens, ChatEvent, ChatModel, FinishReason, OfflineModel, ResponseFormat,
};

#[tokio::test]
async fn without_tools_named_it_quotes_the_latest_user_message_in_word_deltas() {
    let request = asking("What is the capital of France?");
    let all = events(request.clone()).await;
    let deltas: Vec<&str> = all
        .iter()
        .filter_map(|e| match e {
            ChatEvent::TextDelta(t) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        deltas,
        [
            "You",
            " said:",
            " \"What",
            " is",
            " the",
            " capital",
            " of",
            " France?\""
        ]
    );
    let text = deltas.concat();
    assert_eq!(all[all.len() - 2], ChatEvent::Finish(FinishReason::Stop));
    let ChatEvent::Usage(usage) = all[all.len() - 1] else {
        panic!("usage last")
    };
    assert_eq!(usage.prompt_tokens, tokens::count_prompt(&request));
    assert_eq!(usage.completion_tokens, tokens::count_text("gpt-4o", &text));
    assert_eq!(
        usage.total_tokens,
        usage.prompt_tokens + usage.completion_tokens
    );
    assert!(!usage.estimated);
}

#[tokio::test]
async fn parallel_calls_have_distinct_call_ids() {
    let completion = run(asking("get_weather get_time get_news")).await;
    assert_eq!(names(&completion), ["get_weather", "get_time", "get_news"]);
    let ids: Vec<&str> = completion
        .tool_calls
        .iter()
        .map(|c| c.id.as_str())
        .collect();
    for id in &ids {
        assert!(id.starts_with("call_") && id.len() == 29, "{id}");
        assert!(id[5..].bytes().all(|b| b.is_ascii_alphanumeric()), "{id}");
    }
    assert!(ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2]);
    // Functions with empty or property-less schemas get `{}`.
    assert_eq!(completion.tool_calls[1].arguments, "{}");
    assert_eq!(completion.tool_calls[2].arguments, "{}");
}

#[tokio::test]
async fn tool_calls_stream_id_and_name_first_then_argument_fragments() {
    let all = events(asking("get_weather")).await;
    let ChatEvent::ToolCallDelta(first) = &all[0] else {
        panic!("{all:?}")
    };
    assert_eq!(
        (first.index, first.name.as_deref(), first.arguments.as_str()),
        (0, Some("get_weather"), "")
    );
    assert!(first.id.is_some());
    let mut arguments = String::new();
    let mut fragments = 0;
    for event in &all[1..all.len() - 2] {
        let ChatEvent::ToolCallDelta(delta) = event else {
            panic!("{event:?}")
        };
        assert_eq!((delta.index, &delta.id, &delta.name), (0, &None, &None));
        arguments.push_str(&delta.arguments);
        fragments += 1;
    }
    assert!(
        fragments > 1,
        "arguments arrive in several token-sized fragments"
    );
    assert_eq!(arguments, r#"{"city":"","unit":"celsius"}"#);
    assert_eq!(
        all[all.len() - 2],
        ChatEvent::Finish(FinishReason::ToolCalls)
    );
}

#[tokio::test]
async fn max_completion_tokens_cuts_the_text_at_the_limit_with_finish_length() {
    let long = "one two three four five six seven eight nine ten eleven twelve";
    let full = run(asking(long)).await;
    let mut request = asking(long);
    request.max_completion_tokens = Some(5);
    let cut = run(request).await;
    assert_eq!(cut.finish_reason, FinishReason::Length);
    assert_eq!(cut.usage.completion_tokens, 5);
    assert_eq!(tokens::count_text("gpt-4o", &cut.text), 5);
    assert!(full.text.starts_with(&cut.text) && cut.text.len() < full.text.len());

    let mut roomy = asking(long);
    roomy.max_completion_tokens = Some(full.usage.completion_tokens);
    let exact = run(roomy).await;
    assert_eq!(
        (exact.finish_reason, exact.text),
        (FinishReason::Stop, full.text)
    );
}

#[tokio::test]
async fn max_completion_tokens_also_limits_tool_calls() {
    let mut request = asking("get_weather");
    request.max_completion_tokens = Some(6);
    let completion = run(request).await;
    assert_eq!(completion.finish_reason, FinishReason::Length);
    assert!(completion.usage.completion_tokens <= 6);
    assert!(r#"{"city":"","unit":"celsius"}"#.starts_with(&completion.tool_calls[0].arguments));
}

#[tokio::test]
async fn json_object_answers_are_a_json_object_quoting_the_user() {
    let mut request = asking("Reply in JSON");
    request.response_format = ResponseFormat::JsonObject;
    let completion = run(request).await;
    let value: Value = serde_json::from_str(&completion.text).unwrap();
    assert_eq!(value, json!({"reply": "You said: \"Reply in JSON\""}));
}

#[tokio::test]
async fn json_schema_answers_are_valid_against_the_schema() {
    let mut request = asking("Give me a recipe");
    request.response_format = ResponseFormat::JsonSchema {
        name: "recipe".into(),
        description: None,
        schema: Some(json!({
            "type": "object",
            "properties": {
                "name": {"type": "string", "minLength": 3},
                "servings": {"type": "integer", "minimum": 1},
                "vegetarian": {"type": "boolean"},
                "steps": {"type": "array", "items": {"$ref": "#/$defs/step"}, "minItems": 2},
                "difficulty": {"type": "string", "enum": ["easy", "hard"]}
            },
            "required": ["name", "servings", "vegetarian", "steps", "difficulty"],
            "additionalProperties": false,
            "$defs": {"step": {"type": "object", "properties": {"text": {"type": "string"}},
                                "required": ["text"], "additionalProperties": false}}
        })),
        strict: Some(true),
    };
    let completion = run(request).await;
    let value: Value = serde_json::from_str(&completion.text).unwrap();
    assert_eq!(
        value,
        json!({"name": "aaa", "servings": 1, "vegetarian": false,
           "steps": [{"text": ""}, {"text": ""}], "difficulty": "easy"})
    );
}

#[tokio::test]
async fn every_model_name_is_answered_and_images_are_not_a_problem() {
    let mut request = asking("look");
    request.model = "llama3.1:8b-instruct".into();
    request.messages[1]
        .content
        .push(server::llm::ContentPart::ImageUrl {
            url: "https://example.com/cat.png".into(),
            detail: None,
        });
    let completion = run(request).await;
    assert_eq!(completion.text, "You said: \"look\"");
    assert!(completion.usage.prompt_tokens > 85, "an image costs tokens");
}

#[tokio::test]
async fn a_delay_holds_back_each_delta_and_dropping_stops_the_turn() {
    let model = OfflineModel::new().with_delay(Duration::from_secs(3600));
    let mut stream = model.stream(asking("hello")).await.unwrap();
    // The first delta is an hour away: nothing can arrive now.
    let waited = tokio::time::timeout(Duration::from_millis(20), stream.next()).await;
    assert!(waited.is_err());
    drop(stream);

    let quick = OfflineModel::new().with_delay(Duration::from_millis(1));
    let completion = complete(&quick, asking("hello")).await.unwrap();
    assert_eq!(completion.text, "You said: \"hello\"");
}
