//! Rate limits and errors through every native fake, in each provider's documented
//! 429 body: Anthropic's `rate_limit_error` with a `retry-after` header
//! (<https://docs.anthropic.com/en/api/rate-limits>, <https://docs.anthropic.com/en/api/errors>),
//! Cohere's `{"message": ...}` (<https://docs.cohere.com/reference/errors>), Gemini's
//! `RESOURCE_EXHAUSTED` with a `google.rpc.RetryInfo` `retryDelay` detail
//! (<https://ai.google.dev/gemini-api/docs/troubleshooting>,
//! <https://cloud.google.com/apis/design/errors#error_details>) and Bedrock's
//! `ThrottlingException` `{"message": ...}`
//! (<https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html#API_runtime_ConverseStream_Errors>).
//! A short wait asked for is waited and the call repeated; a wait longer than the call's
//! time limit ends the call at once as `rate_limit_exceeded` (the server never retries
//! sooner than asked); a 400 is `invalid_prompt` and never repeated.

use std::time::Duration;

use serde_json::json;
use server::llm::providers::bedrock::BedrockModel;
use server::llm::providers::{Dialect, NativeModel};
use server::llm::{collect, ChatModel, ChatRequest, LlmErrorKind, UpstreamConfig};

use crate::support::llm::{hello_request, hello_stream, FakeUpstream, Reply};

/// One provider family: how to call the fake and what it answers.
struct Family {
    name: &'static str,
    /// The documented 429 body; `wait` is the delay it asks for in seconds.
    limited: fn(wait: u32) -> Reply,
    /// The documented 400 body.
    invalid: Reply,
    /// A complete successful answer.
    ok: Reply,
}

fn anthropic_error(kind: &str, message: &str) -> String {
    json!({"type": "error", "error": {"type": kind, "message": message}}).to_string()
}

fn families() -> Vec<Family> {
    let anthropic_ok = vec![
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n".to_owned(),
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello world\"}}\n\n".to_owned(),
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":2}}\n\n".to_owned(),
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n".to_owned(),
    ];
    let cohere_ok = vec![
        "event: content-delta\ndata: {\"type\":\"content-delta\",\"index\":0,\"delta\":{\"message\":{\"content\":{\"text\":\"Hello world\"}}}}\n\n".to_owned(),
        "event: message-end\ndata: {\"type\":\"message-end\",\"delta\":{\"finish_reason\":\"COMPLETE\"}}\n\n".to_owned(),
    ];
    let gemini_ok = vec![format!(
        "data: {}\r\n\r\n",
        json!({"candidates": [{"content": {"parts": [{"text": "Hello world"}], "role": "model"},
            "finishReason": "STOP", "index": 0}]})
    )];
    vec![
        Family {
            name: "anthropic",
            limited: |wait| {
                let body = anthropic_error("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit");
                Reply::Status(429, vec![("retry-after", wait.to_string())], body)
            },
            invalid: Reply::Status(400, vec![], anthropic_error("invalid_request_error", "max_tokens: Field required")),
            ok: Reply::Sse(anthropic_ok),
        },
        Family {
            name: "cohere",
            limited: |wait| {
                let body = json!({"message": "You are using a Trial key, which is limited to 10 API calls / minute."});
                Reply::Status(429, vec![("retry-after", wait.to_string())], body.to_string())
            },
            invalid: Reply::Status(400, vec![], json!({"message": "invalid request: message must be at least 1 token long"}).to_string()),
            ok: Reply::Sse(cohere_ok),
        },
        Family {
            name: "gemini",
            limited: |wait| {
                let body = json!({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED",
                    "message": "You exceeded your current quota, please check your plan and billing details.",
                    "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": format!("{wait}s")}]}});
                Reply::Status(429, vec![], body.to_string())
            },
            invalid: Reply::Status(400, vec![], json!({"error": {"code": 400, "status": "INVALID_ARGUMENT",
                "message": "* GenerateContentRequest.contents: contents is not specified"}}).to_string()),
            ok: Reply::Sse(gemini_ok),
        },
        Family {
            name: "bedrock",
            limited: |wait| {
                let body = json!({"message": "Too many requests, please wait before trying again."});
                Reply::Status(429, vec![("retry-after", wait.to_string())], body.to_string())
            },
            invalid: Reply::Status(400, vec![], json!({"message": "Malformed input request, please reformat your input and try again."}).to_string()),
            ok: super::bedrock::converse_stream(&["Hello world"], None, "end_turn"),
        },
        Family {
            name: "openai-compatible",
            limited: |wait| {
                let body = json!({"error": {"message": "Rate limit reached for requests", "type": "requests", "code": "rate_limit_exceeded"}});
                Reply::Status(429, vec![("retry-after", wait.to_string())], body.to_string())
            },
            invalid: Reply::Status(400, vec![], json!({"error": {"message": "messages: too long", "type": "invalid_request_error"}}).to_string()),
            ok: Reply::Sse(hello_stream()),
        },
    ]
}

