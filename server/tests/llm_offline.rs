//! The offline deterministic model, rule by rule: quoting the user, forced and named
//! tool calls (parallel or not), `none`, tool-output quoting, token limits, JSON
//! formats, streaming shape, usage, delays and the extension point for extra rules.

/// Named `llm` so that `cargo test -p server llm` selects these tests.
mod llm {
    use std::sync::Arc;
    use std::time::Duration;

    use futures::StreamExt;
    use rstest::rstest;
    use serde_json::{json, Value};
    use server::llm::offline::rules::{OfflineRule, Plan, PlannedCall};
    use server::llm::{
        complete, tokens, ChatEvent, ChatMessage, ChatModel, ChatRequest, FinishReason,
        FunctionTool, LlmError, OfflineModel, ResponseFormat, ToolCall, ToolChoice,
    };

    fn tool(name: &str, parameters: Value) -> FunctionTool {
        FunctionTool {
            name: name.into(),
            description: Some(format!("{name} for tests")),
            parameters: Some(parameters),
            strict: None,
        }
    }

    fn weather_tools() -> Vec<FunctionTool> {
        vec![
            tool(
                "get_weather",
                json!({"type": "object", "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                "required": ["city", "unit"]}),
            ),
            tool("get_time", json!({"type": "object", "properties": {}})),
            tool("get_news", json!({})),
        ]
    }

    fn asking(text: &str) -> ChatRequest {
        ChatRequest {
            model: "gpt-4o".into(),
            messages: vec![
                ChatMessage::system("You are terse."),
                ChatMessage::user(text),
            ],
            tools: weather_tools(),
            ..ChatRequest::default()
        }
    }

    async fn run(request: ChatRequest) -> server::llm::ChatCompletion {
        complete(&OfflineModel::new(), request).await.unwrap()
    }

    async fn events(request: ChatRequest) -> Vec<ChatEvent> {
        let stream = OfflineModel::new().stream(request).await.unwrap();
        stream.map(Result::unwrap).collect().await
    }

    fn names(completion: &server::llm::ChatCompletion) -> Vec<&str> {
        completion
            .tool_calls
            .iter()
            .map(|c| c.name.as_str())
            .collect()
    }

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
    async fn the_latest_user_message_is_the_one_quoted() {
        let mut request = asking("first");
        request
            .messages
            .push(ChatMessage::assistant("You said: \"first\""));
        request.messages.push(ChatMessage::user("second"));
        assert_eq!(run(request).await.text, "You said: \"second\"");
    }

    #[tokio::test]
    async fn with_no_user_message_it_says_so() {
        let request = ChatRequest {
            model: "anything-at-all".into(),
            messages: vec![ChatMessage::system("instructions only")],
            ..ChatRequest::default()
        };
        assert_eq!(
            run(request).await.text,
            "There is no user message to answer."
        );
    }

    #[rstest]
    #[case::all_by_default(None, &["get_weather", "get_time"])]
    #[case::all_when_parallel(Some(true), &["get_weather", "get_time"])]
    #[case::first_when_not_parallel(Some(false), &["get_weather"])]
    #[tokio::test]
    async fn auto_calls_the_functions_named_as_words_in_tool_order(
        #[case] parallel: Option<bool>,
        #[case] expected: &[&str],
    ) {
        let mut request = asking("Please use get_time, then get_weather.");
        request.parallel_tool_calls = parallel;
        let completion = run(request).await;
        assert_eq!(names(&completion), expected);
        assert_eq!(completion.finish_reason, FinishReason::ToolCalls);
        assert_eq!(completion.text, "");
    }

    #[rstest]
    #[case::substring("call xget_weather now")]
    #[case::longer_word("get_weathers please")]
    #[case::other_case("GET_WEATHER please")]
    #[case::no_tool_words("how is the weather?")]
    #[tokio::test]
    async fn auto_ignores_names_that_are_not_whole_words(#[case] text: &str) {
        let completion = run(asking(text)).await;
        assert!(completion.tool_calls.is_empty(), "{text}");
        assert_eq!(completion.text, format!("You said: \"{text}\""));
    }

    #[tokio::test]
    async fn tool_choice_none_never_calls() {
        let mut request = asking("get_weather please");
        request.tool_choice = ToolChoice::None;
        assert!(run(request).await.tool_calls.is_empty());
    }

    #[tokio::test]
    async fn a_named_tool_choice_calls_that_function_whatever_the_message() {
        let mut request = asking("hello");
        request.tool_choice = ToolChoice::Function("get_weather".into());
        let completion = run(request).await;
        assert_eq!(names(&completion), ["get_weather"]);
        let arguments: Value = serde_json::from_str(&completion.tool_calls[0].arguments).unwrap();
        assert_eq!(arguments, json!({"city": "", "unit": "celsius"}));
    }

    #[tokio::test]
    async fn required_calls_the_first_function_tool() {
        let mut request = asking("get_time please");
        request.tool_choice = ToolChoice::Required;
        assert_eq!(names(&run(request).await), ["get_weather"]);
    }

    #[rstest]
    #[case::unknown_name(ToolChoice::Function("launch".into()), weather_tools(), "'launch', which is not among the tools")]
    #[case::required_without_tools(ToolChoice::Required, vec![], "no function tools")]
    #[tokio::test]
    async fn impossible_tool_choices_are_invalid_prompts(
        #[case] choice: ToolChoice,
        #[case] tools: Vec<FunctionTool>,
        #[case] wording: &str,
    ) {
        let mut request = asking("hi");
        request.tool_choice = choice;
        request.tools = tools;
        let error: LlmError = OfflineModel::new().stream(request).await.err().unwrap();
        assert_eq!(error.code(), "invalid_prompt");
        assert!(error.message.contains(wording), "{}", error.message);
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
    async fn after_tool_outputs_it_quotes_each_output_even_with_a_forced_tool_choice() {
        let mut request = asking("get_weather in two cities");
        request.tool_choice = ToolChoice::Required;
        request
            .messages
            .push(ChatMessage::assistant_tool_calls(vec![
                ToolCall {
                    id: "call_1".into(),
                    name: "get_weather".into(),
                    arguments: "{}".into(),
                },
                ToolCall {
                    id: "call_2".into(),
                    name: "get_time".into(),
                    arguments: "{}".into(),
                },
            ]));
        request.messages.push(ChatMessage::tool("call_1", "rainy"));
        request.messages.push(ChatMessage::tool("call_2", "noon"));
        let completion = run(request).await;
        assert_eq!(
            completion.text,
            "get_weather returned \"rainy\". get_time returned \"noon\"."
        );
        assert_eq!(completion.finish_reason, FinishReason::Stop);
        assert!(completion.tool_calls.is_empty());
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

    /// A stand-in for issue 4's file_search rule.
    #[derive(Debug)]
    struct SearchOnQuestions;

    impl OfflineRule for SearchOnQuestions {
        fn plan(&self, request: &ChatRequest) -> Result<Option<Plan>, LlmError> {
            let asks = server::llm::offline::rules::latest_user_text(request)
                .is_some_and(|t| t.ends_with('?'));
            Ok(asks.then(|| {
                Plan::Call(vec![PlannedCall {
                    name: "file_search".into(),
                    arguments: json!({"query": "q"}),
                }])
            }))
        }
    }

    #[tokio::test]
    async fn extra_rules_come_after_forced_choices_and_before_name_matching() {
        let model = OfflineModel::new().with_rule(Arc::new(SearchOnQuestions));
        let searched = complete(&model, asking("get_weather?")).await.unwrap();
        assert_eq!(names(&searched), ["file_search"]);

        let mut forced = asking("get_weather?");
        forced.tool_choice = ToolChoice::Function("get_time".into());
        assert_eq!(
            names(&complete(&model, forced).await.unwrap()),
            ["get_time"]
        );

        let plain = complete(&model, asking("get_weather")).await.unwrap();
        assert_eq!(names(&plain), ["get_weather"]);
    }

    #[tokio::test]
    async fn plans_are_deterministic() {
        let model = OfflineModel::new();
        let request = asking("get_weather and get_news");
        assert_eq!(model.plan(&request).unwrap(), model.plan(&request).unwrap());
        let first = run(request.clone()).await;
        let second = run(request).await;
        assert_eq!((&first.text, first.usage), (&second.text, second.usage));
        let arguments = |c: &server::llm::ChatCompletion| -> Vec<String> {
            c.tool_calls.iter().map(|t| t.arguments.clone()).collect()
        };
        assert_eq!(arguments(&first), arguments(&second));
    }
}
