//! The operator's providers file (`--llm-providers FILE`, TOML): adds or overrides
//! providers, defines `openai_compatible/NAME/` providers and model aliases, and says
//! how bare names are routed. Unknown keys are refused so a typo never silently
//! routes traffic elsewhere.
//!
//! ```toml
//! bare_names = "family"            # or "upstream": every bare name to --llm-base-url
//!
//! [providers.groq]                 # override a built-in provider, or add one
//! base_url = "http://gateway.internal/groq/v1"
//! key_env = "GROQ_API_KEY"         # or a list; the first set variable wins
//! auth_header = "authorization"    # or a header name such as "api-key"
//! protocol = "chat_completions"    # or "anthropic_messages", "cohere_chat",
//!                                  # "gemini_generate_content"
//!
//! [openai_compatible.local]        # model "openai_compatible/local/MODEL"
//! base_url = "http://localhost:8000/v1"
//!
//! [aliases]
//! fast = "groq/llama-3.1-8b-instant"
//! ```

use toml_edit::{Item, Table, Value};

use super::table::{BareNames, Protocol, Provider, RoutingTable, COMPATIBLE_PREFIX};
use crate::llm::config::AuthHeader;

/// Why a providers file was refused (path and TOML position in the message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("providers file: {0}")]
pub struct FileError(pub String);

impl RoutingTable {
    /// Applies the providers file `text` on top of this table.
    pub fn apply_file(&mut self, text: &str) -> Result<(), FileError> {
        let document = toml_edit::Document::parse(text)
            .map_err(|error| FileError(error.to_string().trim().to_owned()))?;
        let root = document.as_table();
        for (key, item) in root.iter() {
            match key {
                "bare_names" => self.bare_names = bare_names(item)?,
                "providers" => {
                    for (name, item) in table(item, "providers")?.iter() {
                        self.apply_provider(name, item)?;
                    }
                }
                COMPATIBLE_PREFIX => {
                    for (name, item) in table(item, COMPATIBLE_PREFIX)?.iter() {
                        let provider = read_provider(name, item, None)?;
                        if provider.base_url.is_none() {
                            return Err(FileError(format!(
                                "[{COMPATIBLE_PREFIX}.{name}] needs a base_url"
                            )));
                        }
                        self.compatible.insert(name.to_owned(), provider);
                    }
                }
                "aliases" => {
                    for (alias, item) in table(item, "aliases")?.iter() {
                        let target = item.as_str().ok_or_else(|| {
                            FileError(format!("aliases.{alias} must be a model name string"))
                        })?;
                        self.aliases.insert(alias.to_owned(), target.to_owned());
                    }
                }
                other => {
                    return Err(FileError(format!(
                        "unknown key '{other}' (expected bare_names, providers, \
                         {COMPATIBLE_PREFIX} or aliases)"
                    )))
                }
            }
        }
        for (alias, target) in &self.aliases {
            if self.aliases.contains_key(target) {
                return Err(FileError(format!(
                    "alias '{alias}' points at another alias '{target}'; aliases name models"
                )));
            }
            self.route(target)
                .map_err(|error| FileError(format!("alias '{alias}': {error}")))?;
        }
        Ok(())
    }

    fn apply_provider(&mut self, name: &str, item: &Item) -> Result<(), FileError> {
        if name == COMPATIBLE_PREFIX {
            return Err(FileError(format!(
                "'{COMPATIBLE_PREFIX}' is reserved: define such providers under [{COMPATIBLE_PREFIX}.NAME]"
            )));
        }
        let existing = self.providers.get(name).cloned();
        let provider = read_provider(name, item, existing)?;
        if provider.base_url.is_none() && provider.name != super::table::DEFAULT_PROVIDER {
            let built_in = self.providers.contains_key(name);
            if !built_in {
                return Err(FileError(format!("[providers.{name}] needs a base_url")));
            }
        }
        self.providers.insert(name.to_owned(), provider);
        Ok(())
    }
}

fn table<'a>(item: &'a Item, name: &str) -> Result<&'a Table, FileError> {
    item.as_table()
        .ok_or_else(|| FileError(format!("'{name}' must be a table")))
}

fn bare_names(item: &Item) -> Result<BareNames, FileError> {
    match item.as_str() {
        Some("family") => Ok(BareNames::ByFamily),
        Some("upstream") => Ok(BareNames::Upstream),
        _ => Err(FileError(
            "bare_names must be \"family\" or \"upstream\"".to_owned(),
        )),
    }
}

