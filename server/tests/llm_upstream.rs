//! The upstream Chat Completions client against a scripted local fake upstream:
//! streaming, tolerant framing, retries (429 with Retry-After, 5xx), error mapping
//! (400, garbled, timeouts, cuts), abort on drop, credentials and the request body.

mod llm_support;

/// Named `llm` so that `cargo test -p server llm` selects these tests.
mod llm {

    use std::time::Duration;

    use crate::llm_support::{
        finish_chunk, hello_stream, text_chunk, usage_chunk, FakeUpstream, Reply,
    };
    use futures::StreamExt;
    use rstest::rstest;
    use serde_json::{json, Value};
    use server::llm::config::AuthHeader;
    use server::llm::retry::RetryPolicy;
    use server::llm::{
        collect, tokens, ChatEvent, ChatMessage, ChatModel, ChatRequest, FinishReason,
        FunctionTool, LlmErrorKind, ResponseFormat, ToolChoice, UpstreamConfig,
        UpstreamCredentials, UpstreamModel, Usage,
    };

    fn hello_request() -> ChatRequest {
        ChatRequest {
            model: "gpt-4o-mini".into(),
            messages: vec![
                ChatMessage::system("Be brief."),
                ChatMessage::user("Hello, world!"),
            ],
            ..ChatRequest::default()
        }
    }

    fn model(config: UpstreamConfig) -> UpstreamModel {
        UpstreamModel::new(config).unwrap()
    }

    async fn events_of(
        model: &UpstreamModel,
        request: ChatRequest,
    ) -> Vec<Result<ChatEvent, server::llm::LlmError>> {
        model.stream(request).await.unwrap().collect().await
    }

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
            format!(
                r#"{{"choices":[{{"index":0,"delta":{{"content":"{t}"}},"finish_reason":null}}]}}"#
            )
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
    async fn a_429_without_retry_after_falls_back_to_backoff_and_gives_up_with_rate_limit_exceeded()
    {
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
    async fn auth_and_not_found_are_final_server_errors(
        #[case] status: u16,
        #[case] wording: &str,
    ) {
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
    async fn an_upstream_that_stalls_mid_answer_times_out_without_retry() {
        let fake = FakeUpstream::start(vec![Reply::SseThenStall(vec![text_chunk("Hi")])]).await;
        let mut config = fake.config();
        config.idle_timeout = Duration::from_millis(100);
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
    async fn keys_follow_header_then_operator_then_caller_bearer() {
        let fake = FakeUpstream::start(vec![Reply::Sse(hello_stream())]).await;
        let mut request = hello_request();
        request.credentials = UpstreamCredentials {
            api_key: Some("sk-header".into()),
            caller_bearer: Some("sk-caller".into()),
            base_url: None,
        };
        collect(model(fake.config()).stream(request.clone()).await.unwrap())
            .await
            .unwrap();
        assert_eq!(
            fake.header(0, "authorization").as_deref(),
            Some("Bearer sk-header")
        );

        request.credentials.api_key = None;
        collect(model(fake.config()).stream(request.clone()).await.unwrap())
            .await
            .unwrap();
        assert_eq!(
            fake.header(1, "authorization").as_deref(),
            Some("Bearer sk-test")
        );

        let mut no_key = fake.config();
        no_key.api_key = None;
        collect(model(no_key.clone()).stream(request.clone()).await.unwrap())
            .await
            .unwrap();
        assert_eq!(
            fake.header(2, "authorization").as_deref(),
            Some("Bearer sk-caller")
        );

        request.credentials.caller_bearer = None;
        collect(model(no_key.clone()).stream(request.clone()).await.unwrap())
            .await
            .unwrap();
        assert_eq!(fake.header(3, "authorization"), None);

        let mut azure = fake.config();
        azure.auth_header = AuthHeader::Named("api-key".into());
        azure.base_url = format!("{}?api-version=2024-10-21", fake.base_url);
        collect(model(azure).stream(hello_request()).await.unwrap())
            .await
            .unwrap();
        assert_eq!(fake.header(4, "api-key").as_deref(), Some("sk-test"));
        assert_eq!(fake.header(4, "authorization"), None);
    }

    #[tokio::test]
    async fn caller_chosen_upstream_urls_need_the_operators_permission() {
        let operator = FakeUpstream::start(vec![Reply::Sse(hello_stream())]).await;
        let caller = FakeUpstream::start(vec![Reply::Sse(hello_stream())]).await;
        let mut request = hello_request();
        request.credentials.base_url = Some(caller.base_url.clone());

        let refusing = model(operator.config());
        let error = refusing
            .check_credentials(&request.credentials)
            .unwrap_err();
        assert!(
            error.message.contains("--allow-caller-upstream-urls"),
            "{}",
            error.message
        );
        assert!(refusing.stream(request.clone()).await.is_err());
        assert_eq!((operator.hits(), caller.hits()), (0, 0));

        let mut allowing = operator.config();
        allowing.allow_caller_base_urls = true;
        collect(model(allowing).stream(request).await.unwrap())
            .await
            .unwrap();
        assert_eq!((operator.hits(), caller.hits()), (0, 1));
    }

    #[tokio::test]
    async fn tools_formats_sampling_and_extra_params_reach_the_body() {
        let fake = FakeUpstream::start(vec![Reply::Sse(hello_stream())]).await;
        let mut extra = serde_json::Map::new();
        extra.insert("seed".into(), server::llm::request::parse_extra_param("7"));
        extra.insert("stream".into(), json!(false));
        extra.insert(
            "user".into(),
            server::llm::request::parse_extra_param("alice"),
        );
        let request = ChatRequest {
            model: "llama3".into(),
            messages: vec![
                ChatMessage::user("weather?"),
                ChatMessage::assistant_tool_calls(vec![server::llm::ToolCall {
                    id: "call_1".into(),
                    name: "get_weather".into(),
                    arguments: "{}".into(),
                }]),
                ChatMessage::tool("call_1", "sunny"),
            ],
            tools: vec![FunctionTool {
                name: "get_weather".into(),
                description: Some("Weather now".into()),
                parameters: Some(json!({"type": "object", "properties": {}})),
                strict: Some(false),
            }],
            tool_choice: ToolChoice::Function("get_weather".into()),
            parallel_tool_calls: Some(false),
            response_format: ResponseFormat::JsonSchema {
                name: "answer".into(),
                description: None,
                schema: Some(json!({"type": "object"})),
                strict: Some(true),
            },
            temperature: Some(0.5),
            top_p: Some(1.0),
            max_completion_tokens: Some(64),
            extra,
            credentials: UpstreamCredentials::default(),
        };
        let mut config = fake.config();
        config.max_tokens_param = "max_tokens".into();
        collect(model(config).stream(request).await.unwrap())
            .await
            .unwrap();
        assert_eq!(
            fake.body(0),
            json!({
                "model": "llama3",
                "messages": [
                    {"role": "user", "content": "weather?"},
                    {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
                        "function": {"name": "get_weather", "arguments": "{}"}}]},
                    {"role": "tool", "content": "sunny", "tool_call_id": "call_1"}
                ],
                "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather now",
                    "parameters": {"type": "object", "properties": {}}, "strict": false}}],
                "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
                "parallel_tool_calls": false,
                "response_format": {"type": "json_schema", "json_schema": {"name": "answer", "schema": {"type": "object"}, "strict": true}},
                "temperature": 0.5,
                "top_p": 1.0,
                "max_tokens": 64,
                "stream": true,
                "stream_options": {"include_usage": true},
                "seed": 7,
                "user": "alice"
            })
        );
    }
}
