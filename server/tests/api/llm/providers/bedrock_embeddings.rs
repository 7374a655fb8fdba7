//! Embeddings on Bedrock through InvokeModel
//! (<https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InvokeModel.html>),
//! signed with SigV4 from the `LLM-PARAM-aws-*` headers or the operator's credentials,
//! against a fake answering with the documented bodies: Amazon Titan Text Embeddings
//! G1 and V2, one `{"inputText"}` per call answered `{"embedding", "inputTextTokenCount"}`
//! (V2 adds `embeddingsByType`) — "Amazon Titan Embeddings G1 - Text"
//! (<https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-embed-text.html>);
//! Cohere Embed, `{"texts", "input_type", "truncate"}` answered `{"embeddings", "id",
//! "response_type": "embeddings_floats", "texts"}` — "Cohere Embed models"
//! (<https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-embed.html>).
//! Also: a store's vector dimension is recorded and another dimension refused.

use std::sync::Arc;

use serde_json::{json, Value};
use server::embeddings::{EmbedAccess, EmbeddingsClient, EmbeddingsConfig, Purpose};
use server::llm::providers::sigv4::AwsCredentials;

use super::bedrock::expected_signature;
use super::support::{pointing, post_with, table, AWS};
use crate::support::llm::{FakeUpstream, Reply};
use crate::support::vector_stores::VsApp;

fn titan_answer(vector: Value) -> Reply {
    let body = json!({"embedding": vector, "inputTextTokenCount": 6,
        "embeddingsByType": {"float": vector}});
    Reply::Status(200, vec![], body.to_string())
}

fn cohere_answer(vectors: Value) -> Reply {
    let body = json!({"embeddings": vectors, "id": "6b2ef2d2-8f3c-4bd6-8f3f-1a2b3c4d5e6f",
        "response_type": "embeddings_floats", "texts": ["x"]});
    Reply::Status(200, vec![], body.to_string())
}

/// The request's AWS headers as embedding credentials.
fn aws_access() -> EmbedAccess {
    let mut access = EmbedAccess::default();
    for (name, value) in AWS {
        let param = name.trim_start_matches("llm-param-").replace('-', "_");
        access.aws.insert(param, value.to_owned());
    }
    access
}

/// A client routing `bedrock` to `fake`, with no operator AWS credentials.
fn client(fake: &FakeUpstream) -> EmbeddingsClient {
    let unused = "http://127.0.0.1:9/v1";
    EmbeddingsClient::new(EmbeddingsConfig::new(unused))
        .unwrap()
        .with_routes(Arc::new(table(&pointing("bedrock", fake), |_| None)))
        .with_operator_aws(None)
}

#[tokio::test]
async fn titan_models_embed_one_signed_input_per_call() {
    let fake = FakeUpstream::start(vec![
        titan_answer(json!([3.0, 4.0])),
        titan_answer(json!([0.0, 2.0])),
    ])
    .await;
    let client = client(&fake).with_access(aws_access());
    let inputs = vec!["first chunk".to_owned(), "second chunk".to_owned()];
    let vectors = client
        .embed("amazon.titan-embed-text-v1", inputs)
        .await
        .unwrap();
    assert!(
        (vectors[0][0] - 0.6).abs() < 1e-6 && vectors[1] == [0.0, 1.0],
        "{vectors:?}"
    );
    assert_eq!(fake.hits(), 2, "Titan takes one input per call");
    assert_eq!(
        fake.paths.lock().unwrap()[0],
        "/v1/model/amazon.titan-embed-text-v1/invoke"
    );
    assert_eq!(fake.body(1), json!({"inputText": "second chunk"}));
    for n in 0..2 {
        assert_eq!(
            fake.header(n, "authorization").unwrap(),
            expected_signature(&fake, n)
        );
    }
    client
        .embed("bedrock/amazon.titan-embed-text-v2:0", vec!["q".into()])
        .await
        .unwrap();
    assert_eq!(
        fake.paths.lock().unwrap()[2],
        "/v1/model/amazon.titan-embed-text-v2%3A0/invoke"
    );
}

