//! What a run asks the model: the assembled prompt, the tools it may call, how it must
//! answer, and which upstream credentials to use. Independent of any wire format; the
//! upstream client renders it as a Chat Completions body and the offline model reads it
//! directly.

use serde_json::{Map, Value};

/// One model turn to produce.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChatRequest {
    /// Model name sent upstream (and used to pick the tokenizer for local counting).
    pub model: String,
    /// The conversation so far, oldest first.
    pub messages: Vec<ChatMessage>,
    /// Function tools the model may call; empty means it can only answer with text.
    pub tools: Vec<FunctionTool>,
    /// Whether and which tool the model must call.
    pub tool_choice: ToolChoice,
    /// `None` leaves the upstream default (true); `Some(false)` asks for at most one call.
    pub parallel_tool_calls: Option<bool>,
    /// Text, any JSON object, or JSON valid against a schema.
    pub response_format: ResponseFormat,
    /// Sampling temperature, forwarded when set.
    pub temperature: Option<f64>,
    /// Nucleus sampling, forwarded when set.
    pub top_p: Option<f64>,
    /// Most tokens the answer may have; past it the turn ends with [`crate::llm::FinishReason::Length`].
    pub max_completion_tokens: Option<u32>,
    /// Extra top-level body parameters for the upstream (from `LLM-PARAM-<name>` headers);
    /// they never replace `model`, `messages`, `stream` or `stream_options`.
    pub extra: Map<String, Value>,
    /// Per-request upstream key and URL, overriding the server's configuration.
    pub credentials: UpstreamCredentials,
}

/// Per-request upstream access, taken from the API request that started the run
/// (`Debug` hides the keys).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct UpstreamCredentials {
    /// An `api-key` request header: used instead of the configured upstream key.
    pub api_key: Option<String>,
    /// The caller's own bearer key: forwarded upstream only when no key is configured
    /// and no `api-key` header was given (the seed service's behaviour).
    pub caller_bearer: Option<String>,
    /// A caller-chosen upstream base URL; honoured only when the operator allowed it.
    pub base_url: Option<String>,
    /// Secret provider parameters from `LLM-PARAM-aws-*` headers (names lowercased,
    /// `-` as `_`: `aws_access_key_id`), kept out of [`ChatRequest::extra`] so they never
    /// reach a request body; for the Bedrock adapter.
    pub provider_params: std::collections::BTreeMap<String, String>,
}

/// Whether an `LLM-PARAM-<name>` header is a credential (AWS keys and region), which
/// goes to [`UpstreamCredentials::provider_params`] instead of the request body.
pub fn is_credential_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("aws_") || name.starts_with("aws-")
}

impl std::fmt::Debug for UpstreamCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use super::config::hidden;
        f.debug_struct("UpstreamCredentials")
            .field("api_key", &hidden(&self.api_key))
            .field("caller_bearer", &hidden(&self.caller_bearer))
            .field("base_url", &self.base_url)
            .field(
                "provider_params",
                &self.provider_params.keys().collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Instructions from the assistant's configuration.
    System,
    /// Instructions in the newer developer role (sent as is).
    Developer,
    /// The end user.
    User,
    /// The model's earlier turns, possibly with tool calls.
    Assistant,
    /// The output of one tool call.
    Tool,
}

impl Role {
    /// The role as spelled on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::Developer => "developer",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }
}

/// One piece of a message's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentPart {
    /// Plain text.
    Text(String),
    /// An image the model should look at (a URL or a `data:` URL).
    ImageUrl {
        /// Where the image is.
        url: String,
        /// `auto`, `low` or `high`; `None` leaves the upstream default.
        detail: Option<String>,
    },
}

/// One message of the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    /// Who wrote it.
    pub role: Role,
    /// Its content; empty for an assistant turn that only called tools.
    pub content: Vec<ContentPart>,
    /// Calls the assistant made in this turn (assistant messages only).
    pub tool_calls: Vec<ToolCall>,
    /// Which call this message answers (tool messages only).
    pub tool_call_id: Option<String>,
}

impl ChatMessage {
    fn text_message(role: Role, text: impl Into<String>) -> Self {
        Self {
            role,
            content: vec![ContentPart::Text(text.into())],
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }

    /// A system message.
    pub fn system(text: impl Into<String>) -> Self {
        Self::text_message(Role::System, text)
    }

    /// A developer message.
    pub fn developer(text: impl Into<String>) -> Self {
        Self::text_message(Role::Developer, text)
    }

    /// A user message with text only.
    pub fn user(text: impl Into<String>) -> Self {
        Self::text_message(Role::User, text)
    }

    /// An earlier assistant answer in text.
    pub fn assistant(text: impl Into<String>) -> Self {
        Self::text_message(Role::Assistant, text)
    }

    /// An earlier assistant turn that called tools.
    pub fn assistant_tool_calls(tool_calls: Vec<ToolCall>) -> Self {
        Self {
            role: Role::Assistant,
            content: Vec::new(),
            tool_calls,
            tool_call_id: None,
        }
    }

    /// The output submitted for one tool call.
    pub fn tool(tool_call_id: impl Into<String>, output: impl Into<String>) -> Self {
        Self {
            role: Role::Tool,
            content: vec![ContentPart::Text(output.into())],
            tool_calls: Vec::new(),
            tool_call_id: Some(tool_call_id.into()),
        }
    }

    /// The text parts joined together (images left out).
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter_map(|part| match part {
                ContentPart::Text(text) => Some(text.as_str()),
                ContentPart::ImageUrl { .. } => None,
            })
            .collect::<Vec<_>>()
            .join("")
    }
}

/// A function call the model made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCall {
    /// `call_…` id the tool output must quote.
    pub id: String,
    /// Which function.
    pub name: String,
    /// The arguments as the model wrote them (JSON text, not necessarily valid).
    pub arguments: String,
}

/// A function the model may call.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionTool {
    /// The function's name, as the model must spell it.
    pub name: String,
    /// What it does, for the model.
    pub description: Option<String>,
    /// JSON Schema of its arguments; `None` means it takes none.
    pub parameters: Option<Value>,
    /// Whether the upstream must follow the schema exactly (structured outputs).
    pub strict: Option<bool>,
}

/// Whether and which tool the model must call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ToolChoice {
    /// Never call a tool.
    None,
    /// The model decides.
    #[default]
    Auto,
    /// The model must call at least one tool.
    Required,
    /// The model must call this function.
    Function(String),
}

/// The shape the answer's text must have.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum ResponseFormat {
    /// Free text.
    #[default]
    Text,
    /// Any JSON object.
    JsonObject,
    /// JSON valid against a schema.
    JsonSchema {
        /// The schema's name (required upstream).
        name: String,
        /// What the schema is for.
        description: Option<String>,
        /// The schema itself; `None` accepts any JSON.
        schema: Option<Value>,
        /// Whether the upstream must follow the schema exactly.
        strict: Option<bool>,
    },
}

/// Reads an `LLM-PARAM-<name>` header value: JSON when it parses (`0.2`, `true`,
/// `{"a":1}`), else the plain string, so `LLM-PARAM-seed: 7` sends a number.
pub fn parse_extra_param(value: &str) -> Value {
    serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()))
}
