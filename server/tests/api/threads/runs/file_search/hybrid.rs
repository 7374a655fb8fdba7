//! Hybrid search beyond the search endpoint: a run's file_search (offline model) finds
//! and cites a synonym-only match through the assistant's helper-made store (default
//! embedding model), helper-made and attachment stores take the `embedding-model`
//! header, and files left `in_progress` by a stopped server are embedded when
//! ingestion resumes.

use crate::support::embeddings::{FakeEmbeddings, DEFAULT_MODEL};
use crate::support::runs::{create_run, poll_until, SETTLED};
use crate::support::vector_stores::VsApp;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::json;
use serde_json::Value;
use testkit::KEY;

const CAR: &str = "The garage will repair your automobile: brakes, engine and tyres.";
const BREAD: &str = "Knead the dough and bake the bread for forty minutes.";

async fn hybrid_app(fake: &FakeEmbeddings, workers: usize) -> VsApp {
    let config = fake.config();
    VsApp::with(move |mut settings| {
        settings.embeddings = Some(config);
        settings.ingest_workers = workers;
        settings
    })
    .await
}

#[tokio::test]
async fn a_run_file_search_cites_a_document_found_only_semantically() {
    let fake = FakeEmbeddings::start().await;
    let vs = hybrid_app(&fake, 2).await;
    let bread = vs.upload("bread.txt", BREAD).await;
    let car = vs.upload("garage.txt", CAR).await;
    let assistant = vs
        .app()
        .create(
            "/v1/assistants",
            json!({"model": "gpt-4o", "tools": [{"type": "file_search"}],
                "tool_resources": {"file_search": {"vector_stores": [{"file_ids": [bread, car]}]}}}),
        )
        .await;
    let store = assistant["tool_resources"]["file_search"]["vector_store_ids"][0]
        .as_str()
        .unwrap()
        .to_owned();
    vs.settled_store(&store).await;
    assert!(fake.calls().iter().all(|c| c.model == DEFAULT_MODEL));
    let thread = vs
        .app()
        .create(
            "/v1/threads",
            json!({"messages": [{"role": "user", "content": "Who can fix my car?"}]}),
        )
        .await;
    let thread_id = thread["id"].as_str().unwrap();
    let run = create_run(
        vs.app(),
        thread_id,
        json!({"assistant_id": assistant["id"]}),
    )
    .await;
    let run = poll_until(vs.app(), thread_id, run["id"].as_str().unwrap(), SETTLED).await;
    assert_eq!(run["status"], "completed", "{run}");
    let messages = vs
        .app()
        .get(&format!("/v1/threads/{thread_id}/messages"))
        .await
        .json();
    let text = &messages["data"][0]["content"][0]["text"];
    let citations = text["annotations"].as_array().unwrap();
    assert_eq!(citations.len(), 1, "{text}");
    assert_eq!(
        citations[0]["file_citation"]["file_id"],
        car.as_str(),
        "{text}"
    );
    // The query went to the upstream with the store's model.
    assert!(fake
        .calls()
        .iter()
        .any(|c| c.inputs == ["Who can fix my car?"] && c.model == DEFAULT_MODEL));
}

#[tokio::test]
async fn files_left_in_progress_are_embedded_when_ingestion_resumes() {
    let fake = FakeEmbeddings::start().await;
    let paused = hybrid_app(&fake, 0).await;
    let car = paused.upload("garage.txt", CAR).await;
    let store = paused.create_store(json!({"file_ids": [car]})).await;
    let store = store["id"].as_str().unwrap().to_owned();
    assert!(fake.calls().is_empty());
    let workers = server::vector_stores::Ingestor::new(
        paused.state.store.clone(),
        paused.state.data.clone(),
        1,
    )
    .with_embeddings(paused.state.embeddings.clone());
    assert_eq!(workers.resume().await.unwrap(), 1);
    let settled = paused.settled_store(&store).await;
    assert_eq!(settled["file_counts"]["completed"], 1, "{settled}");
    let page = paused
        .search(&store, json!({"query": "mend a vehicle"}))
        .await;
    assert_eq!(page["data"][0]["file_id"], car.as_str(), "{page}");
}

/// POSTs `body` with the v2 beta header and an `embedding-model` header.
async fn post_with_model(vs: &VsApp, path: &str, body: Value, model: &str) -> Value {
    let request = Request::post(path)
        .header("authorization", format!("Bearer {KEY}"))
        .header("openai-beta", "assistants=v2")
        .header("content-type", "application/json")
        .header("embedding-model", model)
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = vs.app().send(request).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    response.json()
}

#[tokio::test]
async fn helper_and_attachment_stores_take_the_embedding_model_header() {
    let fake = FakeEmbeddings::start().await;
    let vs = hybrid_app(&fake, 2).await;
    let car = vs.upload("garage.txt", CAR).await;
    let assistant = post_with_model(
        &vs,
        "/v1/assistants",
        json!({"model": "gpt-4o", "tools": [{"type": "file_search"}],
            "tool_resources": {"file_search": {"vector_stores": [{"file_ids": [car]}]}}}),
        "tiny-embed",
    )
    .await;
    let store = assistant["tool_resources"]["file_search"]["vector_store_ids"][0]
        .as_str()
        .unwrap()
        .to_owned();
    vs.settled_store(&store).await;
    let bread = vs.upload("bread.txt", BREAD).await;
    let thread = post_with_model(
        &vs,
        "/v1/threads",
        json!({"messages": [{"role": "user", "content": "hi",
            "attachments": [{"file_id": bread, "tools": [{"type": "file_search"}]}]}]}),
        "tiny-embed",
    )
    .await;
    let thread_store = thread["tool_resources"]["file_search"]["vector_store_ids"][0]
        .as_str()
        .unwrap()
        .to_owned();
    vs.settled_store(&thread_store).await;
    let calls = fake.calls();
    assert!(
        calls.iter().any(|c| c.inputs[0].contains("garage")),
        "{calls:?}"
    );
    assert!(
        calls.iter().any(|c| c.inputs[0].contains("dough")),
        "{calls:?}"
    );
    assert!(calls.iter().all(|c| c.model == "tiny-embed"), "{calls:?}");
    // Files the same client adds later, header included, join those stores.
    let more = vs.upload("more.txt", "more about automobiles").await;
    post_with_model(
        &vs,
        &format!("/v1/vector_stores/{store}/files"),
        json!({"file_id": more}),
        "tiny-embed",
    )
    .await;
}
