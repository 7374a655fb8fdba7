//! How the operator points the server at an embeddings upstream: the `--embeddings-*`
//! flags (a clap [`EmbeddingsArgs`] to flatten into the binary's flags) and the
//! client's settings ([`EmbeddingsConfig`]). Without a base URL or key nothing is
//! configured and retrieval stays keyword-only, with no network.

use std::time::Duration;

use crate::llm::config::{AuthHeader, DEFAULT_BASE_URL};
use crate::llm::retry::RetryPolicy;

/// The model used when a request names none (`embedding-model` header).
pub const DEFAULT_EMBEDDING_MODEL: &str = "text-embedding-3-small";
/// Inputs sent in one `/embeddings` request at most (OpenAI allows 2048; fewer keeps
/// each request's body and answer small).
pub const DEFAULT_BATCH_SIZE: usize = 64;

/// The embeddings flags; flatten them into the binary's own `Parser`.
#[derive(Debug, Clone, clap::Args)]
pub struct EmbeddingsArgs {
    /// Base URL of an OpenAI-compatible embeddings upstream (`/embeddings` is appended).
    /// With it (or a key) vector store search is hybrid: keyword and semantic fused.
    #[arg(long, env = "ASSISTANTS_EMBEDDINGS_BASE_URL")]
    pub embeddings_base_url: Option<String>,
    /// Key for the embeddings upstream (never forwarded from callers: ingestion runs in
    /// the background, after the request and across restarts).
    #[arg(long, env = "ASSISTANTS_EMBEDDINGS_API_KEY", hide_env_values = true)]
    pub embeddings_api_key: Option<String>,
    /// Model used when a request sends no `embedding-model` header.
    #[arg(long, env = "ASSISTANTS_EMBEDDINGS_MODEL", default_value = DEFAULT_EMBEDDING_MODEL)]
    pub embeddings_model: String,
    /// Header carrying the key: `authorization` sends `Bearer KEY`, any other name
    /// (Azure: `api-key`) sends the bare key.
    #[arg(long, default_value = "authorization")]
    pub embeddings_auth_header: String,
    /// Inputs per `/embeddings` request.
    #[arg(long, default_value_t = DEFAULT_BATCH_SIZE)]
    pub embeddings_batch_size: usize,
    /// Retries after a 429, 5xx, connection error or timeout.
    #[arg(long, default_value_t = 3)]
    pub embeddings_max_retries: u32,
    /// Longest one `/embeddings` request may take with its retries, in seconds.
    #[arg(long, default_value_t = 60)]
    pub embeddings_timeout_secs: u64,
}

impl EmbeddingsArgs {
    /// The upstream these flags describe; `None` when neither a base URL nor a key was
    /// given (a bare server sends nothing anywhere).
    pub fn config(&self) -> Option<EmbeddingsConfig> {
        let given = |value: &Option<String>| value.clone().filter(|v| !v.trim().is_empty());
        let base_url = given(&self.embeddings_base_url);
        let api_key = given(&self.embeddings_api_key);
        if base_url.is_none() && api_key.is_none() {
            return None;
        }
        Some(EmbeddingsConfig {
            base_url: base_url.unwrap_or_else(|| DEFAULT_BASE_URL.to_owned()),
            api_key,
            auth_header: AuthHeader::from_name(&self.embeddings_auth_header),
            default_model: self.embeddings_model.clone(),
            batch_size: self.embeddings_batch_size.clamp(1, MAX_BATCH_SIZE),
            timeout: Duration::from_secs(self.embeddings_timeout_secs.max(1)),
            retry: RetryPolicy {
                max_retries: self.embeddings_max_retries,
                ..RetryPolicy::default()
            },
            ..EmbeddingsConfig::new("http://localhost/v1")
        })
    }
}

/// Largest batch accepted from the flags (OpenAI's own limit).
pub const MAX_BATCH_SIZE: usize = 2048;

/// Settings of the embeddings client. Its `Debug` hides the key.
#[derive(Clone, PartialEq, Eq)]
pub struct EmbeddingsConfig {
    /// Base URL; `/embeddings` is appended to its path.
    pub base_url: String,
    /// The operator's key, if the upstream needs one.
    pub api_key: Option<String>,
    /// How the key is sent.
    pub auth_header: AuthHeader,
    /// The model of stores created without an `embedding-model` header.
    pub default_model: String,
    /// Inputs per request at most.
    pub batch_size: usize,
    /// Tokens per request at most, summed over its inputs (OpenAI: 300k).
    pub max_batch_tokens: usize,
    /// Longest wait for a TCP/TLS connection.
    pub connect_timeout: Duration,
    /// Longest one request (all attempts) may take.
    pub timeout: Duration,
    /// Retries and backoff.
    pub retry: RetryPolicy,
}

impl EmbeddingsConfig {
    /// Defaults around `base_url`, with no key (tests, local servers).
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            api_key: None,
            auth_header: AuthHeader::Bearer,
            default_model: DEFAULT_EMBEDDING_MODEL.to_owned(),
            batch_size: DEFAULT_BATCH_SIZE,
            max_batch_tokens: 100_000,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
        }
    }
}

impl std::fmt::Debug for EmbeddingsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddingsConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "[hidden]"))
            .field("auth_header", &self.auth_header)
            .field("default_model", &self.default_model)
            .field("batch_size", &self.batch_size)
            .field("max_batch_tokens", &self.max_batch_tokens)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Flags {
        #[command(flatten)]
        embeddings: EmbeddingsArgs,
    }

    #[test]
    fn nothing_is_configured_without_a_url_or_key() {
        let flags = Flags::try_parse_from(["server"]).unwrap();
        assert_eq!(flags.embeddings.config(), None);
        let flags = Flags::try_parse_from(["server", "--embeddings-base-url", " "]).unwrap();
        assert_eq!(flags.embeddings.config(), None);
    }

    #[test]
    fn flags_build_the_client_settings() {
        let flags = Flags::try_parse_from([
            "server",
            "--embeddings-base-url",
            "http://localhost:11434/v1",
            "--embeddings-model",
            "nomic-embed-text",
            "--embeddings-auth-header",
            "api-key",
            "--embeddings-batch-size",
            "100000",
            "--embeddings-max-retries",
            "1",
        ])
        .unwrap();
        let config = flags.embeddings.config().unwrap();
        assert_eq!(config.base_url, "http://localhost:11434/v1");
        assert_eq!(config.default_model, "nomic-embed-text");
        assert_eq!(config.auth_header, AuthHeader::Named("api-key".into()));
        assert_eq!(config.batch_size, MAX_BATCH_SIZE);
        assert_eq!(config.retry.max_retries, 1);
        assert_eq!(config.api_key, None);
        let key_only = Flags::try_parse_from(["server", "--embeddings-api-key", "sk-e"]).unwrap();
        let config = key_only.embeddings.config().unwrap();
        assert_eq!(config.base_url, DEFAULT_BASE_URL);
        assert_eq!(config.default_model, DEFAULT_EMBEDDING_MODEL);
    }
}
