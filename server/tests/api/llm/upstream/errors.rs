//! The upstream client's retries and error mapping: 429 with and without Retry-After,
//! 5xx, 400 → invalid_prompt, 401/404, garbled streams, silent and unreachable upstreams.

use std::time::Duration;

use crate::support::llm::{hello_request, hello_stream, model, FakeUpstream, Reply};

use rstest::rstest;

use server::llm::retry::RetryPolicy;
use server::llm::{collect, ChatModel, LlmErrorKind, UpstreamConfig};

#[tokio::test]
async fn a_429_is_retried_after_the_upstreams_retry_after() {
    let limited = Reply::Status(
    429,
    vec![("retry-after", "0.01".into())],
    r#"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#.into(),
);
    let fake = FakeUpstream::start(vec![limited, Reply::Sse(hello_stream())]).await;
    let mut config = fake.config();
    // Our own backoff would exceed the overall limit: only the upstream's short
    // Retry-After lets the retry happen at all.
    config.retry.initial_backoff = Duration::from_secs(120);
    config.retry.max_backoff = Duration::from_secs(120);
    config.overall_timeout = Duration::from_secs(30);
    let completion = collect(model(config).stream(hello_request()).await.unwrap())
        .await
        .unwrap();
    assert_eq!(completion.text, "Hello world");
    assert_eq!(fake.hits(), 2);
}

#[tokio::test]
async fn a_429_without_retry_after_falls_back_to_backoff_and_gives_up_with_rate_limit_exceeded() {
    let limited = Reply::Status(
        429,
        vec![],
        r#"{"error":{"message":"Rate limit reached"}}"#.into(),
    );
    let fake = FakeUpstream::start(vec![limited]).await;
    let error = model(fake.config())
        .stream(hello_request())
        .await
        .err()
        .unwrap();
    assert_eq!(error.kind, LlmErrorKind::RateLimitExceeded);
    assert_eq!(error.code(), "rate_limit_exceeded");
    assert!(
        error.message.starts_with("Rate limit reached"),
        "{}",
        error.message
    );
    assert_eq!(fake.hits(), 3, "one attempt and two retries");
}

#[tokio::test]
async fn a_500_then_success_is_retried() {
    let failed = Reply::Status(
        500,
        vec![],
        r#"{"error":{"message":"The server had an error"}}"#.into(),
    );
    let fake = FakeUpstream::start(vec![failed, Reply::Sse(hello_stream())]).await;
    let completion = collect(model(fake.config()).stream(hello_request()).await.unwrap())
        .await
        .unwrap();
    assert_eq!(completion.text, "Hello world");
    assert_eq!(fake.hits(), 2);
}

#[rstest]
#[case(500)]
#[case(502)]
#[case(503)]
#[tokio::test]
async fn persistent_5xx_ends_as_server_error_after_the_configured_retries(#[case] status: u16) {
    let fake = FakeUpstream::start(vec![Reply::Status(
        status,
        vec![],
        "<html>bad gateway</html>".into(),
    )])
    .await;
    let mut config = fake.config();
    config.retry.max_retries = 4;
    let error = model(config).stream(hello_request()).await.err().unwrap();
    assert_eq!(error.kind, LlmErrorKind::ServerError);
    assert_eq!(error.status, Some(status));
    assert!(
        error.message.contains("gave up after 5 attempts"),
        "{}",
        error.message
    );
    assert!(error.message.contains("bad gateway"), "{}", error.message);
    assert_eq!(fake.hits(), 5);
}

#[tokio::test]
async fn a_400_is_invalid_prompt_with_the_upstream_message_and_no_retry() {
    let body = r#"{"error":{"message":"Invalid schema for function 'f': 'additionalProperties' is required to be supplied and to be false.","type":"invalid_request_error","param":"tools[0].function.parameters","code":"invalid_function_parameters"}}"#;
    let fake = FakeUpstream::start(vec![Reply::Status(400, vec![], body.into())]).await;
    let error = model(fake.config())
        .stream(hello_request())
        .await
        .err()
        .unwrap();
    assert_eq!(error.code(), "invalid_prompt");
    assert_eq!(
    error.message,
    "Invalid schema for function 'f': 'additionalProperties' is required to be supplied and to be false."
);
    assert!(!error.retryable);
    assert_eq!(fake.hits(), 1);
}

#[rstest]
#[case(401, "refused the API key")]
#[case(404, "no such model")]
#[tokio::test]
async fn auth_and_not_found_are_final_server_errors(#[case] status: u16, #[case] wording: &str) {
    let fake = FakeUpstream::start(vec![Reply::Status(
        status,
        vec![],
        r#"{"error":{"message":"nope"}}"#.into(),
    )])
    .await;
    let error = model(fake.config())
        .stream(hello_request())
        .await
        .err()
        .unwrap();
    assert_eq!(error.code(), "server_error");
    assert!(
        error.message.contains(wording) && error.message.contains("nope"),
        "{}",
        error.message
    );
    assert_eq!(fake.hits(), 1);
}

#[rstest]
#[case::not_json("data: {\"choices\": [ oops\n\n")]
#[case::not_an_object("data: [1,2]\n\n")]
#[case::bad_usage("data: {\"choices\":[],\"usage\":\"lots\"}\n\n")]
#[tokio::test]
async fn garbled_streams_are_server_errors_without_retry(#[case] garbage: &str) {
    let fake = FakeUpstream::start(vec![Reply::Sse(vec![garbage.into()])]).await;
    let error = collect(model(fake.config()).stream(hello_request()).await.unwrap())
        .await
        .err()
        .unwrap();
    assert_eq!(error.code(), "server_error");
    assert!(
        error.message.contains("the upstream sent"),
        "{}",
        error.message
    );
    assert_eq!(fake.hits(), 1);
}

#[tokio::test]
async fn an_upstream_that_never_answers_times_out_and_is_retried() {
    let fake = FakeUpstream::start(vec![Reply::Silence]).await;
    let mut config = fake.config();
    config.idle_timeout = Duration::from_millis(100);
    config.retry.max_retries = 1;
    let error = model(config).stream(hello_request()).await.err().unwrap();
    assert_eq!(error.code(), "server_error");
    assert!(
        error.message.contains("did not answer within"),
        "{}",
        error.message
    );
    assert_eq!(fake.hits(), 2);
}

#[tokio::test]
async fn an_unreachable_upstream_is_a_retryable_server_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let config = UpstreamConfig {
        base_url: format!("http://{address}/v1"),
        retry: RetryPolicy {
            max_retries: 1,
            initial_backoff: Duration::from_millis(1),
            ..RetryPolicy::default()
        },
        ..UpstreamConfig::default()
    };
    let error = model(config).stream(hello_request()).await.err().unwrap();
    assert_eq!(error.code(), "server_error");
    assert!(error.retryable);
    assert!(
        error.message.contains("cannot reach the upstream"),
        "{}",
        error.message
    );
    assert!(
        error.message.contains("gave up after 2 attempts"),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn an_html_page_is_named_as_a_wrong_base_url_without_retry() {
    let fake = FakeUpstream::start(vec![Reply::Html("<html>Welcome</html>".into())]).await;
    let error = model(fake.config())
        .stream(hello_request())
        .await
        .err()
        .unwrap();
    assert_eq!(error.code(), "server_error");
    assert!(error.message.contains("HTML page"), "{}", error.message);
    assert!(error.message.contains("base URL"), "{}", error.message);
    assert_eq!(fake.hits(), 1);
}