#[tokio::test]
async fn cohere_models_on_bedrock_take_batches_with_their_input_type() {
    let fake = FakeUpstream::start(vec![cohere_answer(json!([[1.0, 0.0], [0.0, 1.0]]))]).await;
    let client = client(&fake).with_access(aws_access());
    let long = "word ".repeat(1000);
    let vectors = client
        .embed("cohere.embed-english-v3", vec!["short".into(), long])
        .await
        .unwrap();
    assert_eq!(vectors.len(), 2);
    assert_eq!(fake.hits(), 1);
    let body = fake.body(0);
    assert_eq!(body["input_type"], "search_document");
    assert_eq!(body["truncate"], "END");
    assert_eq!(
        body["texts"][1].as_str().unwrap().chars().count(),
        2048,
        "texts are cut to Bedrock's 2048 characters"
    );
    assert_eq!(
        fake.header(0, "authorization").unwrap(),
        expected_signature(&fake, 0)
    );
    // The scripted answer holds two vectors, so this one-query call is refused (the
    // count check); only the request it sent matters here.
    let query = client.embed_for("cohere.embed-english-v3", vec!["q".into()], Purpose::Query);
    query.await.unwrap_err();
    assert_eq!(fake.body(1)["input_type"], "search_query");
}

#[tokio::test]
async fn the_operators_credentials_sign_when_the_request_sends_none() {
    let fake = FakeUpstream::start(vec![titan_answer(json!([1.0, 1.0]))]).await;
    let operator = AwsCredentials {
        access_key_id: "AKIAOPERATOR".into(),
        secret_access_key: "operator-secret".into(),
        session_token: Some("operator-session".into()),
        region: "eu-central-1".into(),
    };
    let without = client(&fake);
    let refused = without
        .check_model("amazon.titan-embed-text-v1")
        .unwrap_err();
    assert!(
        refused
            .message
            .starts_with("no AWS credentials for Bedrock"),
        "{}",
        refused.message
    );
    let client = without.with_operator_aws(Some(operator));
    client
        .embed("amazon.titan-embed-text-v1", vec!["x".into()])
        .await
        .unwrap();
    let authorization = fake.header(0, "authorization").unwrap();
    assert!(
        authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIAOPERATOR/")
            && authorization.contains("/eu-central-1/bedrock/aws4_request"),
        "{authorization}"
    );
    assert_eq!(
        fake.header(0, "x-amz-security-token").as_deref(),
        Some("operator-session")
    );
    let incomplete = EmbedAccess {
        aws: [("aws_access_key_id".to_owned(), "AKIDEXAMPLE".to_owned())].into(),
        ..EmbedAccess::default()
    };
    let error = client
        .with_access(incomplete)
        .check_model("amazon.titan-embed-text-v1")
        .unwrap_err();
    assert!(
        error.message.starts_with("incomplete AWS credentials"),
        "{}",
        error.message
    );
}

/// An app with an embeddings upstream that is never called and Bedrock at `fake`.
async fn bedrock_store_app(fake: &FakeUpstream, dir: &tempfile::TempDir) -> VsApp {
    let path = dir.path().join("providers.toml");
    std::fs::write(&path, pointing("bedrock", fake)).unwrap();
    VsApp::with(|mut settings| {
        settings.embeddings = Some(EmbeddingsConfig::new("http://127.0.0.1:9/v1"));
        settings.llm.llm_providers = Some(path.clone());
        settings
    })
    .await
}

