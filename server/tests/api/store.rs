//! The database behind every test, on the backend of the run (`ASSISTANTS_TEST_BACKEND`):
//! each test's database is its own, a reconnectable one is reached again by a second app
//! (as a restart reaches it), and it is removed with its handle.

use axum::http::StatusCode;
use serde_json::json;
use testkit::backend::postgres_url;
use testkit::postgres::{current_schema, schema_exists};
use testkit::{Backend, TestApp, TestDatabase, OTHER_KEY};

#[tokio::test]
async fn two_tests_never_share_a_database() {
    let first = TestApp::new().await;
    let second = TestApp::new().await;
    let created = first
        .create("/v1/assistants", json!({"model": "gpt-4o"}))
        .await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        first.get(&format!("/v1/assistants/{id}")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        second.get(&format!("/v1/assistants/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(second.get("/v1/assistants").await.json()["data"], json!([]));
}

#[tokio::test]
async fn a_reconnectable_database_is_reached_again_by_a_second_app() {
    let database = std::sync::Arc::new(TestDatabase::reconnectable().await);
    let settings = database.settings();
    let before = TestApp::on(database.clone(), &settings).await;
    let created = before
        .create("/v1/assistants", json!({"model": "gpt-4o", "name": "kept"}))
        .await;
    let id = created["id"].as_str().unwrap();
    let after = TestApp::on(database, &settings).await;
    let found = after.get(&format!("/v1/assistants/{id}")).await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.text);
    assert_eq!(found.json()["name"], "kept");
    let other = after
        .call_as(OTHER_KEY, axum::http::Method::GET, "/v1/assistants", None)
        .await;
    assert_eq!(other.json()["data"], json!([]));
}

#[tokio::test]
async fn a_test_database_is_removed_with_its_handle() {
    let database = TestDatabase::reconnectable().await;
    assert_eq!(database.backend(), Backend::from_env());
    match database.backend() {
        Backend::Sqlite => {
            let folder = database.folder().to_path_buf();
            database.connect().await.close().await;
            assert!(folder.join("sqlite/assistants.db").is_file());
            drop(database);
            assert!(!folder.exists(), "{} outlived its test", folder.display());
        }
        Backend::Postgres => {
            let schema = database.schema().expect("a schema").to_owned();
            // What the store's pool will see: sqlx 0.8 passes the URL's `options` on as
            // PostgreSQL startup options, so a connection starts in the test's schema.
            let seen = current_schema(database.url()).await.unwrap();
            assert_eq!(seen, schema);
            assert!(schema_exists(&postgres_url(), &schema).await.unwrap());
            drop(database);
            assert!(
                !schema_exists(&postgres_url(), &schema).await.unwrap(),
                "{schema} outlived its test"
            );
        }
    }
}
