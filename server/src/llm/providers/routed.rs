//! [`RoutedModel`]: the [`ChatModel`] that sends each turn to the provider its model
//! name routes to, with that provider's base URL and key, through the
//! OpenAI-compatible client ([`UpstreamModel`]) or a native adapter.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::bedrock::BedrockModel;
use super::native::{Dialect, NativeModel};
use super::table::{Protocol, Provider, Route, RouteError, RoutingTable, DEFAULT_PROVIDER};
use crate::llm::config::UpstreamConfig;
use crate::llm::upstream::UpstreamModel;
use crate::llm::{ChatModel, ChatRequest, ChatStream, LlmError};

/// Routes every turn by its model name (see [`RoutingTable::route`]).
pub struct RoutedModel {
    /// Providers, aliases and bare-name rules.
    table: Arc<RoutingTable>,
    /// The server's own upstream (`openai/` and bare OpenAI names).
    default: UpstreamModel,
    /// Clients of the other providers, made on first use (each keeps its connections).
    clients: Mutex<HashMap<String, Arc<dyn ChatModel>>>,
}

impl RoutedModel {
    /// A model routing over `table`, with `upstream` as the `openai` provider and as the
    /// template of every other provider's timeouts and retries.
    pub fn new(upstream: UpstreamConfig, table: RoutingTable) -> Result<Self, LlmError> {
        for provider in table.providers.values().chain(table.compatible.values()) {
            if let Some(base) = &provider.base_url {
                let path: &[&str] = match provider.protocol {
                    Protocol::AnthropicMessages => Dialect::Anthropic.path(),
                    Protocol::CohereChat => Dialect::Cohere.path(),
                    Protocol::GeminiGenerateContent => Dialect::Gemini.path(),
                    _ => &["chat", "completions"],
                };
                crate::llm::upstream::http::endpoint_at(base, path)?;
            }
        }
        Ok(Self {
            default: UpstreamModel::new(upstream)?,
            table: Arc::new(table),
            clients: Mutex::new(HashMap::new()),
        })
    }

    /// The routing table in use.
    pub fn table(&self) -> &RoutingTable {
        &self.table
    }

    /// Where `model` goes, refusing what cannot be called from this server.
    fn routable(&self, model: &str) -> Result<(Route, &Provider), RouteError> {
        let route = self.table.route(model)?;
        let provider = self.table.provider(&route).ok_or_else(|| {
            RouteError(format!(
                "The provider of model '{model}' is not configured."
            ))
        })?;
        let own_endpoint = provider.protocol == Protocol::BedrockConverse;
        if provider.name != DEFAULT_PROVIDER && provider.base_url.is_none() && !own_endpoint {
            return Err(RouteError(format!(
                "The model '{model}' routes to the provider '{}', which has no base URL on \
                 this server (the operator sets it in the providers file{}).",
                provider.name,
                if provider.name == "azure" {
                    " or AZURE_API_BASE"
                } else {
                    ""
                }
            )));
        }
        Ok((route, provider))
    }

    /// The client of a provider other than the default one.
    fn client(&self, route: &Route, provider: &Provider) -> Result<Arc<dyn ChatModel>, LlmError> {
        let mut clients = self
            .clients
            .lock()
            .map_err(|_| LlmError::server_error("the provider clients are unavailable"))?;
        if let Some(client) = clients.get(&route.provider) {
            return Ok(client.clone());
        }
        let base = self.default.config();
        let config = UpstreamConfig {
            base_url: provider.base_url.clone().unwrap_or_default(),
            api_key: provider.api_key.clone(),
            auth_header: provider.auth_header.clone(),
            ..base.clone()
        };
        let client: Arc<dyn ChatModel> = match provider.protocol {
            Protocol::AnthropicMessages => Arc::new(NativeModel::new(Dialect::Anthropic, config)?),
            Protocol::CohereChat => Arc::new(NativeModel::new(Dialect::Cohere, config)?),
            Protocol::BedrockConverse => {
                Arc::new(BedrockModel::new(config, |name| std::env::var(name).ok())?)
            }
            Protocol::GeminiGenerateContent => Arc::new(NativeModel::new(Dialect::Gemini, config)?),
            Protocol::ChatCompletions => Arc::new(UpstreamModel::new(config)?),
        };
        clients.insert(route.provider.clone(), Arc::clone(&client));
        Ok(client)
    }
}

#[async_trait::async_trait]
impl ChatModel for RoutedModel {
    async fn stream(&self, mut request: ChatRequest) -> Result<ChatStream, LlmError> {
        let (route, provider) = self
            .routable(&request.model)
            .map_err(|error| LlmError::invalid_prompt(error.0))?;
        request.model = route.model.clone();
        if route.provider == DEFAULT_PROVIDER {
            return self.default.stream(request).await;
        }
        // The caller's bearer key is this server's tenant key (or an OpenAI key): it is
        // never sent to another provider.
        request.credentials.caller_bearer = None;
        let has_key = request.credentials.api_key.is_some() || provider.api_key.is_some();
        if !has_key && !provider.key_optional {
            return Err(LlmError::server_error(format!(
                "no API key for the provider '{}': send one in the request's api-key header, \
                 or set {} on the server",
                provider.name,
                provider.key_env.join(" or ")
            )));
        }
        let client = self.client(&route, provider)?;
        client.stream(request).await
    }

    fn check_model(&self, model: &str) -> Result<(), RouteError> {
        self.routable(model).map(|_| ())
    }

    fn provider_name(&self, model: &str) -> Option<String> {
        // `route.provider` is a table key: a built-in name or the operator's.
        self.routable(model).ok().map(|(route, _)| route.provider)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_names_come_from_the_table_never_from_the_request() {
        let model = RoutedModel::new(UpstreamConfig::default(), RoutingTable::built_in()).unwrap();
        let name = |model_name: &str| model.provider_name(model_name);
        assert_eq!(name("gpt-4o").as_deref(), Some("openai"));
        assert_eq!(name("my-private-finetune").as_deref(), Some("openai"));
        assert_eq!(name("groq/llama-3.1-8b-instant").as_deref(), Some("groq"));
        assert_eq!(
            name("claude-3-5-sonnet-latest").as_deref(),
            Some("anthropic")
        );
        // Prefixes the table does not know never become labels.
        assert_eq!(name("tenant-secret/model"), None);
        assert_eq!(name("openai_compatible/tenant-secret/model"), None);
    }
}
