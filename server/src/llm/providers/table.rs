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
    /// AWS Bedrock Converse, signed with SigV4: recognised, but not implemented yet, so
    /// such models are refused with a 400 instead of failing later.
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
/// Anthropic's, where the native Messages API lives too.
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
        Some("https://generativelanguage.googleapis.com/v1beta/openai"),
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
        Some("https://api.cohere.ai/compatibility/v1"),
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

/// Bedrock model id vendors (`meta.llama2-13b-chat-v1`, `amazon.titan-embed-text-v1`) and
/// the cross-region inference profile prefixes (`us.anthropic.claude-…`).
const BEDROCK_VENDORS: &[&str] = &[
    "amazon",
    "anthropic",
    "meta",
    "cohere",
    "mistral",
    "ai21",
    "stability",
    "deepseek",
    "writer",
    "qwen",
    "openai",
    "twelvelabs",
    "luma",
];
const BEDROCK_REGIONS: &[&str] = &["us", "eu", "apac", "us-gov", "global", "jp", "au"];

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
                        _ => Protocol::ChatCompletions,
                    },
                    base_url: base_url.map(str::to_owned),
                    key_env: key_env.iter().map(|v| (*v).to_owned()).collect(),
                    api_key: None,
                    auth_header: AuthHeader::from_name(header),
                    key_optional: *name == "ollama" || *name == DEFAULT_PROVIDER,
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
        bare_family(model)
    }
}

/// The provider family a bare model name belongs to, as users of the seed service
/// expect: OpenAI names and anything unrecognised go to the server's own upstream.
pub fn bare_family(model: &str) -> &'static str {
    let lower = model.to_ascii_lowercase();
    let o_series =
        lower.len() > 1 && lower.starts_with('o') && lower.as_bytes()[1].is_ascii_digit();
    if lower.starts_with("gpt-") || lower.starts_with("chatgpt-") || o_series {
        return DEFAULT_PROVIDER;
    }
    if lower.starts_with("claude-") {
        return "anthropic";
    }
    if lower.starts_with("gemini-") {
        return "gemini";
    }
    if lower.starts_with("command") || lower.starts_with("embed-") {
        return "cohere";
    }
    if is_bedrock_id(&lower) {
        return "bedrock";
    }
    DEFAULT_PROVIDER
}

