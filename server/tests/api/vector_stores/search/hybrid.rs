//! Hybrid vector store search against a fake embeddings upstream (no network): a
//! synonym that keywords miss is found, the `embedding-model` header reaches the
//! upstream and stays with its store, an upstream failure fails the file with
//! `last_error`, search degrades to keywords when the query cannot be embedded, fused
//! scores stay in [0, 1] with `score_threshold` and `max_num_results` applied after
//! fusion, and tenants stay apart.

use crate::support::embeddings::{FakeEmbeddings, DEFAULT_MODEL, UPSTREAM_KEY};
use crate::support::vector_stores::corpus::{DOCUMENTS, QUESTIONS};
use crate::support::vector_stores::VsApp;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use server::store::Tenant;
use server::vector_stores::{search_with, SearchOptions};
use testkit::{TestResponse, KEY, OTHER_KEY};

const CAR: (&str, &str) = (
    "garage.txt",
    "The garage will repair your automobile: brakes, engine and tyres.",
);
const BREAD: (&str, &str) = (
    "bread.txt",
    "Knead the dough and bake the bread for forty minutes.",
);
const STARS: (&str, &str) = (
    "stars.txt",
    "Telescopes show the rings of Saturn on a clear night.",
);

async fn hybrid_app(fake: &FakeEmbeddings) -> VsApp {
    let config = fake.config();
    VsApp::with(move |mut settings| {
        settings.embeddings = Some(config);
        settings
    })
    .await
}

/// POSTs `body` as `key` with an `embedding-model` header.
async fn post_with_model(
    vs: &VsApp,
    key: &str,
    path: &str,
    body: Value,
    model: &str,
) -> TestResponse {
    let request = Request::post(path)
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .header("embedding-model", model)
        .body(Body::from(body.to_string()))
        .unwrap();
    vs.app().send(request).await
}

/// A settled store of `documents` created with the `embedding-model` header `model`.
async fn store_with_model(
    vs: &VsApp,
    documents: &[(&str, &str)],
    model: &str,
) -> (String, Vec<String>) {
    let mut files = Vec::new();
    for (name, text) in documents {
        files.push(vs.upload(name, text).await);
    }
    let created = post_with_model(
        vs,
        KEY,
        "/v1/vector_stores",
        json!({"file_ids": files}),
        model,
    )
    .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let settled = vs.settled_store(&id).await;
    assert_eq!(
        settled["file_counts"]["completed"],
        documents.len(),
        "{settled}"
    );
    (id, files)
}

