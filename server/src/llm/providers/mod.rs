//! Third-party models by name: a model string such as `cohere/command-r`,
//! `claude-3-5-haiku-latest` or `openai_compatible/local/qwen2.5` picks the provider a
//! run's turns go to, the way users of the seed service (DataStax Astra Assistants)
//! wrote them. [`table`] holds the built-in routing table and the routing rules,
//! [`file`] the operator's TOML overrides, and [`RoutedModel`] the [`crate::llm::ChatModel`]
//! that dispatches each turn. The model string is stored and echoed as the client sent
//! it; only the provider receives the resolved name.
//!
//! Anthropic, Cohere and Gemini are reached through their native APIs ([`anthropic`],
//! [`cohere`], [`gemini`], over the [`native`] transport), Bedrock through Converse
//! signed with SigV4 ([`bedrock`], [`sigv4`]); every other provider through its
//! OpenAI-compatible Chat Completions endpoint.

pub mod anthropic;
pub mod bedrock;
pub mod cohere;
pub mod file;
pub mod gemini;
pub mod names;
pub mod native;
mod routed;
pub mod sigv4;
pub mod table;
mod turns;

pub use file::FileError;
pub use native::{Dialect, NativeModel};
pub use routed::RoutedModel;
pub use table::{BareNames, Protocol, Provider, Route, RouteError, RoutingTable};

/// Reads the routing table: the built-in one, the providers file at `path` on top when
/// given, then the operator's keys from the environment.
pub fn load_table(path: Option<&std::path::Path>) -> Result<RoutingTable, FileError> {
    let mut table = RoutingTable::built_in();
    if let Some(path) = path {
        let text = std::fs::read_to_string(path)
            .map_err(|error| FileError(format!("cannot read {}: {error}", path.display())))?;
        table
            .apply_file(&text)
            .map_err(|error| FileError(format!("{}: {}", path.display(), error.0)))?;
    }
    table.read_keys(|name| std::env::var(name).ok());
    Ok(table)
}