/// `vendor.model` (optionally `region.vendor.model`) as Bedrock spells model ids.
fn is_bedrock_id(model: &str) -> bool {
    let mut parts = model.splitn(3, '.');
    let (Some(first), Some(second)) = (parts.next(), parts.next()) else {
        return false;
    };
    let vendor = |name: &str| BEDROCK_VENDORS.contains(&name);
    let model_part = |name: &str| name.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    if BEDROCK_REGIONS.contains(&first) {
        return vendor(second) && parts.next().is_some_and(model_part);
    }
    vendor(first) && model_part(second)
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
            ("bedrock", _) => "not supported yet (SigV4)".to_owned(),
            ("anthropic", Some(url)) => format!("{url} (native Messages API)"),
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
         command*, embed-* -> cohere; vendor.model (Bedrock ids) -> bedrock; others -> openai.",
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(model: &str) -> Result<(String, String), String> {
        RoutingTable::built_in()
            .route(model)
            .map(|r| (r.provider, r.model))
            .map_err(|e| e.0)
    }

    fn ok(provider: &str, model: &str) -> Result<(String, String), String> {
        Ok((provider.to_owned(), model.to_owned()))
    }

    #[test]
    fn prefixes_pick_the_provider_and_are_stripped() {
        assert_eq!(route("cohere/command"), ok("cohere", "command"));
        assert_eq!(
            route("groq/llama-3.1-8b-instant"),
            ok("groq", "llama-3.1-8b-instant")
        );
        assert_eq!(
            route("openrouter/meta-llama/llama-3-8b"),
            ok("openrouter", "meta-llama/llama-3-8b")
        );
        assert_eq!(route("openai/gpt-4o"), ok("openai", "gpt-4o"));
        assert_eq!(
            route("bedrock/meta.llama2-13b-chat-v1"),
            ok("bedrock", "meta.llama2-13b-chat-v1")
        );
        for (name, ..) in BUILT_IN {
            assert_eq!(route(&format!("{name}/m")), ok(name, "m"));
        }
    }

    #[test]
    fn bare_names_follow_their_family() {
        assert_eq!(route("gpt-4o-mini"), ok("openai", "gpt-4o-mini"));
        assert_eq!(route("o3-mini"), ok("openai", "o3-mini"));
        assert_eq!(
            route("claude-3-5-sonnet-latest"),
            ok("anthropic", "claude-3-5-sonnet-latest")
        );
        assert_eq!(route("gemini-1.5-flash"), ok("gemini", "gemini-1.5-flash"));
        assert_eq!(route("command-r-plus"), ok("cohere", "command-r-plus"));
        assert_eq!(
            route("embed-english-v3.0"),
            ok("cohere", "embed-english-v3.0")
        );
        assert_eq!(
            route("meta.llama2-13b-chat-v1"),
            ok("bedrock", "meta.llama2-13b-chat-v1")
        );
        assert_eq!(
            route("amazon.titan-embed-text-v1"),
            ok("bedrock", "amazon.titan-embed-text-v1")
        );
        assert_eq!(
            route("us.anthropic.claude-3-haiku-20240307-v1:0"),
            ok("bedrock", "us.anthropic.claude-3-haiku-20240307-v1:0")
        );
        // Unrecognised names (a local Ollama or vLLM model) stay on the server's upstream.
        assert_eq!(route("llama3.1"), ok("openai", "llama3.1"));
        assert_eq!(route("orca-mini"), ok("openai", "orca-mini"));
        assert_eq!(route("gpt-3.5-turbo"), ok("openai", "gpt-3.5-turbo"));
    }

    #[test]
    fn bare_names_can_all_go_upstream() {
        let mut table = RoutingTable::built_in();
        table.bare_names = BareNames::Upstream;
        assert_eq!(table.route("claude-3-opus").unwrap().provider, "openai");
    }

    #[test]
    fn unknown_prefixes_are_refused_naming_the_known_ones() {
        let error = route("huggingface/zephyr").unwrap_err();
        assert!(error.starts_with("Unknown model provider 'huggingface' in model 'huggingface/zephyr'. Known providers: anthropic, azure, bedrock, cohere, deepseek, fireworks_ai, gemini, groq, mistral, ollama, openai, openrouter, perplexity, together_ai, vertex_ai, xai, and openai_compatible/<name>/"), "{error}");
        assert!(route("groq/").unwrap_err().contains("no model after '/'"));
        let error = route("openai_compatible/local/x").unwrap_err();
        assert!(error.contains("none are configured"), "{error}");
    }

    #[test]
    fn keys_come_from_the_first_set_variable() {
        let mut table = RoutingTable::built_in();
        table.read_keys(|name| match name {
            "TOGETHERAI_API_KEY" => Some("tk".into()),
            "AZURE_API_BASE" => Some("https://r.openai.azure.com/openai/v1".into()),
            "COHERE_API_KEY" => Some(String::new()),
            _ => None,
        });
        assert_eq!(
            table.providers["together_ai"].api_key.as_deref(),
            Some("tk")
        );
        assert_eq!(table.providers["cohere"].api_key, None);
        assert_eq!(
            table.providers["azure"].base_url.as_deref(),
            Some("https://r.openai.azure.com/openai/v1")
        );
        let shown = format!("{:?}", table.providers["together_ai"]);
        assert!(!shown.contains("tk\""), "{shown}");
    }

    #[test]
    fn help_lists_every_built_in_prefix() {
        let help = built_in_help();
        for (name, ..) in BUILT_IN {
            assert!(help.contains(&format!("  {name}/  ")), "{name}: {help}");
        }
    }
}
