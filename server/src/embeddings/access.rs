//! The credentials a request brings for embeddings, in the seed service's headers: an
//! `api-key` header for the embedding model's provider and `LLM-PARAM-aws-*` headers for
//! Bedrock. They live in memory only, with the request and with the background
//! ingestion it starts (a restart resumes ingestion with the operator's keys), and are
//! never logged, stored or echoed.

use std::collections::BTreeMap;

use crate::llm::UpstreamCredentials;

/// Per-request embedding credentials (`Debug` hides the values).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct EmbedAccess {
    /// The request's `api-key` header.
    pub api_key: Option<String>,
    /// The provider the key belongs to, when known (a run's: its chat model's); `None`
    /// on vector store requests, whose only provider is the embedding model's.
    pub key_provider: Option<String>,
    /// `LLM-PARAM-aws-*` headers as `aws_access_key_id`, ... (for Bedrock models).
    pub aws: BTreeMap<String, String>,
}

impl EmbedAccess {
    /// The embedding side of a request's upstream credentials (the bearer key and a
    /// caller-chosen URL never apply to embeddings).
    pub fn from_credentials(credentials: &UpstreamCredentials) -> Self {
        Self {
            api_key: credentials.api_key.clone(),
            key_provider: None,
            aws: credentials.provider_params.clone(),
        }
    }

    /// The request's key for `provider`, if it sent one meant for it.
    pub fn key_for(&self, provider: &str) -> Option<&str> {
        let meant = self.key_provider.as_deref().is_none_or(|p| p == provider);
        self.api_key
            .as_deref()
            .filter(|key| meant && !key.is_empty())
    }
}

impl std::fmt::Debug for EmbedAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbedAccess")
            .field("api_key", &self.api_key.as_ref().map(|_| "[hidden]"))
            .field("key_provider", &self.key_provider)
            .field("aws", &self.aws.keys().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_meant_for_another_provider_is_not_used() {
        let mut access = EmbedAccess {
            api_key: Some("co-key".into()),
            ..EmbedAccess::default()
        };
        assert_eq!(access.key_for("cohere"), Some("co-key"));
        access.key_provider = Some("anthropic".into());
        assert_eq!(access.key_for("cohere"), None);
        assert_eq!(access.key_for("anthropic"), Some("co-key"));
        access
            .aws
            .insert("aws_secret_access_key".into(), "s3cr3t".into());
        let shown = format!("{access:?}");
        assert!(
            !shown.contains("co-key") && !shown.contains("s3cr3t"),
            "{shown}"
        );
    }
}