/// The family's client against `fake`, whose calls may take `limit` in all.
fn client(family: &Family, fake: &FakeUpstream, limit: Duration) -> Box<dyn ChatModel> {
    let config = UpstreamConfig {
        overall_timeout: limit,
        ..fake.config()
    };
    match family.name {
        "anthropic" => Box::new(NativeModel::new(Dialect::Anthropic, config).unwrap()),
        "cohere" => Box::new(NativeModel::new(Dialect::Cohere, config).unwrap()),
        "gemini" => Box::new(NativeModel::new(Dialect::Gemini, config).unwrap()),
        "bedrock" => Box::new(BedrockModel::new(config, |_| None).unwrap()),
        _ => Box::new(server::llm::UpstreamModel::new(config).unwrap()),
    }
}

/// A plain request carrying AWS credentials (only Bedrock reads them).
fn request() -> ChatRequest {
    let mut request = hello_request();
    for (name, value) in super::support::AWS {
        let param = name.trim_start_matches("llm-param-").replace('-', "_");
        request
            .credentials
            .provider_params
            .insert(param, value.to_owned());
    }
    request
}

#[tokio::test]
async fn a_short_wait_asked_for_is_waited_and_the_call_repeated() {
    for family in families() {
        let fake = FakeUpstream::start(vec![(family.limited)(0), family.ok.clone()]).await;
        let model = client(&family, &fake, Duration::from_secs(60));
        let stream = model.stream(request()).await;
        let completion = collect(stream.unwrap_or_else(|e| panic!("{}: {e:?}", family.name)))
            .await
            .unwrap();
        assert_eq!(completion.text, "Hello world", "{}", family.name);
        assert_eq!(fake.hits(), 2, "{}", family.name);
    }
}

#[tokio::test]
async fn a_wait_longer_than_the_time_limit_ends_the_call_as_rate_limited() {
    for family in families() {
        let fake = FakeUpstream::start(vec![(family.limited)(30), family.ok.clone()]).await;
        let model = client(&family, &fake, Duration::from_secs(5));
        let error = model.stream(request()).await.err().unwrap();
        assert_eq!(
            error.kind,
            LlmErrorKind::RateLimitExceeded,
            "{}",
            family.name
        );
        assert_eq!(
            error.retry_after,
            Some(Duration::from_secs(30)),
            "{}",
            family.name
        );
        assert_eq!(
            fake.hits(),
            1,
            "{}: never retried sooner than asked",
            family.name
        );
    }
}

#[tokio::test]
async fn a_refused_request_is_an_invalid_prompt_and_not_repeated() {
    for family in families() {
        let fake = FakeUpstream::start(vec![family.invalid.clone(), family.ok.clone()]).await;
        let model = client(&family, &fake, Duration::from_secs(60));
        let error = model.stream(request()).await.err().unwrap();
        assert_eq!(error.kind, LlmErrorKind::InvalidPrompt, "{}", family.name);
        assert!(
            !error.message.is_empty() && !error.message.contains("wJalr"),
            "{}",
            family.name
        );
        assert_eq!(fake.hits(), 1, "{}", family.name);
    }
}
