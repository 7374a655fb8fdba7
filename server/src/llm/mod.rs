//! The LLM layer: how a run asks a model for its next turn.
//!
//! A run engine builds a [`ChatRequest`] (the assembled prompt, tools, tool choice and
//! sampling parameters), hands it to a [`ChatModel`] and consumes the [`ChatEvent`]s of
//! the returned stream as the model produces them. Two models implement the trait:
//!
//! - [`upstream::UpstreamModel`] talks to any OpenAI-compatible `/chat/completions`
//!   endpoint (OpenAI, Azure OpenAI, Ollama, vLLM, llama.cpp, LiteLLM, OpenRouter, Groq),
//!   with retries, timeouts and error mapping;
//! - [`providers::RoutedModel`] sends each turn to the provider its model name routes
//!   to (`groq/…`, `claude-…`, an operator's `openai_compatible/NAME/…`), each through
//!   an [`upstream::UpstreamModel`] with that provider's URL and key;
//! - [`offline::OfflineModel`] answers deterministically without any network, so every run
//!   path can be exercised in tests.
//!
//! Dropping a stream aborts the model call (for the upstream model it closes the HTTP
//! connection), which is how cancelling a run stops the model; dropping the future of
//! [`ChatModel::stream`] while it is still connecting or backing off aborts it too.
//! Errors carry an [`LlmErrorKind`] that maps one to one onto the run's
//! `last_error.code`.
//!
//! A run engine drives one model turn like this (forwarding deltas as they come and
//! keeping the assembled answer for the run's message or tool-call step):
//!
//! ```no_run
//! use futures::StreamExt;
//! use server::llm::{ChatEvent, ChatMessage, ChatModel, ChatRequest, CompletionAccumulator, OfflineModel};
//!
//! # async fn turn() -> Result<(), server::llm::LlmError> {
//! let model = OfflineModel::new();
//! let request = ChatRequest {
//!     model: "gpt-4o".into(),
//!     messages: vec![ChatMessage::system("Be brief."), ChatMessage::user("Hi")],
//!     ..ChatRequest::default()
//! };
//! let mut stream = model.stream(request).await?; // Err: the run fails with error.code()
//! let mut answer = CompletionAccumulator::new();
//! while let Some(event) = stream.next().await {
//!     let event = event?; // Err mid-answer: the run fails, keeping what was forwarded
//!     if let ChatEvent::TextDelta(text) = &event {
//!         println!("thread.message.delta {text:?}");
//!     }
//!     answer.push(&event);
//! }
//! let completion = answer.finish()?; // finish_reason: Stop, ToolCalls, Length, ...
//! # Ok(()) }
//! ```

pub mod config;
pub mod error;
pub mod event;
pub mod offline;
pub mod providers;
pub mod request;
pub mod retry;
pub mod sse;
pub mod tokens;
pub mod upstream;
mod wire;

pub use config::{LlmArgs, LlmMode, UpstreamConfig};
pub use error::{LlmError, LlmErrorKind};
pub use event::{
    collect, ChatCompletion, ChatEvent, CompletionAccumulator, FinishReason, ToolCallDelta, Usage,
};
pub use offline::OfflineModel;
pub use request::{
    ChatMessage, ChatRequest, ContentPart, FunctionTool, ResponseFormat, Role, ToolCall,
    ToolChoice, UpstreamCredentials,
};
pub use upstream::UpstreamModel;

use futures::stream::BoxStream;

/// The events of one model turn, in the order the model produced them. A stream that
/// ends without error has yielded exactly one [`ChatEvent::Finish`] followed by exactly
/// one [`ChatEvent::Usage`] as its last two items.
pub type ChatStream = BoxStream<'static, Result<ChatEvent, LlmError>>;

/// A chat model a run can call: the upstream client or the offline model.
#[async_trait::async_trait]
pub trait ChatModel: Send + Sync {
    /// Starts one model turn. Errors that happen before any output exists (bad request,
    /// retries exhausted, unreachable upstream) come back as `Err`; errors after that
    /// arrive as an `Err` item of the stream, which then ends. Dropping the stream
    /// aborts the call.
    async fn stream(&self, request: ChatRequest) -> Result<ChatStream, LlmError>;

    /// Whether this model can answer `model` at all, so an API route can refuse a model
    /// name with a 400 before recording anything. Models that answer every name (the
    /// offline model, a single upstream) keep the default.
    fn check_model(&self, model: &str) -> Result<(), providers::RouteError> {
        let _ = model;
        Ok(())
    }

    /// The provider a turn for `model` goes to, as metrics label it: a name from the
    /// built-in table or the operator's providers file, never text a client chose.
    /// `None` when the model routes nowhere or the model does not say.
    fn provider_name(&self, model: &str) -> Option<String> {
        let _ = model;
        None
    }
}

/// Runs one model turn to its end and returns the assembled answer; for callers that
/// do not forward deltas.
pub async fn complete(
    model: &dyn ChatModel,
    request: ChatRequest,
) -> Result<ChatCompletion, LlmError> {
    collect(model.stream(request).await?).await
}
