//! AWS Bedrock through ConverseStream (`POST {endpoint}/model/{modelId}/converse-stream`),
//! signed with SigV4 ([`super::sigv4`], service `bedrock`). Credentials come from the
//! request's `LLM-PARAM-aws-access-key-id`, `LLM-PARAM-aws-secret-access-key`,
//! `LLM-PARAM-aws-session-token` and `LLM-PARAM-aws-region-name` headers (the seed
//! service's), else from the operator's `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_SESSION_TOKEN` and `AWS_REGION`/`AWS_DEFAULT_REGION`. The answer arrives in
//! AWS's binary event-stream framing ([`eventstream`]) and is decoded event by event
//! ([`stream`]); throttling and 5xx are retried before any output.

pub mod body;
pub mod eventstream;
pub mod stream;

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::StreamExt;
use reqwest::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use reqwest::Url;
use tokio::time::Instant;

use super::sigv4::{self, AwsCredentials, SignedRequest};
use crate::llm::config::UpstreamConfig;
use crate::llm::upstream::http;
use crate::llm::{ChatModel, ChatRequest, ChatStream, LlmError};

/// A [`ChatModel`] calling Bedrock's Converse API. Cheap to clone.
#[derive(Debug, Clone)]
pub struct BedrockModel {
    /// Pooled connections.
    client: reqwest::Client,
    /// Timeouts and retries; `base_url` empty means Bedrock's regional endpoint.
    config: Arc<UpstreamConfig>,
    /// The operator's credentials from the environment, when complete.
    operator: Option<AwsCredentials>,
}

impl BedrockModel {
    /// A client with `config`'s limits; `env` looks up the operator's AWS variables.
    pub fn new(
        config: UpstreamConfig,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, LlmError> {
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .user_agent(concat!("assistants-server/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| {
                LlmError::server_error(format!("cannot build the HTTP client: {error}"))
            })?;
        Ok(Self {
            client,
            config: Arc::new(config),
            operator: operator_credentials(env),
        })
    }
}

/// The operator's AWS credentials from the standard variables, when complete; `env`
/// looks a variable up.
pub fn operator_credentials(env: impl Fn(&str) -> Option<String>) -> Option<AwsCredentials> {
    let mut operator = BTreeMap::new();
    for (param, variable) in [
        ("aws_access_key_id", "AWS_ACCESS_KEY_ID"),
        ("aws_secret_access_key", "AWS_SECRET_ACCESS_KEY"),
        ("aws_session_token", "AWS_SESSION_TOKEN"),
        ("aws_region_name", "AWS_REGION"),
        ("aws_region_name", "AWS_DEFAULT_REGION"),
    ] {
        if let Some(value) = env(variable).filter(|v| !v.is_empty()) {
            operator.entry(param.to_owned()).or_insert(value);
        }
    }
    credentials_from(&operator)
}

/// The request's credentials (`aws_*` parameters of its `LLM-PARAM-aws-*` headers)
/// when it sent any, else the operator's; an error saying what to send otherwise.
pub fn choose_credentials(
    params: &BTreeMap<String, String>,
    operator: Option<&AwsCredentials>,
) -> Result<AwsCredentials, LlmError> {
    if params.keys().any(|name| name.starts_with("aws_")) {
        return credentials_from(params).ok_or_else(|| {
            LlmError::server_error(
                "incomplete AWS credentials: send LLM-PARAM-aws-access-key-id, \
                 LLM-PARAM-aws-secret-access-key and LLM-PARAM-aws-region-name",
            )
        });
    }
    operator.cloned().ok_or_else(|| {
        LlmError::server_error(
            "no AWS credentials for Bedrock: send the LLM-PARAM-aws-* headers, or set \
             AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION on the server",
        )
    })
}

/// Bedrock's runtime endpoint: the operator's base URL (tests, VPC endpoints), else the
/// region's public one.
pub fn runtime_base(base_url: &str, credentials: &AwsCredentials) -> String {
    if base_url.is_empty() {
        format!(
            "https://bedrock-runtime.{}.amazonaws.com",
            credentials.region
        )
    } else {
        base_url.trim_end_matches('/').to_owned()
    }
}

/// `{base}/model/{modelId}/{action}`, the model id percent-encoded as SigV4 wants it.
pub fn model_url(base: &str, model: &str, action: &str) -> Result<Url, LlmError> {
    Url::parse(&format!("{base}/model/{}/{action}", encode_segment(model)))
        .map_err(|error| LlmError::server_error(format!("invalid Bedrock URL: {error}")))
}

/// A JSON POST of `payload` to `url`, signed now with `credentials` (service
/// `bedrock`); the signing headers are marked sensitive so they never show in logs.
pub fn signed_post(
    client: &reqwest::Client,
    url: &Url,
    payload: &[u8],
    credentials: &AwsCredentials,
) -> Result<reqwest::RequestBuilder, LlmError> {
    let host = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_owned(),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    let to_sign = SignedRequest {
        method: "POST",
        path: url.path(),
        query: url.query().unwrap_or_default(),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("host".into(), host),
        ],
        payload,
    };
    let mut builder = client
        .post(url.clone())
        .header(CONTENT_TYPE, "application/json")
        .body(payload.to_vec());
    for (name, value) in sigv4::sign(&to_sign, credentials, "bedrock", &sigv4::amz_date(now)) {
        let mut value = HeaderValue::from_str(&value).map_err(|_| {
            LlmError::server_error("the AWS credentials contain characters a header cannot carry")
        })?;
        value.set_sensitive(true);
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| LlmError::server_error("invalid signing header"))?;
        builder = builder.header(name, value);
    }
    Ok(builder)
}

