//! How the operator chooses and configures the model: the `--llm*` flags (a clap
//! [`LlmArgs`] to `#[command(flatten)]` into the server's flags) and the upstream
//! client's settings ([`UpstreamConfig`]).

use std::sync::Arc;
use std::time::Duration;

use super::offline::OfflineModel;
use super::providers::RoutedModel;
use super::retry::RetryPolicy;
use super::{ChatModel, LlmError};

/// OpenAI's endpoint, used when no base URL is configured.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// Which model answers runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LlmMode {
    /// The built-in deterministic model: no network, every model name accepted.
    Offline,
    /// An OpenAI-compatible Chat Completions endpoint.
    Upstream,
}

/// The server's model flags; flatten them into the binary's own `Parser`. Its `Debug`
/// hides the key, like every type here that holds one (a panic or a log line must not
/// print it).
#[derive(Clone, clap::Args)]
pub struct LlmArgs {
    /// Which model answers runs: `offline` (built-in, deterministic) or `upstream`.
    #[arg(
        long = "llm",
        env = "ASSISTANTS_LLM",
        value_enum,
        default_value = "upstream"
    )]
    pub mode: LlmMode,
    /// Base URL of the OpenAI-compatible upstream (`/chat/completions` is appended;
    /// a query such as Azure's `?api-version=…` is kept).
    #[arg(long, env = "OPENAI_BASE_URL", default_value = DEFAULT_BASE_URL)]
    pub llm_base_url: String,
    /// Key for the upstream; without it the caller's own key is forwarded.
    #[arg(long, env = "OPENAI_API_KEY", hide_env_values = true)]
    pub llm_api_key: Option<String>,
    /// Header carrying the upstream key: `authorization` sends `Bearer KEY`, any other
    /// name (Azure: `api-key`) sends the bare key.
    #[arg(
        long,
        env = "ASSISTANTS_LLM_AUTH_HEADER",
        default_value = "authorization"
    )]
    pub llm_auth_header: String,
    /// Retries after a 429, 5xx, connection error or timeout, before any output.
    #[arg(long, default_value_t = 3)]
    pub llm_max_retries: u32,
    /// Longest a whole model call may take, in seconds.
    #[arg(long, default_value_t = 600)]
    pub llm_timeout_secs: u64,
    /// Longest silence from the upstream (before the answer starts or between chunks), in seconds.
    #[arg(long, default_value_t = 120)]
    pub llm_idle_timeout_secs: u64,
    /// The offline model waits this long before each delta, for testing cancels and restarts.
    #[arg(long, default_value_t = 0)]
    pub offline_delay_ms: u64,
    /// Let a request choose its own upstream base URL (off: such requests are refused).
    #[arg(long)]
    pub allow_caller_upstream_urls: bool,
    /// Providers file (TOML) adding or overriding model providers and aliases.
    #[arg(
        long,
        env = "ASSISTANTS_LLM_PROVIDERS",
        value_name = "FILE",
        long_help = super::providers::table::built_in_help()
    )]
    pub llm_providers: Option<std::path::PathBuf>,
}

impl LlmArgs {
    /// The upstream settings these flags describe.
    pub fn upstream_config(&self) -> UpstreamConfig {
        UpstreamConfig {
            base_url: self.llm_base_url.clone(),
            api_key: self.llm_api_key.clone().filter(|key| !key.is_empty()),
            auth_header: AuthHeader::from_name(&self.llm_auth_header),
            allow_caller_base_urls: self.allow_caller_upstream_urls,
            overall_timeout: Duration::from_secs(self.llm_timeout_secs),
            idle_timeout: Duration::from_secs(self.llm_idle_timeout_secs),
            retry: RetryPolicy {
                max_retries: self.llm_max_retries,
                ..RetryPolicy::default()
            },
            ..UpstreamConfig::default()
        }
    }

    /// The model the server should use.
    pub fn build_model(&self) -> Result<Arc<dyn ChatModel>, LlmError> {
        Ok(match self.mode {
            LlmMode::Offline => Arc::new(
                OfflineModel::new().with_delay(Duration::from_millis(self.offline_delay_ms)),
            ),
            LlmMode::Upstream => {
                let table = super::providers::load_table(self.llm_providers.as_deref())
                    .map_err(|error| LlmError::server_error(error.to_string()))?;
                Arc::new(RoutedModel::new(self.upstream_config(), table)?)
            }
        })
    }
}

/// How the upstream key travels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthHeader {
    /// `Authorization: Bearer KEY` (OpenAI and nearly everyone else).
    Bearer,
    /// `NAME: KEY` (Azure OpenAI uses `api-key`).
    Named(String),
}

impl AuthHeader {
    /// The header carrying `key` (chat and embeddings upstreams alike), marked sensitive so
    /// no debug output shows it.
    pub fn header_for(
        &self,
        key: &str,
    ) -> Result<(reqwest::header::HeaderName, reqwest::header::HeaderValue), LlmError> {
        use reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION};
        let (name, value) = match self {
            AuthHeader::Bearer => (AUTHORIZATION, format!("Bearer {key}")),
            AuthHeader::Named(name) => (
                HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                    LlmError::server_error(format!("invalid upstream auth header {name:?}"))
                })?,
                key.to_owned(),
            ),
        };
        let mut value = HeaderValue::from_str(&value).map_err(|_| {
            LlmError::server_error("the upstream API key contains characters a header cannot carry")
        })?;
        value.set_sensitive(true);
        Ok((name, value))
    }

    /// `authorization` (any case) means bearer; anything else is a header name.
    pub fn from_name(name: &str) -> Self {
        if name.eq_ignore_ascii_case("authorization") {
            AuthHeader::Bearer
        } else {
            AuthHeader::Named(name.to_owned())
        }
    }
}

