//! Embedding models on AWS Bedrock, called through InvokeModel
//! (`POST {endpoint}/model/{modelId}/invoke`, signed with SigV4 like the Converse
//! adapter): Amazon Titan Text Embeddings (`amazon.titan-embed-text-v1`,
//! `amazon.titan-embed-text-v2:0`: one `inputText` per request, answer `embedding`)
//! and Cohere Embed (`cohere.embed-english-v3`, `cohere.embed-multilingual-v3`: up to
//! 96 `texts` of at most 2048 characters with an `input_type`, answer `embeddings`).
//! Credentials are the request's `LLM-PARAM-aws-*` headers, else the operator's AWS
//! variables.

use serde_json::{json, Value};

use super::access::EmbedAccess;
use super::routing::{EmbedTarget, EmbedWire, Purpose};
use crate::llm::providers::bedrock::{choose_credentials, model_url, runtime_base};
use crate::llm::providers::sigv4::AwsCredentials;
use crate::llm::LlmError;

/// Texts one Cohere Embed call on Bedrock takes at most.
pub const COHERE_MAX_TEXTS: usize = 96;
/// Characters of one text Cohere Embed on Bedrock takes at most (longer ones are cut:
/// the whole text still ranks by keywords).
pub const COHERE_MAX_CHARS: usize = 2048;

/// The request format of a Bedrock model id, if it is an embedding model this server
/// can call (`us.`-style region prefixes allowed).
pub fn wire_of(model: &str) -> Option<EmbedWire> {
    let lower = model.to_ascii_lowercase();
    let id = ["us.", "eu.", "apac.", "global."]
        .iter()
        .find_map(|region| lower.strip_prefix(region))
        .unwrap_or(&lower);
    if id.starts_with("amazon.titan-embed-") {
        Some(EmbedWire::Titan)
    } else if id.starts_with("cohere.embed-") {
        Some(EmbedWire::BedrockCohere)
    } else {
        None
    }
}

/// Where `model`'s embeddings come from on Bedrock (`base_url` empty: the region's
/// public endpoint).
pub fn target(
    base_url: &str,
    model: &str,
    access: &EmbedAccess,
    operator: Option<&AwsCredentials>,
) -> Result<EmbedTarget, LlmError> {
    let wire = wire_of(model).ok_or_else(|| {
        LlmError::server_error(format!(
            "the Bedrock model '{model}' is not an embedding model this server can call \
             (Amazon Titan Text Embeddings or Cohere Embed)"
        ))
    })?;
    let credentials = choose_credentials(&access.aws, operator)?;
    let url = model_url(&runtime_base(base_url, &credentials), model, "invoke")?;
    let (max_inputs, max_chars) = match wire {
        EmbedWire::Titan => (1, None),
        _ => (COHERE_MAX_TEXTS, Some(COHERE_MAX_CHARS)),
    };
    Ok(EmbedTarget {
        url,
        auth: None,
        aws: Some(credentials),
        wire,
        model: model.to_owned(),
        max_inputs,
        max_chars,
    })
}

/// The InvokeModel body of one batch (Titan: exactly one input).
pub fn body(wire: EmbedWire, inputs: &[String], purpose: Purpose) -> Value {
    match wire {
        EmbedWire::Titan => json!({"inputText": inputs.first().cloned().unwrap_or_default()}),
        _ => json!({
            "texts": inputs,
            "input_type": match purpose {
                Purpose::Document => "search_document",
                Purpose::Query => "search_query",
            },
            "truncate": "END",
        }),
    }
}

/// The vectors of an InvokeModel answer, in input order: Titan's `embedding`, Cohere's
/// `embeddings` (a list of floats lists, or `{"float": [...]}` when typed).
pub fn vectors(wire: EmbedWire, answer: &Value) -> Option<Vec<&Value>> {
    match wire {
        EmbedWire::Titan => answer.get("embedding").map(|vector| vec![vector]),
        _ => {
            let embeddings = &answer["embeddings"];
            embeddings
                .as_array()
                .or_else(|| embeddings["float"].as_array())
                .map(|items| items.iter().collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedding_models_are_told_apart_by_id() {
        assert_eq!(
            wire_of("amazon.titan-embed-text-v1"),
            Some(EmbedWire::Titan)
        );
        assert_eq!(
            wire_of("amazon.titan-embed-text-v2:0"),
            Some(EmbedWire::Titan)
        );
        assert_eq!(
            wire_of("cohere.embed-english-v3"),
            Some(EmbedWire::BedrockCohere)
        );
        assert_eq!(
            wire_of("us.cohere.embed-multilingual-v3"),
            Some(EmbedWire::BedrockCohere)
        );
        assert_eq!(wire_of("meta.llama2-13b-chat-v1"), None);
        assert_eq!(wire_of("amazon.titan-text-express-v1"), None);
    }

    #[test]
    fn answers_of_both_families_are_read() {
        let titan = json!({"embedding": [0.1, 0.2], "inputTextTokenCount": 3});
        assert_eq!(vectors(EmbedWire::Titan, &titan).unwrap().len(), 1);
        let floats = json!({"embeddings": [[1.0], [2.0]], "response_type": "embeddings_floats"});
        assert_eq!(vectors(EmbedWire::BedrockCohere, &floats).unwrap().len(), 2);
        let typed =
            json!({"embeddings": {"float": [[1.0]]}, "response_type": "embeddings_by_type"});
        assert_eq!(vectors(EmbedWire::BedrockCohere, &typed).unwrap().len(), 1);
        assert!(vectors(EmbedWire::Titan, &json!({"message": "x"})).is_none());
    }
}
