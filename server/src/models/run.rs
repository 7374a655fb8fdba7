//! The `thread.run` object (2025–2026 shape) and the token usage runs and steps
//! report, with OpenAI's (misspelled) detail objects.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{JsonMap, RunStatus};

/// A run as OpenAI returned it from the REST endpoints.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Run {
    /// `run_` + 24 base62.
    pub id: String,
    /// Always `thread.run`.
    pub object: String,
    /// Unix seconds of creation.
    pub created_at: i64,
    /// The assistant whose configuration the run uses.
    pub assistant_id: String,
    /// The thread the run answers.
    pub thread_id: String,
    /// Where the run is in its life.
    pub status: RunStatus,
    /// When the latest model turn started; null while first queued.
    pub started_at: Option<i64>,
    /// `created_at` + the expiry window while active; null once ended.
    pub expires_at: Option<i64>,
    /// When the run was cancelled.
    pub cancelled_at: Option<i64>,
    /// When the run failed.
    pub failed_at: Option<i64>,
    /// When the run completed (also set for `incomplete`).
    pub completed_at: Option<i64>,
    /// The tool calls the client must answer, in `requires_action`.
    pub required_action: Option<Value>,
    /// `{code, message}` of a failed run.
    pub last_error: Option<Value>,
    /// Model used for the run.
    pub model: String,
    /// Instructions used for the run (assistant's or the override).
    pub instructions: Option<String>,
    /// Tools the run may use.
    pub tools: Vec<Value>,
    /// `{}` on REST objects (see [`Run::for_stream`]).
    pub tool_resources: Value,
    /// Up to 16 string pairs.
    pub metadata: JsonMap,
    /// Sampling temperature.
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    pub top_p: Option<f64>,
    /// For reasoning models.
    pub reasoning_effort: Option<String>,
    /// Largest number of completion tokens over the whole run.
    pub max_completion_tokens: Option<i64>,
    /// Largest number of prompt tokens per turn.
    pub max_prompt_tokens: Option<i64>,
    /// `{type: auto|last_messages, last_messages}`.
    pub truncation_strategy: Value,
    /// `{reason}` of an `incomplete` run.
    pub incomplete_details: Option<Value>,
    /// Tokens used, once the run has ended.
    pub usage: Option<RunUsage>,
    /// `"auto"` or an object.
    pub response_format: Value,
    /// `"auto"`, `"none"`, `"required"` or `{type:function, function:{name}}`.
    pub tool_choice: Value,
    /// Whether the model may call several functions in one turn.
    pub parallel_tool_calls: bool,
}

impl Run {
    /// Whether the run still holds its thread.
    pub fn is_active(&self) -> bool {
        self.status.is_active()
    }

    /// The run as SSE events carried it: `tool_resources` always showed
    /// `{"code_interpreter":{"file_ids":[]}}` there, whatever the tools.
    pub fn for_stream(&self) -> Run {
        let mut run = self.clone();
        run.tool_resources = json!({"code_interpreter": {"file_ids": []}});
        run
    }
}

/// Token usage of a run or step (2025 shape).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct RunUsage {
    /// Prompt tokens over every turn.
    pub prompt_tokens: u64,
    /// Completion tokens over every turn.
    pub completion_tokens: u64,
    /// The sum of both.
    pub total_tokens: u64,
    /// Singular and misspelled as OpenAI sent it.
    pub prompt_token_details: CachedTokens,
    /// Reasoning tokens spent.
    pub completion_tokens_details: ReasoningTokens,
}

/// `{cached_tokens}`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct CachedTokens {
    /// Prompt tokens served from cache.
    pub cached_tokens: u64,
}

/// `{reasoning_tokens}`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct ReasoningTokens {
    /// Completion tokens spent on hidden reasoning.
    pub reasoning_tokens: u64,
}

impl RunUsage {
    /// Usage of one model turn.
    pub fn from_turn(usage: &crate::llm::Usage) -> Self {
        Self {
            prompt_tokens: u64::from(usage.prompt_tokens),
            completion_tokens: u64::from(usage.completion_tokens),
            total_tokens: u64::from(usage.prompt_tokens) + u64::from(usage.completion_tokens),
            prompt_token_details: CachedTokens {
                cached_tokens: u64::from(usage.cached_tokens),
            },
            completion_tokens_details: ReasoningTokens {
                reasoning_tokens: u64::from(usage.reasoning_tokens),
            },
        }
    }

    /// The sum of two usages (a run adds up its turns).
    pub fn plus(self, other: RunUsage) -> Self {
        Self {
            prompt_tokens: self.prompt_tokens + other.prompt_tokens,
            completion_tokens: self.completion_tokens + other.completion_tokens,
            total_tokens: self.total_tokens + other.total_tokens,
            prompt_token_details: CachedTokens {
                cached_tokens: self.prompt_token_details.cached_tokens
                    + other.prompt_token_details.cached_tokens,
            },
            completion_tokens_details: ReasoningTokens {
                reasoning_tokens: self.completion_tokens_details.reasoning_tokens
                    + other.completion_tokens_details.reasoning_tokens,
            },
        }
    }
}
