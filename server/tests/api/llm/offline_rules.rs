//! The offline model's decision rules one by one: quoting the user, tools named in
//! the message (parallel or not), `none`, named and `required` choices, impossible
//! choices, quoting tool outputs, extra rules (the file_search hook) and determinism.

use crate::support::llm::offline::{asking, names, run, weather_tools};
use std::sync::Arc;

use rstest::rstest;
use serde_json::{json, Value};
use server::llm::offline::rules::{OfflineRule, Plan, PlannedCall};
use server::llm::{
    complete, ChatMessage, ChatModel, ChatRequest, FinishReason, FunctionTool, LlmError,
    OfflineModel, ToolCall, ToolChoice,
};

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
                arguments: json!({"query": "q"}).into(),
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
