//! A fresh PostgreSQL schema per store-level test, on the database that
//! `ASSISTANTS_TEST_POSTGRES_URL` names (default: the machine's local server),
//! dropped when the test's store is.

use std::ops::Deref;

use sqlx::Connection;

use super::PgStore;

/// The database store tests create their schemas in.
fn base_url() -> String {
    std::env::var("ASSISTANTS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A store on a schema of its own; the schema goes when this does.
pub(crate) struct TestPgStore {
    store: PgStore,
    schema: String,
}

impl Deref for TestPgStore {
    type Target = PgStore;
    fn deref(&self) -> &PgStore {
        &self.store
    }
}

impl Drop for TestPgStore {
    fn drop(&mut self) {
        let schema = self.schema.clone();
        // Dropping happens inside the test's runtime, which must not block on itself.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for dropping the schema");
            runtime.block_on(async {
                if let Ok(mut admin) = sqlx::PgConnection::connect(&base_url()).await {
                    let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                        .execute(&mut admin)
                        .await;
                }
            });
        })
        .join();
    }
}

/// A migrated store on a new schema of its own, or `None` (with a loud note) when no
/// PostgreSQL answers and `ASSISTANTS_REQUIRE_POSTGRES` is not set.
pub(crate) async fn test_store() -> Option<TestPgStore> {
    let base = base_url();
    let mut admin = match sqlx::PgConnection::connect(&base).await {
        Ok(conn) => conn,
        Err(error) => {
            if std::env::var("ASSISTANTS_REQUIRE_POSTGRES").as_deref() == Ok("1") {
                panic!("PostgreSQL is required but {base} does not answer: {error}");
            }
            eprintln!("POSTGRESQL STORE TEST SKIPPED: {base} does not answer: {error}");
            return None;
        }
    };
    let schema = format!("store_test_{:016x}", rand::random::<u64>());
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut admin)
        .await
        .expect("creating a test schema");
    let separator = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{separator}options=-c%20search_path%3D{schema}");
    let store = PgStore::connect(&url)
        .await
        .expect("connecting the test store");
    Some(TestPgStore { store, schema })
}
