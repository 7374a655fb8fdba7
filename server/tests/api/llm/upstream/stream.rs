//! The upstream client reading answers: event order, tolerant framing, streamed tool
//! calls, whole JSON answers, errors and cuts mid-answer (no retry once output was
//! forwarded), stalls, and closing the connection when the stream is dropped.

use std::time::Duration;

use crate::support::llm::{
    events_of, finish_chunk, hello_request, hello_stream, model, text_chunk, usage_chunk,
    FakeUpstream, Reply,
};
use futures::StreamExt;

use serde_json::{json, Value};

use server::llm::{collect, tokens, ChatEvent, ChatModel, FinishReason, Usage};

#[tokio::test]
async fn streams_text_then_finish_then_usage_and_sends_an_openai_body() {
    let fake = FakeUpstream::start(vec![Reply::Sse(hello_stream())]).await;
    let events = events_of(&model(fake.config()), hello_request()).await;
    let events: Vec<ChatEvent> = events.into_iter().map(Result::unwrap).collect();
    assert_eq!(
        events,
        vec![
            ChatEvent::TextDelta("Hello".into()),
            ChatEvent::TextDelta(" world".into()),
            ChatEvent::Finish(FinishReason::Stop),
            ChatEvent::Usage(Usage {
                prompt_tokens: 5,
                completion_tokens: 2,
                total_tokens: 7,
                cached_tokens: 2,
                reasoning_tokens: 1,
                estimated: false,
            }),
        ]
    );
    assert_eq!(
        fake.body(0),
        json!({"model": "gpt-4o-mini",
           "messages": [{"role": "system", "content": "Be brief."},
                        {"role": "user", "content": "Hello, world!"}],
           "stream": true, "stream_options": {"include_usage": true}})
    );
    assert_eq!(
        fake.header(0, "authorization").as_deref(),
        Some("Bearer sk-test")
    );
    assert_eq!(fake.hits(), 1);
}

