//! Which provider embeds a store's model: with a routing table, a model name such as
//! `cohere/embed-english-v3.0` (or a bare `embed-*`) goes to Cohere's native v2
//! `/embed`, `gemini/text-embedding-004` to Gemini's `batchEmbedContents`,
//! `mistral/mistral-embed` to that provider's OpenAI-compatible
//! `/embeddings`, Bedrock ids (`amazon.titan-embed-text-v2:0`, `cohere.embed-english-v3`)
//! to Bedrock's InvokeModel ([`super::bedrock`]), and OpenAI names (or `openai/…`) to
//! the configured embeddings upstream. A provider gets the request's key
//! ([`EmbedAccess`]) when one was sent for it, else the operator's; the configured
//! embeddings upstream always gets the operator's.

use reqwest::header::{HeaderName, HeaderValue};
use reqwest::Url;
use serde_json::{json, Value};

use super::access::EmbedAccess;
use crate::llm::config::AuthHeader;
use crate::llm::providers::sigv4::AwsCredentials;
use crate::llm::providers::table::DEFAULT_PROVIDER;
use crate::llm::providers::{Protocol, RoutingTable};
use crate::llm::upstream::http::endpoint_at;
use crate::llm::LlmError;

/// What the embedded texts are for; Cohere's v3 models embed each side differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Chunks of a file being ingested.
    Document,
    /// A search query.
    Query,
}

/// The body and answer shape of an embeddings endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbedWire {
    /// OpenAI's `/embeddings`: `{model, input}` → `{data: [{index, embedding}]}`.
    OpenAi,
    /// Cohere's v2 `/embed`: `{model, texts, input_type, embedding_types}` →
    /// `{embeddings: {float: [...]}}`.
    Cohere,
    /// Gemini's `models/{model}:batchEmbedContents`: `{requests: [{model, content,
    /// taskType}]}` → `{embeddings: [{values}]}`.
    Gemini,
    /// Amazon Titan Text Embeddings on Bedrock: `{inputText}` → `{embedding}`, one
    /// input per request.
    Titan,
    /// Cohere Embed on Bedrock: `{texts, input_type, truncate}` → `{embeddings}`.
    BedrockCohere,
}

/// Where one model's embeddings come from.
#[derive(Debug, Clone)]
pub struct EmbedTarget {
    /// The full endpoint URL.
    pub url: Url,
    /// The key header, if a key applies (marked sensitive).
    pub auth: Option<(HeaderName, HeaderValue)>,
    /// AWS credentials each request is signed with (Bedrock), instead of `auth`.
    pub aws: Option<AwsCredentials>,
    /// The endpoint's format.
    pub wire: EmbedWire,
    /// The model name the provider is sent (prefix removed).
    pub model: String,
    /// Inputs one request may carry (Titan takes one).
    pub max_inputs: usize,
    /// Characters one input may have, when the provider limits them.
    pub max_chars: Option<usize>,
}

/// Inputs per request when the provider sets no lower limit.
pub const ANY_INPUTS: usize = usize::MAX;

/// Where a model's embeddings come from.
#[derive(Debug, Clone)]
pub enum Routed {
    /// The configured embeddings upstream, sent this model name (prefix removed).
    Upstream(String),
    /// Another provider.
    Provider(Box<EmbedTarget>),
}

