//! The client for OpenAI-compatible `/embeddings` endpoints (OpenAI, Azure OpenAI,
//! Ollama, vLLM, LiteLLM, ...): inputs go in batches bounded by count and by tokens,
//! each input cut to the models' 8191-token limit; 429, 5xx, connection errors and
//! timeouts are retried with the chat client's backoff; the answer is checked (one
//! finite vector per input, one dimension) and every vector scaled to unit length.
//! A client may carry one request's credentials ([`EmbedAccess`], see
//! [`EmbeddingsClient::with_access`]) for the providers a store's model routes to.

use reqwest::header::{HeaderName, HeaderValue};
use reqwest::Url;
use serde_json::Value;
use tokio::time::Instant;

use super::access::EmbedAccess;
use super::config::EmbeddingsConfig;
use super::routing::{self, EmbedTarget, EmbedWire, Purpose, Routed, ANY_INPUTS};
use super::vectors::normalised;
use crate::llm::providers::bedrock::{operator_credentials, signed_post};
use crate::llm::providers::sigv4::AwsCredentials;
use crate::llm::providers::RoutingTable;
use crate::llm::tokens::tokenizer_for;
use crate::llm::upstream::http::{endpoint_at, read_capped, send};
use crate::llm::LlmError;

/// Tokens one input may have (OpenAI's embedding models take 8191); longer ones are cut.
pub const MAX_INPUT_TOKENS: usize = 8191;
/// Characters of an input looked at before tokenizing: no token is this long on
/// average, so the cut never shortens what the token limit keeps, and a huge query
/// string is not tokenized whole.
const MAX_INPUT_CHARS: usize = MAX_INPUT_TOKENS * 16;
/// Largest answer read: 64 inputs × 3072 dimensions × ~20 bytes of JSON each fit.
const MAX_ANSWER_BYTES: usize = 64 * 1024 * 1024;

/// Embeds texts through one upstream. Its `Debug` never shows the key. Cheap to clone.
#[derive(Clone)]
pub struct EmbeddingsClient {
    /// Pooled HTTP connections.
    client: reqwest::Client,
    /// The operator's settings.
    config: EmbeddingsConfig,
    /// The full `/embeddings` URL.
    url: Url,
    /// The key header, if a key is configured (marked sensitive).
    auth: Option<(HeaderName, HeaderValue)>,
    /// Routes model names to other providers; `None`: every model goes to `url`.
    routes: Option<std::sync::Arc<RoutingTable>>,
    /// The operator's AWS credentials (Bedrock models), read with the routes.
    operator_aws: Option<AwsCredentials>,
    /// The credentials of the request this client works for (none: operator keys only).
    access: EmbedAccess,
}

impl std::fmt::Debug for EmbeddingsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddingsClient")
            .field("url", &self.url.as_str())
            .field("default_model", &self.config.default_model)
            .field("has_key", &self.auth.is_some())
            .field("access", &self.access)
            .finish()
    }
}

impl EmbeddingsClient {
    /// A client for `config`; fails when the base URL or key is unusable.
    pub fn new(config: EmbeddingsConfig) -> Result<Self, LlmError> {
        let url = endpoint_at(&config.base_url, &["embeddings"])?;
        let auth = match config.api_key.as_deref().filter(|key| !key.is_empty()) {
            None => None,
            Some(key) => Some(config.auth_header.header_for(key)?),
        };
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .user_agent(concat!("assistants-server/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| {
                LlmError::server_error(format!("cannot build the HTTP client: {error}"))
            })?;
        Ok(Self {
            client,
            config,
            url,
            auth,
            routes: None,
            operator_aws: None,
            access: EmbedAccess::default(),
        })
    }

    /// The same client routing model names through `table` (see [`super::routing`]),
    /// with the operator's AWS credentials from the environment for Bedrock models.
    pub fn with_routes(mut self, table: std::sync::Arc<RoutingTable>) -> Self {
        self.routes = Some(table);
        self.operator_aws = operator_credentials(|name| std::env::var(name).ok());
        self
    }

    /// The same client with these operator AWS credentials (tests; `None`: none).
    pub fn with_operator_aws(mut self, credentials: Option<AwsCredentials>) -> Self {
        self.operator_aws = credentials;
        self
    }

    /// A copy working for one request: its `api-key` and `LLM-PARAM-aws-*` credentials
    /// go to the provider of the store's model (kept in memory only).
    pub fn with_access(&self, access: EmbedAccess) -> Self {
        Self {
            access,
            ..self.clone()
        }
    }

