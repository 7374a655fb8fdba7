//! The routing table: which providers a model name can be routed to, where each one
//! lives, how it authenticates, and how a model name picks one (prefix, alias or bare
//! name). Built from the built-in table below, then overridden by the operator's
//! providers file ([`super::file`]).

use std::collections::BTreeMap;

use crate::llm::config::AuthHeader;

/// How the server talks to a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// An OpenAI-compatible `/chat/completions` endpoint (the provider's own, or its
    /// documented OpenAI-compatibility endpoint).
    ChatCompletions,
    /// Anthropic's native Messages API ([`super::anthropic`]).
    AnthropicMessages,
    /// Cohere's native v2 chat API ([`super::cohere`]).
    CohereChat,
    /// Gemini's native streamGenerateContent ([`super::gemini`]).
    GeminiGenerateContent,
    /// AWS Bedrock Converse, signed with SigV4 ([`super::bedrock`]).
    BedrockConverse,
}

/// One provider a model can be routed to.
#[derive(Clone, PartialEq, Eq)]
pub struct Provider {
    /// The prefix that selects it (`groq` in `groq/llama-3.1-8b-instant`).
    pub name: String,
    /// Its wire protocol.
    pub protocol: Protocol,
    /// Base URL (`/chat/completions` is appended); `None` until the operator gives one
    /// (Azure and Vertex AI have per-customer URLs).
    pub base_url: Option<String>,
    /// Environment variables read at startup for the operator's key, first set wins.
    pub key_env: Vec<String>,
    /// The operator's key, read from `key_env` at startup (`Debug` hides it).
    pub api_key: Option<String>,
    /// How the key is sent.
    pub auth_header: AuthHeader,
    /// Whether a call without any key is allowed (local servers such as Ollama).
    pub key_optional: bool,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("name", &self.name)
            .field("protocol", &self.protocol)
            .field("base_url", &self.base_url)
            .field("key_env", &self.key_env)
            .field("api_key", &crate::llm::config::hidden(&self.api_key))
            .field("auth_header", &self.auth_header)
            .field("key_optional", &self.key_optional)
            .finish()
    }
}

/// The provider named `openai`: the server's own upstream (`--llm-base-url`,
/// `--llm-api-key`), the only one the caller's bearer key may be forwarded to.
pub const DEFAULT_PROVIDER: &str = "openai";

/// Prefix of operator-defined OpenAI-compatible providers: `openai_compatible/NAME/MODEL`.
pub const COMPATIBLE_PREFIX: &str = "openai_compatible";

/// The built-in providers: (prefix, base URL, key variables, auth header).
/// The base URLs are each provider's documented OpenAI-compatible endpoint, except
/// Anthropic's, Cohere's and Gemini's, whose native APIs are used.
const BUILT_IN: &[(&str, Option<&str>, &[&str], &str)] = &[
    (DEFAULT_PROVIDER, None, &[], "authorization"),
    (
        "azure",
        None,
        &["AZURE_API_KEY", "AZURE_OPENAI_API_KEY"],
        "api-key",
    ),
    (
        "anthropic",
        Some("https://api.anthropic.com/v1"),
        &["ANTHROPIC_API_KEY"],
        "authorization",
    ),
    (
        "gemini",
        Some("https://generativelanguage.googleapis.com/v1beta"),
        &["GEMINI_API_KEY", "GOOGLE_API_KEY"],
        "authorization",
    ),
    (
        "vertex_ai",
        None,
        &["VERTEXAI_ACCESS_TOKEN"],
        "authorization",
    ),
    (
        "cohere",
        Some("https://api.cohere.com/v2"),
        &["COHERE_API_KEY", "CO_API_KEY"],
        "authorization",
    ),
    ("bedrock", None, &[], "authorization"),
    (
        "mistral",
        Some("https://api.mistral.ai/v1"),
        &["MISTRAL_API_KEY"],
        "authorization",
    ),
    (
        "groq",
        Some("https://api.groq.com/openai/v1"),
        &["GROQ_API_KEY"],
        "authorization",
    ),
    (
        "together_ai",
        Some("https://api.together.xyz/v1"),
        &["TOGETHER_API_KEY", "TOGETHERAI_API_KEY"],
        "authorization",
    ),
    (
        "fireworks_ai",
        Some("https://api.fireworks.ai/inference/v1"),
        &["FIREWORKS_API_KEY", "FIREWORKS_AI_API_KEY"],
        "authorization",
    ),
    (
        "deepseek",
        Some("https://api.deepseek.com/v1"),
        &["DEEPSEEK_API_KEY"],
        "authorization",
    ),
    (
        "xai",
        Some("https://api.x.ai/v1"),
        &["XAI_API_KEY"],
        "authorization",
    ),
    (
        "perplexity",
        Some("https://api.perplexity.ai"),
        &["PERPLEXITY_API_KEY", "PERPLEXITYAI_API_KEY"],
        "authorization",
    ),
    (
        "openrouter",
        Some("https://openrouter.ai/api/v1"),
        &["OPENROUTER_API_KEY"],
        "authorization",
    ),
    (
        "ollama",
        Some("http://localhost:11434/v1"),
        &["OLLAMA_API_KEY"],
        "authorization",
    ),
];