/// Complete credentials from `aws_*` parameters (`aws_region` accepted for the region).
fn credentials_from(params: &BTreeMap<String, String>) -> Option<AwsCredentials> {
    Some(AwsCredentials {
        access_key_id: params.get("aws_access_key_id")?.clone(),
        secret_access_key: params.get("aws_secret_access_key")?.clone(),
        session_token: params.get("aws_session_token").cloned(),
        region: params
            .get("aws_region_name")
            .or_else(|| params.get("aws_region"))?
            .clone(),
    })
}

/// SigV4's unreserved characters stay; everything else (`:` of versioned model ids) is
/// percent-encoded in the path, as the AWS SDKs send it.
fn encode_segment(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[async_trait::async_trait]
impl ChatModel for BedrockModel {
    async fn stream(&self, request: ChatRequest) -> Result<ChatStream, LlmError> {
        let params = &request.credentials.provider_params;
        let credentials = choose_credentials(params, self.operator.as_ref())?;
        let base = runtime_base(&self.config.base_url, &credentials);
        let url = model_url(&base, &request.model, "converse-stream")?;
        let payload = serde_json::to_vec(&body::request_body(&request)).map_err(|error| {
            LlmError::server_error(format!("cannot encode the request: {error}"))
        })?;
        let deadline = Instant::now() + self.config.overall_timeout;
        let policy = &self.config.retry;
        let mut retries = 0;
        let response = loop {
            let builder = signed_post(&self.client, &url, &payload, &credentials)?;
            let error = match http::send(builder, &url, self.config.idle_timeout, deadline).await {
                Ok(response) => break response,
                Err(error) => error,
            };
            let delay = policy.delay(retries, error.retry_after);
            if !error.retryable
                || retries >= policy.max_retries
                || Instant::now() + delay >= deadline
            {
                return Err(error);
            }
            tracing::warn!(
                code = error.code(),
                status = error.status,
                "Bedrock call failed, retrying: {}",
                error.message
            );
            retries += 1;
            tokio::time::sleep(delay).await;
        };
        let turn = stream::Turn {
            response: Some(response),
            frames: eventstream::FrameDecoder::default(),
            decoder: stream::Decoder::default(),
            pending: std::collections::VecDeque::new(),
            idle: self.config.idle_timeout,
            deadline,
            done: false,
        };
        Ok(futures::stream::unfold(turn, stream::Turn::next).boxed())
    }
}