fn ids_and_scores(page: &Value) -> Vec<(String, f64)> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["file_id"].as_str().unwrap().to_owned(),
                r["score"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn hybrid_finds_a_synonym_that_keywords_alone_miss() {
    let keyword_only = VsApp::new().await;
    let (store, files) = keyword_only.store_with(&[CAR, BREAD, STARS]).await;
    let page = keyword_only
        .search(&store, json!({"query": "fix my car"}))
        .await;
    assert!(
        !ids_and_scores(&page).iter().any(|(id, _)| *id == files[0]),
        "{page}"
    );

    let fake = FakeEmbeddings::start().await;
    let hybrid = hybrid_app(&fake).await;
    let (store, files) = hybrid.store_with(&[CAR, BREAD, STARS]).await;
    let page = hybrid.search(&store, json!({"query": "fix my car"})).await;
    let found = ids_and_scores(&page);
    assert_eq!(found[0].0, files[0], "{page}");
    assert!(
        found.iter().all(|(_, s)| (0.0..=1.0).contains(s)),
        "{found:?}"
    );
    assert!(found[0].1 > 1.5 * found[1].1, "{found:?}");
    // The operator's key went to the upstream as a bearer key.
    let calls = fake.calls();
    assert!(calls
        .iter()
        .all(|c| c.authorization.as_deref() == Some(&format!("Bearer {UPSTREAM_KEY}")[..])));
    assert!(calls.iter().all(|c| c.model == DEFAULT_MODEL), "{calls:?}");
}

#[tokio::test]
async fn the_embedding_model_header_reaches_the_upstream_and_stays_with_its_store() {
    let fake = FakeEmbeddings::start().await;
    let vs = hybrid_app(&fake).await;
    let (tiny, _) = store_with_model(&vs, &[CAR], "tiny-embed").await;
    assert!(fake
        .calls()
        .iter()
        .any(|c| c.model == "tiny-embed" && c.inputs[0].contains("garage")));
    // The model is internal: never on the wire.
    let shown = vs.app().get(&format!("/v1/vector_stores/{tiny}")).await;
    assert!(!shown.text.contains("tiny-embed"), "{}", shown.text);
    let (default, default_files) = vs.store_with(&[BREAD]).await;

    // Queries are embedded with the store's model (the header is not needed).
    let before = fake.calls().len();
    let page = vs.search(&tiny, json!({"query": "mend the vehicle"})).await;
    assert!(!ids_and_scores(&page).is_empty(), "{page}");
    let query_calls = &fake.calls()[before..];
    assert_eq!(query_calls.len(), 1, "{query_calls:?}");
    assert_eq!(query_calls[0].model, "tiny-embed");

    // Two stores with two models searched together: the query is embedded once per model.
    let before = fake.calls().len();
    let options = SearchOptions {
        queries: vec!["car bread".to_owned()],
        max_num_results: 10,
        score_threshold: 0.0,
        filter: None,
    };
    let found = search_with(
        vs.state.store.as_ref(),
        vs.state.embeddings.as_deref(),
        &Tenant::from_api_key(KEY),
        &[tiny.clone(), default.clone()],
        &options,
    )
    .await
    .unwrap();
    let mut models: Vec<String> = fake.calls()[before..]
        .iter()
        .map(|c| c.model.clone())
        .collect();
    models.sort();
    assert_eq!(models, [DEFAULT_MODEL, "tiny-embed"]);
    assert!(
        found.iter().any(|r| r.file_id == default_files[0]),
        "{found:?}"
    );

    // Files added later must use the store's model; another one is refused.
    let file = vs.upload("more.txt", "more about automobiles").await;
    let path = format!("/v1/vector_stores/{tiny}/files");
    let refused = post_with_model(&vs, KEY, &path, json!({"file_id": file}), "other-model").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_eq!(refused.json()["error"]["param"], "embedding-model");
    let batch_path = format!("/v1/vector_stores/{tiny}/file_batches");
    let refused = post_with_model(
        &vs,
        KEY,
        &batch_path,
        json!({"file_ids": [file]}),
        "other-model",
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    let accepted = post_with_model(&vs, KEY, &path, json!({"file_id": file}), "tiny-embed").await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text);
    let bad = post_with_model(&vs, KEY, "/v1/vector_stores", json!({}), "").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
}

#[tokio::test]
async fn without_an_upstream_the_header_is_ignored_and_search_is_keyword_only() {
    let vs = VsApp::new().await;
    let file = vs.upload(CAR.0, CAR.1).await;
    let created = post_with_model(
        &vs,
        KEY,
        "/v1/vector_stores",
        json!({"file_ids": [file]}),
        "any",
    )
    .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(vs.settled_store(&id).await["file_counts"]["completed"], 1);
    assert!(vs.state.embeddings.is_none());
}

#[tokio::test]
async fn an_upstream_failure_fails_the_file_with_last_error_and_writes_no_chunks() {
    let fake = FakeEmbeddings::start().await;
    let vs = hybrid_app(&fake).await;
    fake.set_failing(true);
    let file = vs.upload(CAR.0, CAR.1).await;
    let store = vs.create_store(json!({"file_ids": [file]})).await;
    let id = store["id"].as_str().unwrap();
    let settled = vs.settled_store(id).await;
    assert_eq!(settled["file_counts"]["failed"], 1, "{settled}");
    let attached = vs
        .app()
        .get(&format!("/v1/vector_stores/{id}/files/{file}"))
        .await
        .json();
    assert_eq!(attached["status"], "failed");
    assert_eq!(attached["last_error"]["code"], "server_error");
    let message = attached["last_error"]["message"].as_str().unwrap();
    assert!(message.contains("fake embedder is down"), "{message}");
    assert!(!message.contains(UPSTREAM_KEY));
    assert_eq!(attached["usage_bytes"], 0);
    // One attempt and one retry.
    assert_eq!(fake.calls().len(), 2);
    // Nothing was written: not even keywords find the file.
    fake.set_failing(false);
    let page = vs.search(id, json!({"query": "garage automobile"})).await;
    assert_eq!(page["data"], json!([]), "{page}");
}

#[tokio::test]
async fn search_degrades_to_keywords_when_the_query_cannot_be_embedded() {
    let fake = FakeEmbeddings::start().await;
    let vs = hybrid_app(&fake).await;
    let (store, files) = vs.store_with(&[CAR, BREAD, STARS]).await;
    let hybrid = vs.search(&store, json!({"query": "garage car"})).await;
    fake.set_failing(true);
    let degraded = vs.search(&store, json!({"query": "garage car"})).await;
    let found = ids_and_scores(&degraded);
    assert_eq!(found.len(), 1, "{degraded}");
    assert_eq!(found[0].0, files[0]);
    // The score is the keyword score alone, as a server without embeddings gives.
    let keyword_only = VsApp::new().await;
    let (plain, _) = keyword_only.store_with(&[CAR, BREAD, STARS]).await;
    let plain = keyword_only
        .search(&plain, json!({"query": "garage car"}))
        .await;
    assert_eq!(ids_and_scores(&plain)[0].1, found[0].1);
    assert_ne!(ids_and_scores(&hybrid)[0].1, found[0].1);
    // The synonym-only query finds nothing any more, and nothing failed.
    let page = vs.search(&store, json!({"query": "fix my vehicle"})).await;
    assert_eq!(page["data"], json!([]), "{page}");
}

#[tokio::test]
async fn score_threshold_and_max_num_results_apply_after_fusion() {
    let fake = FakeEmbeddings::start().await;
    let vs = hybrid_app(&fake).await;
    let (store, _) = vs.store_with(&DOCUMENTS).await;
    let query = "the sun and the moon at night";
    let all = ids_and_scores(
        &vs.search(&store, json!({"query": query, "max_num_results": 50}))
            .await,
    );
    assert!(all.len() > 3, "{all:?}");
    assert!(all.iter().all(|(_, s)| (0.0..=1.0).contains(s)), "{all:?}");
    assert!(all.windows(2).all(|w| w[0].1 >= w[1].1), "{all:?}");
    let threshold = (all[1].1 + all[2].1) / 2.0;
    assert!(all[1].1 > all[2].1, "{all:?}");
    let above = ids_and_scores(
        &vs.search(
            &store,
            json!({"query": query, "max_num_results": 50,
            "ranking_options": {"score_threshold": threshold}}),
        )
        .await,
    );
    assert_eq!(above, all[..2].to_vec());
    let top = ids_and_scores(
        &vs.search(&store, json!({"query": query, "max_num_results": 1}))
            .await,
    );
    assert_eq!(top, all[..1].to_vec());
}

#[tokio::test]
async fn tenants_stay_apart_in_semantic_search() {
    let fake = FakeEmbeddings::start().await;
    let vs = hybrid_app(&fake).await;
    let (mine, _) = vs.store_with(&[CAR]).await;
    let theirs_file = vs.upload_as(OTHER_KEY, BREAD.0, BREAD.1).await;
    let theirs = post_with_model(
        &vs,
        OTHER_KEY,
        "/v1/vector_stores",
        json!({"file_ids": [theirs_file]}),
        DEFAULT_MODEL,
    )
    .await;
    let theirs = theirs.json()["id"].as_str().unwrap().to_owned();
    let response = post_with_model(
        &vs,
        OTHER_KEY,
        &format!("/v1/vector_stores/{mine}/search"),
        json!({"query": "fix my car"}),
        DEFAULT_MODEL,
    )
    .await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    for _ in 0..5_000 {
        if vs.state.store.files_in_progress().await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let options = SearchOptions {
        queries: vec!["fix my car, bake bread".to_owned()],
        max_num_results: 10,
        score_threshold: 0.0,
        filter: None,
    };
    let found = search_with(
        vs.state.store.as_ref(),
        vs.state.embeddings.as_deref(),
        &Tenant::from_api_key(OTHER_KEY),
        &[mine.clone(), theirs],
        &options,
    )
    .await
    .unwrap();
    let ids: Vec<&str> = found.iter().map(|r| r.file_id.as_str()).collect();
    assert_eq!(ids, [theirs_file.as_str()]);
}

#[tokio::test]
async fn hybrid_recall_at_5_with_the_fake_embedder() {
    let fake = FakeEmbeddings::start().await;
    let vs = hybrid_app(&fake).await;
    let (store, files) = vs.store_with(&DOCUMENTS).await;
    let mut hits = 0;
    for (question, answer) in QUESTIONS {
        let page = vs
            .search(&store, json!({"query": question, "max_num_results": 5}))
            .await;
        if ids_and_scores(&page)
            .iter()
            .any(|(id, _)| *id == files[answer])
        {
            hits += 1;
        }
    }
    let recall = f64::from(hits) / QUESTIONS.len() as f64;
    // The fake is a bag of words, not a model: this guards fusion against burying the
    // keyword ranking, it does not measure semantic quality.
    println!(
        "hybrid recall@5 with the fake embedder = {recall:.3} ({hits}/{})",
        QUESTIONS.len()
    );
    assert!(recall >= 0.9, "{recall}");
}