/// Environment variable giving Azure's base URL (the seed service's name for it).
const AZURE_BASE_ENV: &str = "AZURE_API_BASE";

/// Where one model name goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The provider's name in the table (`openai_compatible/NAME` for operator ones).
    pub provider: String,
    /// The model name the provider is sent (prefix and alias resolved).
    pub model: String,
}

/// Why a model name cannot be routed; shown to the caller as a 400 on `model`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RouteError(pub String);

/// What bare names (without a `provider/` prefix) mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BareNames {
    /// By their family: `claude-*` to Anthropic, `gemini-*` to Gemini, ... (the default).
    ByFamily,
    /// All to the server's own upstream (for a LiteLLM-style proxy behind `--llm-base-url`).
    Upstream,
}

/// Every provider a model name can name, and the operator's aliases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingTable {
    /// Built-in and operator providers, by prefix.
    pub providers: BTreeMap<String, Provider>,
    /// Operator-defined `openai_compatible/NAME/` providers, by NAME.
    pub compatible: BTreeMap<String, Provider>,
    /// Exact model names replaced before routing (`fast` → `groq/llama-3.1-8b-instant`).
    pub aliases: BTreeMap<String, String>,
    /// How bare names are routed.
    pub bare_names: BareNames,
}

impl RoutingTable {
    /// The built-in table; keys are not read yet (see [`Self::read_keys`]).
    pub fn built_in() -> Self {
        let providers = BUILT_IN
            .iter()
            .map(|(name, base_url, key_env, header)| {
                let provider = Provider {
                    name: (*name).to_owned(),
                    protocol: match *name {
                        "bedrock" => Protocol::BedrockConverse,
                        "anthropic" => Protocol::AnthropicMessages,
                        "cohere" => Protocol::CohereChat,
                        "gemini" => Protocol::GeminiGenerateContent,
                        _ => Protocol::ChatCompletions,
                    },
                    base_url: base_url.map(str::to_owned),
                    key_env: key_env.iter().map(|v| (*v).to_owned()).collect(),
                    api_key: None,
                    auth_header: AuthHeader::from_name(header),
                    // Bedrock signs with AWS credentials, not a key.
                    key_optional: matches!(*name, "ollama" | "bedrock" | DEFAULT_PROVIDER),
                };
                ((*name).to_owned(), provider)
            })
            .collect();
        Self {
            providers,
            compatible: BTreeMap::new(),
            aliases: BTreeMap::new(),
            bare_names: BareNames::ByFamily,
        }
    }

    /// Fills every provider's key from its environment variables (and Azure's base URL
    /// from `AZURE_API_BASE` when the table has none), with `env` as the lookup.
    pub fn read_keys(&mut self, env: impl Fn(&str) -> Option<String>) {
        let all = self
            .providers
            .values_mut()
            .chain(self.compatible.values_mut());
        for provider in all {
            if provider.api_key.is_none() {
                provider.api_key = provider
                    .key_env
                    .iter()
                    .find_map(|name| env(name).filter(|v| !v.is_empty()));
            }
        }
        if let Some(azure) = self.providers.get_mut("azure") {
            if azure.base_url.is_none() {
                azure.base_url = env(AZURE_BASE_ENV).filter(|v| !v.is_empty());
            }
        }
    }

    /// The provider a route names.
    pub fn provider(&self, route: &Route) -> Option<&Provider> {
        match route
            .provider
            .strip_prefix(&format!("{COMPATIBLE_PREFIX}/"))
        {
            Some(name) => self.compatible.get(name),
            None => self.providers.get(&route.provider),
        }
    }

