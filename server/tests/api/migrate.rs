//! `assistants-server migrate` end to end: a SQLite deployment served and filled through
//! the API (an assistant, a thread, a file with its bytes, an ingested vector store) is
//! copied into PostgreSQL, and a server on the copy answers the same: objects, lists,
//! file content and search results.

use std::sync::Arc;

use serde_json::{json, Value};
use server::store::migrate::command::{run, MigrateArgs};
use testkit::TestDatabase;

use crate::support::vector_stores::VsApp;

/// The answers a client would compare before and after moving.
async fn observed(
    app: &VsApp,
    assistant: &str,
    thread: &str,
    file: &str,
    store: &str,
) -> Vec<Value> {
    let search = app.search(store, json!({"query": "winter river"})).await;
    let mut answers = Vec::new();
    for path in [
        format!("/v1/assistants/{assistant}"),
        "/v1/assistants?order=asc".to_owned(),
        format!("/v1/threads/{thread}/messages"),
        format!("/v1/files/{file}"),
        format!("/v1/vector_stores/{store}"),
        format!("/v1/vector_stores/{store}/files"),
    ] {
        let response = app.app().get(&path).await;
        assert_eq!(response.status, 200, "{path}: {}", response.text);
        let mut answer = response.json();
        // Searching touches the store: its activity time is "now", not the copy's.
        if answer["object"] == "vector_store" {
            answer["last_active_at"] = Value::Null;
        }
        answers.push(answer);
    }
    let (status, _, bytes) = app
        .files
        .get_bytes(&format!("/v1/files/{file}/content"))
        .await;
    assert_eq!(status, 200);
    answers.push(json!(String::from_utf8(bytes).unwrap()));
    answers.push(search);
    answers
}

#[tokio::test]
async fn a_sqlite_deployment_moves_to_postgres_and_answers_the_same() {
    let Some(target) = TestDatabase::postgres_if_reachable().await else {
        return;
    };
    let source = Arc::new(TestDatabase::sqlite_file());
    let from_data = tempfile::tempdir().unwrap();
    let mut settings = source.settings();
    settings.data_dir = from_data.path().to_path_buf();
    let before = VsApp::on(Arc::clone(&source), settings, tempfile::tempdir().unwrap()).await;
    let assistant = before
        .app()
        .create("/v1/assistants", json!({"model": "gpt-4o", "name": "a"}))
        .await;
    before
        .app()
        .create("/v1/assistants", json!({"model": "gpt-4o", "name": "b"}))
        .await;
    let thread = before
        .app()
        .create(
            "/v1/threads",
            json!({"messages": [{"role": "user", "content": "hello"}]}),
        )
        .await;
    let (store, files) = before
        .store_with(&[
            ("rivers.txt", "The river freezes in winter."),
            ("roads.txt", "Roads ice over."),
        ])
        .await;
    let ids = |v: &Value| v["id"].as_str().unwrap().to_owned();
    let (assistant, thread) = (ids(&assistant), ids(&thread));
    let expected = observed(&before, &assistant, &thread, &files[0], &store).await;
    drop(before);

    let to_data = tempfile::tempdir().unwrap();
    let args = MigrateArgs {
        from: source.url().to_owned(),
        to: target.url().to_owned(),
        from_data_dir: Some(from_data.path().to_path_buf()),
        to_data_dir: Some(to_data.path().to_path_buf()),
    };
    let (report, checked) = run(&args).await.unwrap();
    assert!(report.verified(), "{}", report.render());
    assert_eq!(
        checked, 2,
        "both files' bytes are in the new data directory"
    );

    let target = Arc::new(target);
    let mut settings = target.settings();
    settings.data_dir = to_data.path().to_path_buf();
    let after = VsApp::on(Arc::clone(&target), settings, tempfile::tempdir().unwrap()).await;
    assert_eq!(
        observed(&after, &assistant, &thread, &files[0], &store).await,
        expected
    );

    // Moving twice into the same database is refused.
    let again = run(&args).await.unwrap_err().to_string();
    assert!(again.contains("already holds"), "{again}");
}
