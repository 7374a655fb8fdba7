//! Embeddings routed by model name: `cohere/embed-english-v3.0` (or a bare `embed-*`)
//! reaches Cohere's v2 `/embed` with `input_type` set for documents and queries, other
//! OpenAI-compatible providers their `/embeddings`, OpenAI names the configured
//! embeddings upstream; a store's `embedding-model` header is checked when the store is
//! created. Cohere's request and answer shapes follow "Embed API (v2)"
//! (<https://docs.cohere.com/reference/embed>: `texts`, `input_type`
//! `search_document`/`search_query`, `embedding_types: ["float"]`, answer
//! `{"embeddings": {"float": [[...]]}}`).

use std::sync::Arc;

use serde_json::{json, Value};
use server::embeddings::{EmbeddingsClient, EmbeddingsConfig, Purpose};
use server::llm::providers::RoutingTable;

use super::support::post_with;
use crate::support::llm::{FakeUpstream, Reply};
use crate::support::vector_stores::VsApp;

fn cohere_answer(vectors: Value) -> Reply {
    let body = json!({"id": "da6e531f-54c6-4a73-bf92-f60566d8d753", "embeddings": {"float": vectors},
        "texts": ["x"], "meta": {"api_version": {"version": "2"}, "billed_units": {"input_tokens": 2}}});
    Reply::Status(200, vec![], body.to_string())
}

fn openai_answer() -> Reply {
    Reply::Status(200, vec![], json!({"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [0.0, 5.0]}],
        "model": "text-embedding-3-small"}).to_string())
}

fn client(upstream: &FakeUpstream, file: &str, cohere_key: Option<&str>) -> EmbeddingsClient {
    let mut table = RoutingTable::built_in();
    table.apply_file(file).unwrap();
    table.read_keys(|name| {
        (name == "COHERE_API_KEY")
            .then(|| cohere_key.map(str::to_owned))
            .flatten()
    });
    EmbeddingsClient::new(EmbeddingsConfig::new(upstream.base_url.clone()))
        .unwrap()
        .with_routes(Arc::new(table))
}

#[tokio::test]
async fn cohere_models_reach_the_embed_endpoint_with_their_input_type() {
    let upstream = FakeUpstream::start(vec![openai_answer()]).await;
    let cohere = FakeUpstream::start(vec![cohere_answer(json!([[3.0, 4.0], [0.0, 2.0]]))]).await;
    let file = format!("[providers.cohere]\nbase_url = \"{}\"\n", cohere.base_url);
    let client = client(&upstream, &file, Some("co-operator"));
    let inputs = vec!["first chunk".to_owned(), "second chunk".to_owned()];
    let vectors = client
        .embed("cohere/embed-english-v3.0", inputs.clone())
        .await
        .unwrap();
    assert!(
        (vectors[0][0] - 0.6).abs() < 1e-6 && vectors[1] == [0.0, 1.0],
        "{vectors:?}"
    );
    assert_eq!(cohere.paths.lock().unwrap()[0], "/v1/embed");
    assert_eq!(
        cohere.body(0),
        json!({"model": "embed-english-v3.0", "texts": inputs,
        "input_type": "search_document", "embedding_types": ["float"]})
    );
    assert_eq!(
        cohere.header(0, "authorization").as_deref(),
        Some("Bearer co-operator")
    );
    client
        .embed_for("embed-english-v3.0", inputs, Purpose::Query)
        .await
        .unwrap();
    assert_eq!(cohere.body(1)["input_type"], "search_query");
    assert_eq!(cohere.body(1)["model"], "embed-english-v3.0");
    assert_eq!(upstream.hits(), 0);

    // OpenAI names stay on the configured upstream, prefix removed.
    client
        .embed("openai/text-embedding-3-small", vec!["q".into()])
        .await
        .unwrap();
    assert_eq!(upstream.body(0)["model"], "text-embedding-3-small");
    assert_eq!(upstream.paths.lock().unwrap()[0], "/v1/embeddings");
}

#[tokio::test]
async fn unusable_embedding_models_are_refused() {
    let upstream = FakeUpstream::start(vec![openai_answer()]).await;
    let client = client(&upstream, "", None);
    let error = |model: &str| client.check_model(model).unwrap_err().message;
    assert!(
        error("nope/x").starts_with("Unknown model provider 'nope'"),
        "{}",
        error("nope/x")
    );
    assert!(error("cohere/embed-english-v3.0")
        .starts_with("no API key for the embeddings provider 'cohere'"));
    assert!(error("anthropic/claude-3-5-haiku-latest")
        .contains("whose embeddings this server cannot call"));
    assert!(
        error("amazon.titan-embed-text-v1").starts_with("no AWS credentials for Bedrock"),
        "{}",
        error("amazon.titan-embed-text-v1")
    );
    assert!(error("bedrock/meta.llama2-13b-chat-v1")
        .contains("is not an embedding model this server can call"));
    assert!(client.check_model("text-embedding-3-large").is_ok());
    assert_eq!(upstream.hits(), 0);
}

