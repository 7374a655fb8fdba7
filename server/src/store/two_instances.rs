//! Test support: one `#[tokio::test]` per backend for each named test function, given
//! two stores on one database as two instances would have them (two SQLite connections
//! to one file; two handles on one PostgreSQL pool, whose connections act at once).

/// Expands to `mod sqlite` and `mod postgres`, each with one test per name calling
/// `super::name(&first, &second)`. PostgreSQL tests pass when no server is reachable
/// (the PostgreSQL half of CI requires one).
macro_rules! on_two_instances {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            use crate::store::sqlite::SqliteStore;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    let url = format!("sqlite://{}", dir.path().join("store.db").display());
                    let first = SqliteStore::connect(&url).await.unwrap();
                    let second = SqliteStore::connect(&url).await.unwrap();
                    super::$name(&first, &second).await;
                }
            )*
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(store) = crate::store::postgres::test_store().await {
                        let second = (*store).clone();
                        super::$name(&*store, &second).await;
                    }
                }
            )*
        }
    };
}

pub(crate) use on_two_instances;