#[tokio::test]
async fn a_titan_store_embeds_and_searches_with_the_requests_aws_headers() {
    let fake = FakeUpstream::start(vec![titan_answer(json!([0.6, 0.8]))]).await;
    let dir = tempfile::tempdir().unwrap();
    let vs = bedrock_store_app(&fake, &dir).await;
    let model = [("embedding-model", "amazon.titan-embed-text-v2:0")];
    let refused = post_with(vs.app(), "/v1/vector_stores", json!({}), &model).await;
    assert_eq!(refused.status, 400, "{}", refused.text);
    assert_eq!(refused.json()["error"]["param"], "embedding-model");
    assert!(
        refused
            .message()
            .contains("send the LLM-PARAM-aws-* headers"),
        "{}",
        refused.text
    );
    let file_id = vs
        .upload("pets.txt", "Cats purr when they are content.")
        .await;
    let headers = [model[0], AWS[0], AWS[1], AWS[2]];
    let store = post_with(
        vs.app(),
        "/v1/vector_stores",
        json!({"file_ids": [file_id]}),
        &headers,
    )
    .await;
    assert_eq!(store.status, 200, "{}", store.text);
    assert!(!store.text.contains("AKIDEXAMPLE"), "{}", store.text);
    let id = store.json()["id"].as_str().unwrap().to_owned();
    let settled = vs.settled_store(&id).await;
    assert_eq!(settled["file_counts"]["completed"], 1, "{settled}");
    assert_eq!(
        fake.body(0),
        json!({"inputText": "Cats purr when they are content."})
    );
    assert_eq!(
        fake.header(0, "authorization").unwrap(),
        expected_signature(&fake, 0)
    );
    let search = post_with(
        vs.app(),
        &format!("/v1/vector_stores/{id}/search"),
        json!({"query": "purring"}),
        &AWS,
    )
    .await;
    assert_eq!(search.status, 200, "{}", search.text);
    assert_eq!(search.json()["data"][0]["file_id"], file_id.as_str());
    let last = fake.hits() - 1;
    assert_eq!(fake.body(last), json!({"inputText": "purring"}));
    assert!(fake
        .header(last, "authorization")
        .unwrap()
        .starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"));
}

#[tokio::test]
async fn a_store_keeps_one_vector_dimension() {
    let fake = FakeUpstream::start(vec![
        titan_answer(json!([0.6, 0.8])),
        titan_answer(json!([1.0, 0.0, 0.0])),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let vs = bedrock_store_app(&fake, &dir).await;
    let headers = [
        ("embedding-model", "amazon.titan-embed-text-v1"),
        AWS[0],
        AWS[1],
        AWS[2],
    ];
    let store = post_with(vs.app(), "/v1/vector_stores", json!({}), &headers).await;
    let id = store.json()["id"].as_str().unwrap().to_owned();
    let attach = |file_id: String| {
        let path = format!("/v1/vector_stores/{id}/files");
        let app = vs.app().clone();
        async move { post_with(&app, &path, json!({"file_id": file_id}), &headers).await }
    };
    let first = vs.upload("a.txt", "Cats purr.").await;
    assert_eq!(attach(first).await.status, 200);
    assert_eq!(vs.settled_store(&id).await["file_counts"]["completed"], 1);
    let second = vs.upload("b.txt", "Dogs bark.").await;
    let attached = attach(second.clone()).await;
    assert_eq!(attached.status, 200, "{}", attached.text);
    let settled = vs.settled_store(&id).await;
    assert_eq!(settled["file_counts"]["failed"], 1, "{settled}");
    let file = vs
        .app()
        .get(&format!("/v1/vector_stores/{id}/files/{second}"))
        .await
        .json();
    assert_eq!(file["last_error"]["code"], "server_error", "{file}");
    let message = file["last_error"]["message"].as_str().unwrap();
    assert!(
        message.contains("holds 2-dimension vectors and the embedding model answered 3 dimensions"),
        "{message}"
    );
    // Another model is refused when attaching, before anything is embedded.
    let other = [
        ("embedding-model", "cohere.embed-english-v3"),
        AWS[0],
        AWS[1],
        AWS[2],
    ];
    let third = vs.upload("c.txt", "Birds sing.").await;
    let refused = post_with(
        vs.app(),
        &format!("/v1/vector_stores/{id}/files"),
        json!({"file_id": third}),
        &other,
    )
    .await;
    assert_eq!(refused.status, 400, "{}", refused.text);
    let error = refused.json()["error"].clone();
    assert_eq!(error["type"], "invalid_request_error");
    assert_eq!(error["param"], "embedding-model");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("embeds with 'amazon.titan-embed-text-v1'"),
        "{error}"
    );
    assert_eq!(fake.hits(), 2);
}