/// Routes `model` through `table`, with the request's `access` and the operator's AWS
/// credentials (`aws`) for Bedrock.
pub fn route(
    table: &RoutingTable,
    model: &str,
    access: &EmbedAccess,
    aws: Option<&AwsCredentials>,
) -> Result<Routed, LlmError> {
    let refuse = |message: String| LlmError::server_error(message);
    let route = table.route(model).map_err(|error| refuse(error.0))?;
    if route.provider == DEFAULT_PROVIDER {
        return Ok(Routed::Upstream(route.model));
    }
    let provider = table
        .provider(&route)
        .ok_or_else(|| refuse(format!("the provider of model '{model}' is not configured")))?;
    if provider.protocol == Protocol::BedrockConverse {
        let base = provider.base_url.as_deref().unwrap_or_default();
        let target = super::bedrock::target(base, &route.model, access, aws)?;
        return Ok(Routed::Provider(Box::new(target)));
    }
    let gemini_method = format!("{}:batchEmbedContents", route.model);
    let (wire, path, auth): (EmbedWire, Vec<&str>, AuthHeader) = match provider.protocol {
        Protocol::CohereChat => (EmbedWire::Cohere, vec!["embed"], AuthHeader::Bearer),
        Protocol::GeminiGenerateContent => (
            EmbedWire::Gemini,
            vec!["models", &gemini_method],
            AuthHeader::Named("x-goog-api-key".into()),
        ),
        Protocol::ChatCompletions => (
            EmbedWire::OpenAi,
            vec!["embeddings"],
            provider.auth_header.clone(),
        ),
        _ => {
            return Err(refuse(format!(
                "the embedding model '{model}' routes to '{}', whose embeddings this server \
                 cannot call",
                provider.name
            )))
        }
    };
    let base = provider.base_url.as_deref().ok_or_else(|| {
        refuse(format!(
            "the provider '{}' has no base URL on this server",
            provider.name
        ))
    })?;
    let key = access
        .key_for(&route.provider)
        .or(provider.api_key.as_deref())
        .filter(|key| !key.is_empty());
    if key.is_none() && !provider.key_optional {
        return Err(refuse(format!(
            "no API key for the embeddings provider '{}': send one in the request's api-key \
             header, or set {} on the server",
            provider.name,
            provider.key_env.join(" or ")
        )));
    }
    Ok(Routed::Provider(Box::new(EmbedTarget {
        url: endpoint_at(base, &path)?,
        auth: key.map(|key| auth.header_for(key)).transpose()?,
        aws: None,
        wire,
        model: route.model,
        max_inputs: ANY_INPUTS,
        max_chars: None,
    })))
}

/// The request body of one batch.
pub fn body(wire: EmbedWire, model: &str, inputs: &[String], purpose: Purpose) -> Value {
    match wire {
        EmbedWire::OpenAi => json!({"model": model, "input": inputs, "encoding_format": "float"}),
        EmbedWire::Cohere => json!({
            "model": model,
            "texts": inputs,
            "input_type": match purpose {
                Purpose::Document => "search_document",
                Purpose::Query => "search_query",
            },
            "embedding_types": ["float"],
        }),
        EmbedWire::Gemini => {
            let task = match purpose {
                Purpose::Document => "RETRIEVAL_DOCUMENT",
                Purpose::Query => "RETRIEVAL_QUERY",
            };
            let requests: Vec<Value> = inputs
                .iter()
                .map(|text| {
                    json!({"model": format!("models/{model}"),
                    "content": {"parts": [{"text": text}]}, "taskType": task})
                })
                .collect();
            json!({"requests": requests})
        }
        EmbedWire::Titan | EmbedWire::BedrockCohere => super::bedrock::body(wire, inputs, purpose),
    }
}

/// A Cohere, Gemini or Bedrock answer in OpenAI's shape, so one parser checks them all.
pub fn as_openai_answer(wire: EmbedWire, text: String) -> String {
    if wire == EmbedWire::OpenAi {
        return text;
    }
    let Ok(answer) = serde_json::from_str::<Value>(&text) else {
        return text;
    };
    let vectors: Option<Vec<&Value>> = match wire {
        EmbedWire::Gemini => answer["embeddings"]
            .as_array()
            .map(|items| items.iter().map(|item| &item["values"]).collect()),
        EmbedWire::Titan | EmbedWire::BedrockCohere => super::bedrock::vectors(wire, &answer),
        _ => answer["embeddings"]["float"]
            .as_array()
            .map(|items| items.iter().collect()),
    };
    let Some(vectors) = vectors else {
        return json!({"error": "the answer has no embeddings list"}).to_string();
    };
    let data: Vec<Value> = vectors
        .iter()
        .enumerate()
        .map(|(index, vector)| json!({"index": index, "embedding": vector}))
        .collect();
    json!({"data": data}).to_string()
}