    /// Where `model` (as the client sent it) goes.
    pub fn route(&self, model: &str) -> Result<Route, RouteError> {
        let model = self.aliases.get(model).map_or(model, String::as_str);
        let Some((prefix, rest)) = model.split_once('/') else {
            return Ok(Route {
                provider: self.bare_provider(model).to_owned(),
                model: model.to_owned(),
            });
        };
        if prefix == COMPATIBLE_PREFIX {
            let (name, inner) = rest.split_once('/').unwrap_or((rest, ""));
            if inner.is_empty() || !self.compatible.contains_key(name) {
                return Err(RouteError(self.unknown_compatible(model, name)));
            }
            return Ok(Route {
                provider: format!("{COMPATIBLE_PREFIX}/{name}"),
                model: inner.to_owned(),
            });
        }
        if !self.providers.contains_key(prefix) {
            return Err(RouteError(format!(
                "Unknown model provider '{prefix}' in model '{model}'. Known providers: {}, and \
                 {COMPATIBLE_PREFIX}/<name>/ for the OpenAI-compatible providers the server's \
                 operator configured. A bare model name (without '/') is routed by its family.",
                self.providers
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        if rest.is_empty() {
            return Err(RouteError(format!(
                "The model '{model}' names the provider '{prefix}' but no model after '/'."
            )));
        }
        Ok(Route {
            provider: prefix.to_owned(),
            model: rest.to_owned(),
        })
    }

    fn unknown_compatible(&self, model: &str, name: &str) -> String {
        let configured = self.compatible.keys().cloned().collect::<Vec<_>>();
        let known = if configured.is_empty() {
            "none are configured on this server".to_owned()
        } else {
            format!("configured: {}", configured.join(", "))
        };
        format!(
            "Unknown OpenAI-compatible provider '{name}' in model '{model}': expected \
             {COMPATIBLE_PREFIX}/<name>/<model> with a <name> from the server's providers file \
             ({known})."
        )
    }

    /// The provider of a name without a prefix.
    fn bare_provider(&self, model: &str) -> &'static str {
        if self.bare_names == BareNames::Upstream {
            return DEFAULT_PROVIDER;
        }
        super::names::bare_family(model)
    }
}

/// The built-in table as `--help` and the README show it.
pub fn built_in_help() -> String {
    let mut text = String::from(
        "Routing table file (TOML) adding or overriding providers and aliases. Built-in \
         providers (model `PREFIX/MODEL`; key variables read at startup; a request's `api-key` \
         header is sent to the routed provider only):\n",
    );
    for (name, base_url, key_env, header) in BUILT_IN {
        let base = match (*name, base_url) {
            (DEFAULT_PROVIDER, _) => "--llm-base-url".to_owned(),
            ("azure", _) => format!("${AZURE_BASE_ENV}"),
            ("bedrock", _) => {
                "bedrock-runtime.REGION.amazonaws.com (ConverseStream, SigV4; credentials \
                 LLM-PARAM-aws-* or AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION)"
                    .to_owned()
            }
            ("anthropic", Some(url)) => format!("{url} (native Messages API)"),
            ("cohere", Some(url)) => format!("{url} (native v2 chat API)"),
            ("gemini", Some(url)) => format!("{url} (native streamGenerateContent)"),
            (_, Some(url)) => (*url).to_owned(),
            (_, None) => "set in the providers file".to_owned(),
        };
        let keys = if *name == DEFAULT_PROVIDER {
            "--llm-api-key".to_owned()
        } else if key_env.is_empty() {
            "-".to_owned()
        } else {
            key_env.join(" | ")
        };
        let header = if *header == "authorization" {
            String::new()
        } else {
            format!(" (header {header})")
        };
        text.push_str(&format!("  {name}/  {base}  key: {keys}{header}\n"));
    }
    text.push_str(
        "  openai_compatible/NAME/  from the providers file\n\
         Bare names: gpt-*, chatgpt-*, o<digit>* -> openai; claude-* -> anthropic; gemini-* -> gemini; \
         command*, embed-* -> cohere; vendor.model (Bedrock ids) -> bedrock; others -> openai.\n\
         Embedding models (`embedding-model` header) route the same way: cohere/ to its v2 /embed, \
         gemini/ to batchEmbedContents, Bedrock amazon.titan-embed-* and cohere.embed-* to \
         InvokeModel, other OpenAI-compatible providers to their /embeddings, OpenAI names to \
         --embeddings-base-url.",
    );
    text
}

#[cfg(test)]
#[path = "table_tests.rs"]
mod tests;