    /// A copy working for a run on `chat_model`: the run's `api-key` is used only for
    /// an embedding model of the same provider (a key never goes to another provider).
    pub fn for_run(&self, credentials: &crate::llm::UpstreamCredentials, chat_model: &str) -> Self {
        let mut access = EmbedAccess::from_credentials(credentials);
        access.key_provider = Some(
            self.routes
                .as_ref()
                .and_then(|table| table.route(chat_model).ok())
                .map_or_else(String::new, |route| route.provider),
        );
        self.with_access(access)
    }

    /// Refuses a model name that cannot be embedded (an unknown prefix, a provider
    /// without a usable embeddings API or key), so a store is never created for it.
    pub fn check_model(&self, model: &str) -> Result<(), LlmError> {
        self.target(model).map(|_| ())
    }

    /// Where `model`'s embeddings come from.
    fn target(&self, model: &str) -> Result<EmbedTarget, LlmError> {
        let upstream = |model: String| EmbedTarget {
            url: self.url.clone(),
            auth: self.auth.clone(),
            aws: None,
            wire: EmbedWire::OpenAi,
            model,
            max_inputs: ANY_INPUTS,
            max_chars: None,
        };
        let aws = self.operator_aws.as_ref();
        match &self.routes {
            None => Ok(upstream(model.to_owned())),
            Some(table) => Ok(match routing::route(table, model, &self.access, aws)? {
                Routed::Upstream(model) => upstream(model),
                Routed::Provider(target) => *target,
            }),
        }
    }

    /// The model of stores created without an `embedding-model` header.
    pub fn default_model(&self) -> &str {
        &self.config.default_model
    }

    /// Unit-length embeddings of documents `inputs` by `model`, in order (see
    /// [`Self::embed_for`]).
    pub async fn embed(&self, model: &str, inputs: Vec<String>) -> Result<Vec<Vec<f32>>, LlmError> {
        self.embed_for(model, inputs, Purpose::Document).await
    }

    /// Unit-length embeddings of `inputs` by `model` for `purpose`, in order: batch after
    /// batch, each retried on its own; the first batch that fails for good fails the call.
    pub async fn embed_for(
        &self,
        model: &str,
        inputs: Vec<String>,
        purpose: Purpose,
    ) -> Result<Vec<Vec<f32>>, LlmError> {
        let target = self.target(model)?;
        let batch_size = self.config.batch_size.min(target.max_inputs);
        let max_tokens = self.config.max_batch_tokens;
        let owned_model = model.to_owned();
        let max_chars = target.max_chars;
        // Tokenizing thousands of chunks is CPU work: keep it off the async workers.
        let batches = tokio::task::spawn_blocking(move || {
            let inputs = match max_chars {
                Some(limit) => inputs.into_iter().map(|text| cut(text, limit)).collect(),
                None => inputs,
            };
            batches(&owned_model, inputs, batch_size, max_tokens)
        })
        .await
        .map_err(|_| LlmError::server_error("preparing the embedding inputs failed"))?;
        let mut vectors = Vec::new();
        for batch in batches {
            vectors.extend(self.embed_batch(&target, &batch, purpose).await?);
        }
        Ok(vectors)
    }

    /// One request's worth of inputs, with retries.
    async fn embed_batch(
        &self,
        target: &EmbedTarget,
        inputs: &[String],
        purpose: Purpose,
    ) -> Result<Vec<Vec<f32>>, LlmError> {
        let body = routing::body(target.wire, &target.model, inputs, purpose);
        let deadline = Instant::now() + self.config.timeout;
        let policy = &self.config.retry;
        let mut retries = 0;
        loop {
            let error = match self.attempt(target, &body, deadline).await {
                Ok(answer) => {
                    return parse_answer(
                        &routing::as_openai_answer(target.wire, answer),
                        inputs.len(),
                    )
                }
                Err(error) => error,
            };
            let delay = policy.delay(retries, error.retry_after);
            if !error.retryable
                || retries >= policy.max_retries
                || Instant::now() + delay >= deadline
            {
                let attempts = retries + 1;
                return Err(LlmError {
                    message: format!(
                        "the embeddings upstream failed ({attempts} attempt(s)): {}",
                        error.message
                    ),
                    ..error
                });
            }
            tracing::warn!(
                status = error.status,
                delay_ms = delay.as_millis() as u64,
                "embeddings call failed, retrying: {}",
                error.message
            );
            retries += 1;
            tokio::time::sleep(delay).await;
        }
    }