#[tokio::test]
async fn a_store_with_a_cohere_embedding_model_embeds_and_searches_through_cohere() {
    let upstream = FakeUpstream::start(vec![openai_answer()]).await;
    let cohere = FakeUpstream::start(vec![cohere_answer(json!([[1.0, 1.0]]))]).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("providers.toml");
    std::fs::write(
        &path,
        format!(
            "[providers.cohere]\nbase_url = \"{}\"\nkey_env = []\n",
            cohere.base_url
        ),
    )
    .unwrap();
    let base = upstream.base_url.clone();
    let vs = VsApp::with(|mut settings| {
        settings.embeddings = Some(EmbeddingsConfig::new(base));
        settings.llm.llm_providers = Some(path.clone());
        settings
    })
    .await;
    let header = [("embedding-model", "cohere/embed-english-v3.0")];
    let refused = post_with(
        vs.app(),
        "/v1/vector_stores",
        json!({}),
        &[("embedding-model", "nope/embed")],
    )
    .await;
    assert_eq!(refused.status, 400, "{}", refused.text);
    assert_eq!(refused.json()["error"]["param"], "embedding-model");
    let file_id = vs
        .upload("pets.txt", "Cats purr when they are content.")
        .await;
    let store = post_with(
        vs.app(),
        "/v1/vector_stores",
        json!({"file_ids": [file_id]}),
        &header,
    )
    .await;
    assert_eq!(store.status, 200, "{}", store.text);
    let id = store.json()["id"].as_str().unwrap().to_owned();
    let settled = vs.settled_store(&id).await;
    assert_eq!(settled["file_counts"]["completed"], 1, "{settled}");
    assert_eq!(cohere.body(0)["input_type"], "search_document");
    let results = vs.search(&id, json!({"query": "purring"})).await;
    assert_eq!(results["data"][0]["file_id"], file_id.as_str(), "{results}");
    let last = cohere.hits() - 1;
    assert_eq!(cohere.body(last)["input_type"], "search_query");
    assert_eq!(cohere.body(last)["texts"], json!(["purring"]));
    assert_eq!(
        upstream.hits(),
        0,
        "nothing went to the default embeddings upstream"
    );
}

#[tokio::test]
async fn gemini_models_reach_batch_embed_contents_with_their_task_type() {
    // The request and answer of "Embeddings" (https://ai.google.dev/api/embeddings#method:-models.batchembedcontents).
    let upstream = FakeUpstream::start(vec![openai_answer()]).await;
    let answer = json!({"embeddings": [{"values": [3.0, 4.0]}, {"values": [0.0, 2.0]}]});
    let gemini = FakeUpstream::start(vec![Reply::Status(200, vec![], answer.to_string())]).await;
    let mut table = RoutingTable::built_in();
    table
        .apply_file(&format!(
            "[providers.gemini]\nbase_url = \"{}\"\n",
            gemini.base_url
        ))
        .unwrap();
    table.read_keys(|name| (name == "GEMINI_API_KEY").then(|| "AIza-operator".to_owned()));
    let client = EmbeddingsClient::new(EmbeddingsConfig::new(upstream.base_url.clone()))
        .unwrap()
        .with_routes(Arc::new(table));
    let inputs = vec!["first".to_owned(), "second".to_owned()];
    let vectors = client
        .embed("gemini/text-embedding-004", inputs)
        .await
        .unwrap();
    assert!(
        (vectors[0][1] - 0.8).abs() < 1e-6 && vectors[1] == [0.0, 1.0],
        "{vectors:?}"
    );
    assert_eq!(
        gemini.paths.lock().unwrap()[0],
        "/v1/models/text-embedding-004:batchEmbedContents"
    );
    assert_eq!(
        gemini.header(0, "x-goog-api-key").as_deref(),
        Some("AIza-operator")
    );
    assert_eq!(
        gemini.body(0)["requests"][1],
        json!({"model": "models/text-embedding-004",
        "content": {"parts": [{"text": "second"}]}, "taskType": "RETRIEVAL_DOCUMENT"})
    );
    // The scripted answer holds two vectors, so this one-query call is refused (the
    // count check); only the request it sent matters here.
    client
        .embed_for(
            "gemini/text-embedding-004",
            vec!["q".into()],
            Purpose::Query,
        )
        .await
        .unwrap_err();
    assert_eq!(gemini.body(1)["requests"][0]["taskType"], "RETRIEVAL_QUERY");
}
