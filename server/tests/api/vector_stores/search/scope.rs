//! Scores come from the searched stores alone: another tenant's or another store's
//! ingestion leaves a tenant's results and scores bit-identical, and detaching a file
//! leaves a store scoring exactly as a store that never had it.

use axum::http::Method;
use serde_json::json;
use server::store::Tenant;

use crate::support::vector_stores::corpus::{DOCUMENTS, QUESTIONS};
use crate::support::vector_stores::VsApp;
use testkit::{KEY, OTHER_KEY};

/// Questions whose words the other tenant then stores many times.
const ASKED: [&str; 4] = [
    "espresso crema pressure",
    "What kind of lava do shield volcanoes erupt?",
    "Why does sourdough bread taste tangy?",
    "ocean tides moon gravitational pull",
];

/// Every result of every question in [`ASKED`] for `tenant` in `stores`: file, text
/// and the score's bits, in order.
async fn results_of(
    app: &VsApp,
    tenant: &Tenant,
    stores: &[String],
) -> Vec<Vec<(String, String, u64)>> {
    let mut all = Vec::new();
    for question in ASKED {
        let options = server::vector_stores::SearchOptions {
            queries: vec![question.to_owned()],
            max_num_results: 50,
            score_threshold: 0.0,
            filter: None,
        };
        let found =
            server::vector_stores::search(app.state.store.as_ref(), tenant, stores, &options)
                .await
                .unwrap();
        all.push(
            found
                .into_iter()
                .map(|r| (r.file_id, r.content[0].text.clone(), r.score.to_bits()))
                .collect(),
        );
    }
    all
}

/// Waits (bounded) until no file of any tenant is being ingested.
async fn ingested(app: &VsApp) {
    for _ in 0..5_000 {
        if app
            .state
            .store
            .files_in_progress()
            .await
            .unwrap()
            .is_empty()
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    panic!("ingestion never finished");
}

/// A store of `key`'s holding one file per text.
async fn store_as(app: &VsApp, key: &str, texts: &[String]) -> String {
    let mut ids = Vec::new();
    for (n, text) in texts.iter().enumerate() {
        ids.push(app.upload_as(key, &format!("doc{n}.txt"), text).await);
    }
    let created = app
        .app()
        .call_as(
            key,
            Method::POST,
            "/v1/vector_stores",
            Some(&json!({"file_ids": ids}).to_string()),
        )
        .await
        .json();
    ingested(app).await;
    created["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn other_tenants_and_stores_never_change_a_tenants_scores() {
    let app = VsApp::new().await;
    let (store, _) = app.store_with(&DOCUMENTS).await;
    let tenant = Tenant::from_api_key(KEY);
    let stores = [store];
    let before = results_of(&app, &tenant, &stores).await;
    assert!(
        before.iter().all(|results| !results.is_empty()),
        "{before:?}"
    );
    let best = f64::from_bits(before[0][0].2);
    assert!(best > 0.1, "espresso's best hit scores {best}");

    // Another tenant stores 60 documents full of the questions' words, and the same
    // tenant fills another store with them too.
    let flood: Vec<String> = (0..60)
        .map(|n| format!("{} {} notes {n}", ASKED.join(" "), QUESTIONS[n % 30].0))
        .collect();
    store_as(&app, OTHER_KEY, &flood).await;
    store_as(&app, KEY, &flood).await;

    let after = results_of(&app, &tenant, &stores).await;
    assert_eq!(after, before);
}

#[tokio::test]
async fn a_detached_file_leaves_the_scores_of_a_store_that_never_had_it() {
    let app = VsApp::new().await;
    let tenant = Tenant::from_api_key(KEY);
    let kept: Vec<String> = DOCUMENTS[..10]
        .iter()
        .map(|(_, text)| (*text).to_owned())
        .collect();
    let mut with_more = kept.clone();
    with_more.extend(DOCUMENTS[10..20].iter().map(|(_, text)| (*text).to_owned()));
    with_more.push("espresso espresso crema lava volcanoes sourdough tides".to_owned());
    let trimmed = store_as(&app, KEY, &with_more).await;
    let fresh = store_as(&app, KEY, &kept).await;
    let files = app
        .app()
        .get(&format!("/v1/vector_stores/{trimmed}/files?limit=100"))
        .await
        .json();
    let mut detached = 0;
    for file in files["data"].as_array().unwrap() {
        let id = file["id"].as_str().unwrap();
        let uploaded = app.app().get(&format!("/v1/files/{id}")).await.json();
        let name = uploaded["filename"].as_str().unwrap();
        let n: usize = name["doc".len()..name.len() - ".txt".len()]
            .parse()
            .unwrap();
        if n >= kept.len() {
            let path = format!("/v1/vector_stores/{trimmed}/files/{id}");
            assert_eq!(app.app().delete(&path).await.status, 200);
            detached += 1;
        }
    }
    assert_eq!(detached, 11);
    let scores = |results: Vec<Vec<(String, String, u64)>>| -> Vec<Vec<(String, u64)>> {
        results
            .into_iter()
            .map(|r| {
                // Equal scores are ordered by file id, which differs between the stores.
                let mut r: Vec<(String, u64)> =
                    r.into_iter().map(|(_, text, bits)| (text, bits)).collect();
                r.sort();
                r
            })
            .collect()
    };
    let of_trimmed = scores(results_of(&app, &tenant, &[trimmed]).await);
    let of_fresh = scores(results_of(&app, &tenant, &[fresh]).await);
    assert!(of_fresh.iter().any(|results| !results.is_empty()));
    assert_eq!(of_trimmed, of_fresh);
}