    /// One HTTP attempt; the whole 2xx body on success.
    async fn attempt(
        &self,
        target: &EmbedTarget,
        body: &Value,
        deadline: Instant,
    ) -> Result<String, LlmError> {
        let mut request = match &target.aws {
            // Signed anew on every attempt: a signature is only valid for minutes.
            Some(credentials) => {
                let payload = serde_json::to_vec(body).map_err(|error| {
                    LlmError::server_error(format!("cannot encode the request: {error}"))
                })?;
                signed_post(&self.client, &target.url, &payload, credentials)?
            }
            None => self.client.post(target.url.clone()).json(body),
        };
        if let Some((name, value)) = &target.auth {
            request = request.header(name.clone(), value.clone());
        }
        let idle = self.config.timeout;
        let response = send(request, &target.url, idle, deadline).await?;
        read_capped(response, MAX_ANSWER_BYTES, idle, deadline).await
    }
}

/// `text` cut to at most `limit` characters.
fn cut(mut text: String, limit: usize) -> String {
    if let Some((end, _)) = text.char_indices().nth(limit) {
        text.truncate(end);
    }
    text
}

/// `inputs` (each cut to [`MAX_INPUT_TOKENS`]) grouped into requests of at most
/// `batch_size` inputs and `max_tokens` tokens (a single input always forms a batch).
pub fn batches(
    model: &str,
    inputs: Vec<String>,
    batch_size: usize,
    max_tokens: usize,
) -> Vec<Vec<String>> {
    let tokenizer = tokenizer_for(model);
    let mut batches: Vec<Vec<String>> = Vec::new();
    let (mut current, mut current_tokens) = (Vec::new(), 0);
    for mut input in inputs {
        if let Some((cut, _)) = input.char_indices().nth(MAX_INPUT_CHARS) {
            input.truncate(cut);
        }
        let tokens = tokenizer.encode_with_special_tokens(&input);
        let (input, count) = if tokens.len() > MAX_INPUT_TOKENS {
            let cut = tokenizer
                .decode(&tokens[..MAX_INPUT_TOKENS])
                .unwrap_or_else(|_| input.chars().take(MAX_INPUT_TOKENS).collect());
            (cut, MAX_INPUT_TOKENS)
        } else {
            (input, tokens.len())
        };
        let full = current.len() >= batch_size.max(1) || current_tokens + count > max_tokens;
        if full && !current.is_empty() {
            batches.push(std::mem::take(&mut current));
            current_tokens = 0;
        }
        current.push(input);
        current_tokens += count;
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

/// The vectors of an `/embeddings` answer in input order, checked and normalised.
pub fn parse_answer(text: &str, expected: usize) -> Result<Vec<Vec<f32>>, LlmError> {
    let bad = |why: &str| LlmError::server_error(format!("the embeddings answer {why}"));
    let answer: Value = serde_json::from_str(text).map_err(|_| bad("is not JSON"))?;
    let items = answer["data"]
        .as_array()
        .ok_or_else(|| bad("has no `data` list"))?;
    if items.len() != expected {
        return Err(bad(&format!(
            "has {} vectors for {expected} inputs",
            items.len()
        )));
    }
    let mut vectors: Vec<Option<Vec<f32>>> = vec![None; expected];
    for (position, item) in items.iter().enumerate() {
        let index = item["index"]
            .as_u64()
            .map_or(position, |index| index as usize);
        let raw: Vec<f32> = item["embedding"]
            .as_array()
            .ok_or_else(|| bad("has an item without an `embedding` list"))?
            .iter()
            .map(|x| x.as_f64().map(|x| x as f32))
            .collect::<Option<_>>()
            .ok_or_else(|| bad("has a non-numeric embedding value"))?;
        let vector = normalised(&raw).ok_or_else(|| bad("has an empty or zero vector"))?;
        let slot = vectors
            .get_mut(index)
            .ok_or_else(|| bad("has an index out of range"))?;
        if slot.replace(vector).is_some() {
            return Err(bad("repeats an index"));
        }
    }
    let vectors: Vec<Vec<f32>> = vectors.into_iter().flatten().collect();
    if vectors
        .windows(2)
        .any(|pair| pair[0].len() != pair[1].len())
    {
        return Err(bad("mixes vector dimensions"));
    }
    Ok(vectors)
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
