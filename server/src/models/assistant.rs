//! The `assistant` object (2025 shape, with `reasoning_effort`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::JsonMap;

/// An assistant as OpenAI returned it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Assistant {
    /// `asst_` + 24 base62.
    pub id: String,
    /// Always `assistant`.
    pub object: String,
    /// Unix seconds of creation.
    pub created_at: i64,
    /// Optional display name (≤256 chars).
    pub name: Option<String>,
    /// Optional description (≤512 chars).
    pub description: Option<String>,
    /// Model name; any string is accepted since no model runs yet.
    pub model: String,
    /// System instructions (≤256000 chars).
    pub instructions: Option<String>,
    /// Normalised tools (see `validation::tools`).
    pub tools: Vec<Value>,
    /// Nucleus sampling; 1.0 by default.
    pub top_p: f64,
    /// Sampling temperature; 1.0 by default.
    pub temperature: f64,
    /// For reasoning models; null unless given.
    pub reasoning_effort: Option<String>,
    /// Files and vector stores the tools use, filled in from the tools.
    pub tool_resources: Value,
    /// Up to 16 string pairs.
    pub metadata: JsonMap,
    /// `"auto"` or an object such as `{"type":"json_object"}`.
    pub response_format: Value,
}
