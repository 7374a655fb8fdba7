//! Turns the offline model's [`Plan`] into the events a real model would stream:
//! word-sized text deltas (`"You"`, `" said:"`, ...), tool calls announced with id and
//! name then their arguments token by token, `max_completion_tokens` enforced by
//! cutting the output at the token limit (finish `length`), `json_object` /
//! `json_schema` answers, and usage counted with tiktoken.
//!
//! Every turn has an output budget, like a real model's output limit: at most
//! [`MAX_OUTPUT_TOKENS`] tokens (fewer when `max_completion_tokens` says so) and
//! [`BYTES_PER_TOKEN`] bytes per token of it. Synthesised JSON is generated within the
//! byte budget (checked while generating), then cut to the token budget; either cut
//! ends the turn with finish `length`.

use rand::distributions::Alphanumeric;
use rand::Rng;
use serde_json::json;
use tiktoken_rs::{CoreBPE, Rank};

use super::arguments::{arguments_within, synthesise, truncate_to_char_boundary};
use super::rules::{CallArguments, Plan, PlannedCall};
use crate::llm::event::{ChatEvent, FinishReason, ToolCallDelta, Usage};
use crate::llm::request::{ChatRequest, ResponseFormat, ToolCall};
use crate::llm::tokens;

/// Most tokens one offline turn produces (gpt-4o's output limit), whatever
/// `max_completion_tokens` asks for.
pub const MAX_OUTPUT_TOKENS: usize = 16_384;
/// Output bytes allowed per token of the budget: bounds generation before tokenising
/// (8 bytes is twice an average English token; text that packs more into a token,
/// such as long runs of one letter, is cut by this budget first).
pub const BYTES_PER_TOKEN: usize = 8;

/// What a turn may still produce.
#[derive(Debug, Clone, Copy)]
struct Budget {
    /// Tokens left.
    tokens: usize,
    /// Bytes left.
    bytes: usize,
}

impl Budget {
    fn of(request: &ChatRequest) -> Self {
        let tokens = request
            .max_completion_tokens
            .map_or(MAX_OUTPUT_TOKENS, |max| {
                (max as usize).min(MAX_OUTPUT_TOKENS)
            });
        Self {
            tokens,
            bytes: tokens * BYTES_PER_TOKEN,
        }
    }
}

/// Every event of the turn, ending with `Finish` and `Usage`.
pub(super) fn render(request: &ChatRequest, plan: Plan) -> Vec<ChatEvent> {
    let bpe = tokens::tokenizer_for(&request.model);
    let budget = Budget::of(request);
    let (mut events, finish, text, calls) = match plan {
        Plan::Reply(text) => {
            let (shaped, over) = shape(&text, &request.response_format, budget.bytes);
            let (text, cut) = limit(bpe, &shaped, Some(budget.tokens));
            let cut = cut || over;
            let events = word_pieces(&text)
                .into_iter()
                .map(ChatEvent::TextDelta)
                .collect();
            let finish = if cut {
                FinishReason::Length
            } else {
                FinishReason::Stop
            };
            (events, finish, text, Vec::new())
        }
        Plan::Call(planned) => {
            let (calls, cut) = limit_calls(bpe, planned, budget);
            let mut events = Vec::new();
            for (index, call) in calls.iter().enumerate() {
                events.push(ChatEvent::ToolCallDelta(ToolCallDelta {
                    index,
                    id: Some(call.id.clone()),
                    name: Some(call.name.clone()),
                    arguments: String::new(),
                }));
                for piece in token_pieces(bpe, &call.arguments) {
                    events.push(ChatEvent::ToolCallDelta(ToolCallDelta {
                        index,
                        id: None,
                        name: None,
                        arguments: piece,
                    }));
                }
            }
            let finish = if cut {
                FinishReason::Length
            } else {
                FinishReason::ToolCalls
            };
            (events, finish, String::new(), calls)
        }
    };
    let prompt_tokens = tokens::count_prompt(request);
    let completion_tokens = tokens::count_completion(&request.model, &text, &calls);
    events.push(ChatEvent::Finish(finish));
    events.push(ChatEvent::Usage(Usage {
        estimated: false,
        ..Usage::estimated(prompt_tokens, completion_tokens)
    }));
    events
}

/// A fresh `call_` id: the prefix and 24 base62 characters, like OpenAI's.
pub fn new_call_id() -> String {
    let random: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(24)
        .map(char::from)
        .collect();
    format!("call_{random}")
}

/// The reply text in the requested format, within `max_bytes`; `true` when cut.
fn shape(text: &str, format: &ResponseFormat, max_bytes: usize) -> (String, bool) {
    let mut shaped = match format {
        ResponseFormat::Text => text.to_owned(),
        ResponseFormat::JsonObject | ResponseFormat::JsonSchema { schema: None, .. } => {
            json!({ "reply": text }).to_string()
        }
        ResponseFormat::JsonSchema {
            schema: Some(schema),
            ..
        } => return synthesise(schema, max_bytes).into_text(),
    };
    let cut = shaped.len() > max_bytes;
    truncate_to_char_boundary(&mut shaped, max_bytes);
    (shaped, cut)
}