/// Settings of the upstream client (`Debug` hides the key).
#[derive(Clone, PartialEq, Eq)]
pub struct UpstreamConfig {
    /// Base URL; `/chat/completions` is appended to its path.
    pub base_url: String,
    /// The operator's key; a request's `api-key` header overrides it.
    pub api_key: Option<String>,
    /// How the key is sent.
    pub auth_header: AuthHeader,
    /// Whether a request may name its own upstream base URL.
    pub allow_caller_base_urls: bool,
    /// Longest wait for a TCP/TLS connection.
    pub connect_timeout: Duration,
    /// Longest a whole call (all attempts, whole stream) may take.
    pub overall_timeout: Duration,
    /// Longest silence before the response starts or between two chunks.
    pub idle_timeout: Duration,
    /// Retries and backoff.
    pub retry: RetryPolicy,
    /// Body parameter carrying the token limit: `max_completion_tokens` (OpenAI) or
    /// `max_tokens` for older OpenAI-compatible servers.
    pub max_tokens_param: String,
    /// Send `stream_options: {"include_usage": true}`; turn off for servers that reject it
    /// (usage is then counted locally).
    pub include_usage: bool,
}

/// What `Debug` shows of a key: only whether there is one.
pub fn hidden(key: &Option<String>) -> Option<&'static str> {
    key.as_ref().map(|_| "[hidden]")
}

impl std::fmt::Debug for LlmArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmArgs")
            .field("mode", &self.mode)
            .field("llm_base_url", &self.llm_base_url)
            .field("llm_api_key", &hidden(&self.llm_api_key))
            .field("llm_auth_header", &self.llm_auth_header)
            .field("llm_max_retries", &self.llm_max_retries)
            .field("llm_timeout_secs", &self.llm_timeout_secs)
            .field("llm_idle_timeout_secs", &self.llm_idle_timeout_secs)
            .field("offline_delay_ms", &self.offline_delay_ms)
            .field(
                "allow_caller_upstream_urls",
                &self.allow_caller_upstream_urls,
            )
            .field("llm_providers", &self.llm_providers)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for UpstreamConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &hidden(&self.api_key))
            .field("auth_header", &self.auth_header)
            .field("allow_caller_base_urls", &self.allow_caller_base_urls)
            .field("connect_timeout", &self.connect_timeout)
            .field("overall_timeout", &self.overall_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("retry", &self.retry)
            .field("max_tokens_param", &self.max_tokens_param)
            .field("include_usage", &self.include_usage)
            .finish()
    }
}

impl Default for UpstreamConfig {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_key: None,
            auth_header: AuthHeader::Bearer,
            allow_caller_base_urls: false,
            connect_timeout: Duration::from_secs(10),
            overall_timeout: Duration::from_secs(600),
            idle_timeout: Duration::from_secs(120),
            retry: RetryPolicy::default(),
            max_tokens_param: "max_completion_tokens".to_owned(),
            include_usage: true,
        }
    }
}

impl UpstreamConfig {
    /// Settings from flags falling back to `OPENAI_BASE_URL` / `OPENAI_API_KEY`, for
    /// callers that do not go through clap (flags win over the environment).
    pub fn from_env_and_flags(base_url: Option<String>, api_key: Option<String>) -> Self {
        let env = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        Self {
            base_url: base_url
                .or_else(|| env("OPENAI_BASE_URL"))
                .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned()),
            api_key: api_key
                .filter(|key| !key.is_empty())
                .or_else(|| env("OPENAI_API_KEY")),
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Flags {
        #[command(flatten)]
        llm: LlmArgs,
    }

    #[test]
    fn flags_flatten_and_build_upstream_settings() {
        let flags = Flags::try_parse_from([
            "server",
            "--llm",
            "offline",
            "--llm-base-url",
            "http://localhost:11434/v1",
            "--llm-api-key",
            "k",
            "--llm-auth-header",
            "api-key",
            "--llm-max-retries",
            "1",
            "--offline-delay-ms",
            "5",
            "--allow-caller-upstream-urls",
        ])
        .unwrap();
        assert_eq!(flags.llm.mode, LlmMode::Offline);
        assert_eq!(flags.llm.offline_delay_ms, 5);
        let config = flags.llm.upstream_config();
        assert_eq!(config.base_url, "http://localhost:11434/v1");
        assert_eq!(config.api_key.as_deref(), Some("k"));
        assert_eq!(config.auth_header, AuthHeader::Named("api-key".into()));
        assert_eq!(config.retry.max_retries, 1);
        assert!(config.allow_caller_base_urls);
        assert!(flags.llm.build_model().is_ok());
    }

    #[test]
    fn flags_win_over_the_environment() {
        let config = UpstreamConfig::from_env_and_flags(
            Some("http://localhost:8000/v1".into()),
            Some("sk-flag".into()),
        );
        assert_eq!(config.base_url, "http://localhost:8000/v1");
        assert_eq!(config.api_key.as_deref(), Some("sk-flag"));
        assert_eq!(config.auth_header, AuthHeader::Bearer);
    }

    #[test]
    fn unknown_mode_is_refused() {
        assert!(Flags::try_parse_from(["server", "--llm", "magic"]).is_err());
    }

    #[test]
    fn debug_output_never_shows_a_key() {
        let args = Flags::parse_from(["x", "--llm-api-key", "sk-secret-flag"]).llm;
        let config = args.upstream_config();
        for shown in [format!("{args:?}"), format!("{config:?}")] {
            assert!(!shown.contains("sk-secret-flag"), "{shown}");
            assert!(shown.contains("[hidden]"), "{shown}");
        }
    }
}
