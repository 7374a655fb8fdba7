//! Token counting with tiktoken-rs, the way OpenAI bills: for usage the offline model
//! reports and for upstreams that report none. Messages follow OpenAI's cookbook
//! (3 tokens per message, the role, the content, 3 to prime the reply); tool
//! definitions follow the cookbook's estimate for function definitions.

use serde_json::Value;
use tiktoken_rs::CoreBPE;

use super::request::{ChatRequest, ContentPart, FunctionTool, ResponseFormat, ToolCall};

/// Framing tokens around every message.
const TOKENS_PER_MESSAGE: u32 = 3;
/// Tokens priming the assistant's reply.
const REPLY_PRIMING: u32 = 3;
/// Extra tokens per tool call in an answer (cookbook).
const TOKENS_PER_TOOL_CALL: u32 = 1;
/// Extra tokens per earlier tool call replayed in the prompt, fitted to recorded usage
/// (OpenAI renders each as a `functions.NAME` call with framing).
const TOKENS_PER_REPLAYED_CALL: u32 = 10;
/// Extra tokens when one earlier turn made several calls (OpenAI wraps them in a
/// `multi_tool_use.parallel` call), fitted to recorded usage.
const TOKENS_PER_PARALLEL_WRAPPER: u32 = 10;
/// Cost of an image at `low` detail, used for every image since sizes are unknown here.
const TOKENS_PER_IMAGE: u32 = 85;
/// Tokens framing a `json_schema` response format, fitted to recorded usage.
const RESPONSE_SCHEMA_FRAMING: u32 = 4;
/// Cookbook constants for function definitions (gpt-4o family).
const FUNCTION_INIT: i64 = 7;
const PROPERTIES_INIT: i64 = 3;
const PROPERTY_KEY: i64 = 3;
const ENUM_INIT: i64 = -3;
const ENUM_ITEM: i64 = 3;
const FUNCTIONS_END: i64 = 12;

/// The tokenizer of `model`, or `o200k_base` (today's models) for names tiktoken does
/// not know (local models, the offline model's arbitrary names).
pub fn tokenizer_for(model: &str) -> &'static CoreBPE {
    tiktoken_rs::bpe_for_model(model).unwrap_or_else(|_| tiktoken_rs::o200k_base_singleton())
}

/// Tokens of a piece of text.
pub fn count_text(model: &str, text: &str) -> u32 {
    saturate(tokenizer_for(model).encode_with_special_tokens(text).len())
}

/// Tokens of the whole prompt: every message, the tool definitions and the reply priming.
pub fn count_prompt(request: &ChatRequest) -> u32 {
    let bpe = tokenizer_for(&request.model);
    let count = |text: &str| saturate(bpe.encode_with_special_tokens(text).len());
    let mut total = REPLY_PRIMING;
    for message in &request.messages {
        total += TOKENS_PER_MESSAGE + count(message.role.as_str());
        // Text parts are counted as one text, as OpenAI bills them.
        total += count(&message.text());
        let images = message
            .content
            .iter()
            .filter(|part| matches!(part, ContentPart::ImageUrl { .. }))
            .count();
        total += saturate(images) * TOKENS_PER_IMAGE;
        for call in &message.tool_calls {
            total += count(&call.name) + count(&call.arguments) + TOKENS_PER_REPLAYED_CALL;
        }
        if message.tool_calls.len() > 1 {
            total += TOKENS_PER_PARALLEL_WRAPPER;
        }
    }
    if let ResponseFormat::JsonSchema {
        name,
        description,
        schema,
        ..
    } = &request.response_format
    {
        total += RESPONSE_SCHEMA_FRAMING + count(name);
        total += description.as_deref().map_or(0, count);
        total += schema
            .as_ref()
            .map_or(0, |schema| count(&schema.to_string()));
    }
    total.saturating_add(count_tools(bpe, &request.tools))
}

/// Tokens of an answer: its text and its tool calls.
pub fn count_completion(model: &str, text: &str, tool_calls: &[ToolCall]) -> u32 {
    let bpe = tokenizer_for(model);
    let count = |text: &str| saturate(bpe.encode_with_special_tokens(text).len());
    let calls: u32 = tool_calls
        .iter()
        .map(|call| count(&call.name) + count(&call.arguments) + TOKENS_PER_TOOL_CALL)
        .sum();
    count(text) + calls
}

/// The cookbook's estimate for function definitions.
fn count_tools(bpe: &CoreBPE, tools: &[FunctionTool]) -> u32 {
    if tools.is_empty() {
        return 0;
    }
    let count = |text: &str| bpe.encode_with_special_tokens(text).len() as i64;
    let mut total = FUNCTIONS_END;
    for tool in tools {
        total += FUNCTION_INIT;
        let description = tool.description.as_deref().unwrap_or_default();
        total += count(&format!(
            "{}:{}",
            tool.name,
            description.trim_end_matches('.')
        ));
        let properties = tool
            .parameters
            .as_ref()
            .and_then(|schema| schema.get("properties"))
            .and_then(Value::as_object);
        let Some(properties) = properties.filter(|properties| !properties.is_empty()) else {
            continue;
        };
        total += PROPERTIES_INIT;
        for (name, property) in properties {
            total += PROPERTY_KEY;
            let kind = match property.get("type") {
                Some(Value::String(kind)) => kind.clone(),
                Some(other) => other.to_string(),
                None => "object".to_owned(),
            };
            let description = property
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if let Some(values) = property.get("enum").and_then(Value::as_array) {
                total += ENUM_INIT;
                for value in values {
                    let text = value
                        .as_str()
                        .map_or_else(|| value.to_string(), str::to_owned);
                    total += ENUM_ITEM + count(&text);
                }
            }
            total += count(&format!(
                "{name}:{kind}:{}",
                description.trim_end_matches('.')
            ));
        }
    }
    saturate(total.max(0) as usize)
}

fn saturate(count: usize) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::request::ChatMessage;

    #[test]
    fn hello_world_prompt_counts_like_openai() {
        // Recorded: "Hello, world!" to gpt-4o-mini billed 11 prompt tokens.
        let request = ChatRequest {
            model: "gpt-4o-mini".into(),
            messages: vec![ChatMessage::user("Hello, world!")],
            ..ChatRequest::default()
        };
        assert_eq!(count_prompt(&request), 11);
    }

    #[test]
    fn unknown_models_fall_back_to_o200k() {
        assert_eq!(
            count_text("my-local-llama", "hello world"),
            count_text("gpt-4o", "hello world")
        );
        assert_eq!(count_text("gpt-4o", ""), 0);
    }
}