#[tokio::test]
async fn tolerates_crlf_missing_spaces_comments_split_lines_and_missing_usage() {
    let role = r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#;
    let text = |t: &str| {
        format!(r#"{{"choices":[{{"index":0,"delta":{{"content":"{t}"}},"finish_reason":null}}]}}"#)
    };
    let done = r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#;
    let wire = format!(
    ": keep-alive\r\n\r\ndata:{role}\r\n\r\ndata: {}\r\n\r\n: ping\n\ndata:{}\r\r\ndata: {done}\n\n",
    text("Hel"),
    text("lo there")
);
    // Cut the wire into 7-byte network chunks so lines and CRLFs are split.
    let chunks = wire
        .as_bytes()
        .chunks(7)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    let fake = FakeUpstream::start(vec![Reply::Sse(chunks)]).await;
    let request = hello_request();
    let completion = collect(model(fake.config()).stream(request.clone()).await.unwrap())
        .await
        .unwrap();
    assert_eq!(completion.text, "Hello there");
    assert_eq!(completion.finish_reason, FinishReason::Stop);
    // No usage and no [DONE]: usage is counted locally.
    assert!(completion.usage.estimated);
    assert_eq!(
        completion.usage.prompt_tokens,
        tokens::count_prompt(&request)
    );
    assert_eq!(
        completion.usage.completion_tokens,
        tokens::count_text("gpt-4o-mini", "Hello there")
    );
}

#[tokio::test]
async fn assembles_streamed_parallel_tool_calls() {
    let call = |delta: Value| {
        let chunk = json!({"choices": [{"index": 0, "delta": {"tool_calls": [delta]}, "finish_reason": null}]});
        format!("data: {chunk}\n\n")
    };
    let script = vec![
        call(
            json!({"index": 0, "id": "call_A", "type": "function", "function": {"name": "get_weather", "arguments": ""}}),
        ),
        call(json!({"index": 0, "function": {"arguments": "{\"city\":"}})),
        call(
            json!({"index": 1, "id": "call_B", "type": "function", "function": {"name": "get_time", "arguments": ""}}),
        ),
        call(json!({"index": 0, "function": {"arguments": "\"Paris\"}"}})),
        call(json!({"index": 1, "function": {"arguments": "{}"}})),
        finish_chunk("tool_calls"),
        usage_chunk(50, 20),
        "data: [DONE]\n\n".into(),
    ];
    let fake = FakeUpstream::start(vec![Reply::Sse(script)]).await;
    let completion = collect(model(fake.config()).stream(hello_request()).await.unwrap())
        .await
        .unwrap();
    assert_eq!(completion.finish_reason, FinishReason::ToolCalls);
    let calls: Vec<(&str, &str, &str)> = completion
        .tool_calls
        .iter()
        .map(|c| (c.id.as_str(), c.name.as_str(), c.arguments.as_str()))
        .collect();
    assert_eq!(
        calls,
        [
            ("call_A", "get_weather", r#"{"city":"Paris"}"#),
            ("call_B", "get_time", "{}")
        ]
    );
    assert_eq!(completion.usage.total_tokens, 70);
}

#[tokio::test]
async fn an_error_object_inside_the_stream_is_reported_after_the_text_so_far() {
    let error_chunk =
        r#"data: {"error":{"message":"The model is overloaded","type":"server_error"}}"#;
    let fake = FakeUpstream::start(vec![Reply::Sse(vec![
        text_chunk("Partial"),
        format!("{error_chunk}\n\n"),
    ])])
    .await;
    let events = events_of(&model(fake.config()), hello_request()).await;
    assert_eq!(events[0], Ok(ChatEvent::TextDelta("Partial".into())));
    let error = events[1].clone().unwrap_err();
    assert_eq!(error.code(), "server_error");
    assert!(
        error.message.contains("The model is overloaded"),
        "{}",
        error.message
    );
    assert_eq!(events.len(), 2);
    assert_eq!(fake.hits(), 1);
}

#[tokio::test]
async fn an_upstream_that_stalls_mid_answer_times_out_without_retry() {
    let fake = FakeUpstream::start(vec![Reply::SseThenStall(vec![text_chunk("Hi")])]).await;
    let mut config = fake.config();
    // Long enough that a busy machine still gets "Hi" out before it; short enough
    // to keep the test quick.
    config.idle_timeout = Duration::from_millis(1000);
    let events = events_of(&model(config), hello_request()).await;
    assert_eq!(events[0], Ok(ChatEvent::TextDelta("Hi".into())));
    let error = events[1].clone().unwrap_err();
    assert!(
        error.message.contains("sent nothing for"),
        "{}",
        error.message
    );
    assert_eq!(events.len(), 2);
    assert_eq!(fake.hits(), 1, "no retry once text was forwarded");
}

#[tokio::test]
async fn a_connection_cut_mid_answer_is_reported_without_retry() {
    let fake = FakeUpstream::start(vec![
        Reply::SseThenCutOnSignal(vec![text_chunk("Hi"), text_chunk(" there")]),
        Reply::Sse(hello_stream()),
    ])
    .await;
    let mut stream = model(fake.config()).stream(hello_request()).await.unwrap();
    assert_eq!(
        stream.next().await,
        Some(Ok(ChatEvent::TextDelta("Hi".into())))
    );
    assert_eq!(
        stream.next().await,
        Some(Ok(ChatEvent::TextDelta(" there".into())))
    );
    fake.cut_now();
    let error = stream.next().await.unwrap().unwrap_err();
    assert_eq!(error.code(), "server_error");
    assert!(
        error.message.contains("broke mid-answer"),
        "{}",
        error.message
    );
    assert_eq!(stream.next().await, None);
    assert_eq!(fake.hits(), 1);
}

#[tokio::test]
async fn a_connection_cut_before_any_output_is_retried() {
    let role_only = r#"data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#;
    let fake = FakeUpstream::start(vec![
        Reply::SseThenCut(vec![format!("{role_only}\n\n")]),
        Reply::Sse(hello_stream()),
    ])
    .await;
    let completion = collect(model(fake.config()).stream(hello_request()).await.unwrap())
        .await
        .unwrap();
    assert_eq!(completion.text, "Hello world");
    assert_eq!(fake.hits(), 2);
}

#[tokio::test]
async fn a_clean_end_without_finish_reason_is_a_server_error() {
    let fake = FakeUpstream::start(vec![Reply::Sse(vec![text_chunk("Hi")])]).await;
    let mut config = fake.config();
    config.retry.max_retries = 0;
    let events = events_of(&model(config), hello_request()).await;
    let error = events.last().unwrap().clone().unwrap_err();
    assert!(
        error.message.contains("before the answer finished"),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn dropping_the_stream_closes_the_upstream_connection() {
    let fake = FakeUpstream::start(vec![Reply::SseForever(vec![text_chunk("Hi")])]).await;
    let mut stream = model(fake.config()).stream(hello_request()).await.unwrap();
    assert_eq!(
        stream.next().await,
        Some(Ok(ChatEvent::TextDelta("Hi".into())))
    );
    assert!(!fake.was_closed.load(std::sync::atomic::Ordering::SeqCst));
    drop(stream);
    // A hang guard only: the signal arrives as soon as the fake's next write fails.
    tokio::time::timeout(Duration::from_secs(20), fake.closed.notified())
        .await
        .expect("the upstream body was never dropped");
    assert!(fake.was_closed.load(std::sync::atomic::Ordering::SeqCst));
}

#[tokio::test]
async fn a_whole_json_completion_is_accepted_in_place_of_a_stream() {
    let body = json!({"id": "chatcmpl-1", "object": "chat.completion",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Whole answer"}, "finish_reason": "length"}]});
    let fake = FakeUpstream::start(vec![Reply::Status(200, vec![], body.to_string())]).await;
    let completion = collect(model(fake.config()).stream(hello_request()).await.unwrap())
        .await
        .unwrap();
    assert_eq!(completion.text, "Whole answer");
    assert_eq!(completion.finish_reason, FinishReason::Length);
    assert!(completion.usage.estimated);
}

#[tokio::test]
async fn a_cut_after_the_finish_reason_still_completes_with_local_usage() {
    let fake = FakeUpstream::start(vec![Reply::SseThenCutOnSignal(vec![
        text_chunk("Done"),
        finish_chunk("stop"),
    ])])
    .await;
    let mut stream = model(fake.config()).stream(hello_request()).await.unwrap();
    assert_eq!(
        stream.next().await,
        Some(Ok(ChatEvent::TextDelta("Done".into())))
    );
    fake.cut_now();
    assert_eq!(
        stream.next().await,
        Some(Ok(ChatEvent::Finish(FinishReason::Stop)))
    );
    let Some(Ok(ChatEvent::Usage(usage))) = stream.next().await else {
        panic!("usage expected")
    };
    assert!(usage.estimated);
    assert_eq!(
        usage.completion_tokens,
        tokens::count_text("gpt-4o-mini", "Done")
    );
    assert_eq!(stream.next().await, None);
    assert_eq!(fake.hits(), 1);
}