/// `text` cut to at most `budget` tokens; `true` when it was cut.
fn limit(bpe: &CoreBPE, text: &str, budget: Option<usize>) -> (String, bool) {
    let encoded = bpe.encode_with_special_tokens(text);
    match budget {
        Some(budget) if encoded.len() > budget => (token_prefix(bpe, &encoded[..budget]), true),
        _ => (text.to_owned(), false),
    }
}

/// The planned calls as they fit in the budget (each call costs its name, one token
/// of framing and its arguments); `true` when something was cut.
fn limit_calls(
    bpe: &CoreBPE,
    planned: Vec<PlannedCall>,
    mut budget: Budget,
) -> (Vec<ToolCall>, bool) {
    let mut calls = Vec::new();
    for call in planned {
        let overhead = bpe.encode_with_special_tokens(&call.name).len() + 1;
        if budget.tokens < overhead {
            return (calls, true);
        }
        budget.tokens -= overhead;
        let max_bytes = budget.bytes.min(budget.tokens * BYTES_PER_TOKEN);
        let (arguments, over) = match call.arguments {
            CallArguments::Given(value) => {
                let mut text = value.to_string();
                let over = text.len() > max_bytes;
                truncate_to_char_boundary(&mut text, max_bytes);
                (text, over)
            }
            CallArguments::FromSchema(schema) => {
                arguments_within(schema.as_ref(), max_bytes).into_text()
            }
        };
        budget.bytes -= arguments.len().min(budget.bytes);
        let (arguments, cut) = limit(bpe, &arguments, Some(budget.tokens));
        budget.tokens -= bpe
            .encode_with_special_tokens(&arguments)
            .len()
            .min(budget.tokens);
        calls.push(ToolCall {
            id: new_call_id(),
            name: call.name,
            arguments,
        });
        if cut || over {
            return (calls, true);
        }
    }
    (calls, false)
}

/// The text of the first tokens, dropping a trailing partial UTF-8 character.
fn token_prefix(bpe: &CoreBPE, tokens: &[Rank]) -> String {
    let bytes = bpe.decode_bytes(tokens).unwrap_or_default();
    match std::str::from_utf8(&bytes) {
        Ok(text) => text.to_owned(),
        Err(error) => String::from_utf8_lossy(&bytes[..error.valid_up_to()]).into_owned(),
    }
}

/// `text` split before each run of whitespace: `"a b  c"` → `["a", " b", "  c"]`.
pub(super) fn word_pieces(text: &str) -> Vec<String> {
    let mut pieces: Vec<String> = Vec::new();
    let mut previous_was_space = false;
    for c in text.chars() {
        let is_space = c.is_whitespace();
        match pieces.last_mut() {
            Some(piece) if !is_space || previous_was_space => piece.push(c),
            _ => pieces.push(c.to_string()),
        }
        previous_was_space = is_space;
    }
    pieces
}

/// `text` split into its tokens, merging tokens that only together form a character.
fn token_pieces(bpe: &CoreBPE, text: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut pending = Vec::new();
    for token in bpe.encode_with_special_tokens(text) {
        pending.extend(bpe.decode_bytes(&[token]).unwrap_or_default());
        if let Ok(piece) = std::str::from_utf8(&pending) {
            pieces.push(piece.to_owned());
            pending.clear();
        }
    }
    if !pending.is_empty() {
        pieces.push(String::from_utf8_lossy(&pending).into_owned());
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_their_leading_space() {
        assert_eq!(
            word_pieces("You said: \"hi  there\""),
            ["You", " said:", " \"hi", "  there\""]
        );
        assert_eq!(word_pieces(""), Vec::<String>::new());
        assert_eq!(word_pieces(" lead"), [" lead"]);
    }

    #[test]
    fn token_pieces_rebuild_the_text_even_with_multibyte_characters() {
        let bpe = tokens::tokenizer_for("gpt-4o");
        let text = r#"{"city":"Zürich 東京 🎉"}"#;
        assert_eq!(token_pieces(bpe, text).concat(), text);
        let encoded = bpe.encode_with_special_tokens("🎉🎉🎉");
        for cut in 0..encoded.len() {
            assert!("🎉🎉🎉".starts_with(&token_prefix(bpe, &encoded[..cut])));
        }
    }

    #[test]
    fn call_ids_are_prefix_and_24_base62() {
        let id = new_call_id();
        assert_eq!(id.len(), 29);
        assert!(id.starts_with("call_") && id[5..].bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(id, new_call_id());
    }
}