/// A provider table, over `base` (the built-in entry it overrides) when there is one.
fn read_provider(name: &str, item: &Item, base: Option<Provider>) -> Result<Provider, FileError> {
    let valid_name = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if !valid_name {
        return Err(FileError(format!(
            "provider name '{name}' must be lowercase letters, digits, '_' or '-'"
        )));
    }
    let fields = item
        .as_table_like()
        .ok_or_else(|| FileError(format!("provider '{name}' must be a table")))?;
    let mut provider = base.unwrap_or_else(|| Provider {
        name: name.to_owned(),
        protocol: Protocol::ChatCompletions,
        base_url: None,
        key_env: Vec::new(),
        api_key: None,
        auth_header: AuthHeader::Bearer,
        key_optional: true,
    });
    let text = |key: &str, value: &Item| {
        value
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| FileError(format!("{name}.{key} must be a string")))
    };
    for (key, value) in fields.iter() {
        match key {
            "base_url" => {
                let url = text(key, value)?;
                crate::llm::upstream::http::endpoint_at(&url, &["chat", "completions"])
                    .map_err(|error| FileError(format!("{name}.base_url: {}", error.message)))?;
                provider.base_url = Some(url);
            }
            "key_env" => {
                provider.key_env = match value.as_value() {
                    Some(Value::String(one)) => vec![one.value().clone()],
                    Some(Value::Array(many)) => many
                        .iter()
                        .map(|v| v.as_str().map(str::to_owned))
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| {
                            FileError(format!("{name}.key_env must hold variable names"))
                        })?,
                    _ => {
                        return Err(FileError(format!(
                            "{name}.key_env must be a variable name or a list of them"
                        )))
                    }
                };
                provider.key_optional = provider.key_env.is_empty();
            }
            "auth_header" => provider.auth_header = AuthHeader::from_name(&text(key, value)?),
            "protocol" => {
                provider.protocol = match text(key, value)?.as_str() {
                    "chat_completions" => Protocol::ChatCompletions,
                    "anthropic_messages" => Protocol::AnthropicMessages,
                    "cohere_chat" => Protocol::CohereChat,
                    "gemini_generate_content" => Protocol::GeminiGenerateContent,
                    other => {
                        return Err(FileError(format!(
                            "{name}.protocol '{other}' is not one of chat_completions, \
                             anthropic_messages, cohere_chat, gemini_generate_content"
                        )))
                    }
                }
            }
            other => {
                return Err(FileError(format!(
                    "unknown key '{name}.{other}' (expected base_url, key_env, auth_header or protocol)"
                )))
            }
        }
    }
    Ok(provider)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
bare_names = "upstream"

[providers.groq]
base_url = "http://gateway.internal/groq/v1"
key_env = ["MY_GROQ", "GROQ_API_KEY"]

[providers.acme]
base_url = "https://llm.acme.test/v1"
auth_header = "api-key"
key_env = "ACME_KEY"

[openai_compatible.local]
base_url = "http://localhost:8000/v1"

[aliases]
fast = "groq/llama-3.1-8b-instant"
"#;

    #[test]
    fn a_file_overrides_adds_and_aliases() {
        let mut table = RoutingTable::built_in();
        table.apply_file(EXAMPLE).unwrap();
        assert_eq!(table.bare_names, BareNames::Upstream);
        let groq = &table.providers["groq"];
        assert_eq!(
            groq.base_url.as_deref(),
            Some("http://gateway.internal/groq/v1")
        );
        assert_eq!(groq.key_env, ["MY_GROQ", "GROQ_API_KEY"]);
        let acme = &table.providers["acme"];
        assert_eq!(acme.auth_header, AuthHeader::Named("api-key".into()));
        assert!(!acme.key_optional);
        let route = table.route("fast").unwrap();
        assert_eq!(
            (route.provider.as_str(), route.model.as_str()),
            ("groq", "llama-3.1-8b-instant")
        );
        let route = table.route("openai_compatible/local/qwen2.5").unwrap();
        assert_eq!(route.provider, "openai_compatible/local");
        assert_eq!(route.model, "qwen2.5");
        assert!(table.provider(&route).unwrap().key_optional);
        assert_eq!(table.route("acme/x").unwrap().provider, "acme");
    }

    #[test]
    fn mistakes_are_refused_with_their_place() {
        let cases = [
            ("bare_names = 3", "bare_names must be"),
            (
                "[providers.groq]\nbase_uri = \"x\"",
                "unknown key 'groq.base_uri'",
            ),
            (
                "[providers.new]\nkey_env = \"K\"",
                "[providers.new] needs a base_url",
            ),
            (
                "[providers.g]\nbase_url = \"ftp://x\"",
                "g.base_url: invalid upstream base URL",
            ),
            ("[openai_compatible.l]\nkey_env = \"K\"", "needs a base_url"),
            (
                "[aliases]\nfast = \"nope/x\"",
                "alias 'fast': Unknown model provider 'nope'",
            ),
            (
                "[aliases]\na = \"b\"\nb = \"gpt-4o\"",
                "points at another alias",
            ),
            (
                "[providers.Bad]\nbase_url = \"http://x\"",
                "must be lowercase",
            ),
            ("[model]\nx = 1", "unknown key 'model'"),
            (
                "[providers.groq]\nprotocol = \"grpc\"",
                "groq.protocol 'grpc' is not one of",
            ),
            ("[providers", "providers file"),
        ];
        for (text, expected) in cases {
            let error = RoutingTable::built_in()
                .apply_file(text)
                .unwrap_err()
                .to_string();
            assert!(error.contains(expected), "{text:?}: {error}");
        }
    }
}
