//! PostgreSQL backend, for deployments that outgrow one SQLite file and for many
//! server instances on one database. Each object is one row holding its JSON document
//! as text (never `jsonb`, which reorders keys that OpenAI's clients see), scoped by
//! tenant and ordered by an insertion sequence, exactly as in the SQLite backend.
//!
//! SQLite serialises every writer (`BEGIN IMMEDIATE`); PostgreSQL does not, so every
//! invariant that spans rows (one active run per thread, quotas, an upload's declared
//! size) is held by a constraint or a transaction-scoped advisory lock instead.

mod assistants;
mod files;
mod leases;
mod messages;
mod runs;
mod steps;
#[cfg(test)]
mod testing;
mod threads;
mod uploads;
mod vector_stores;
pub(crate) use vector_stores::import_chunks;

use std::str::FromStr;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgQueryResult};
use sqlx::{PgConnection, Postgres, QueryBuilder};

use super::documents::{from_document, missing_migrations, to_document, Table};
use super::{ping_when_idle, Page, PageRequest, StoreError, StoreResult, Tenant};

#[cfg(test)]
pub(crate) use testing::test_store;

/// The embedded PostgreSQL migrations (`server/migrations/postgres`).
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// A store on one PostgreSQL database (or one schema of it, via `search_path`).
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to `database_url` and migrates it. Several instances may do this at once:
    /// sqlx serialises migrations with an advisory lock.
    pub async fn connect(database_url: &str) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(database_url)?;
        let pool = ping_when_idle(PgPoolOptions::new())
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| StoreError::backend_while("migrating the database", e))?;
        Ok(Self { pool })
    }

    /// The connection pool (tests and the migrate command reach the tables directly).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Starts a transaction.
    async fn begin(&self) -> StoreResult<sqlx::Transaction<'static, Postgres>> {
        self.pool.begin().await.map_err(StoreError::from)
    }

    /// The object `id` of `table` within the tenant, decoded from its JSON document.
    async fn get_document<T: DeserializeOwned>(
        &self,
        table: Table,
        tenant: &Tenant,
        id: &str,
    ) -> StoreResult<T> {
        let sql = format!(
            "SELECT data FROM {} WHERE tenant = $1 AND id = $2",
            table.name()
        );
        let data: Option<String> = sqlx::query_scalar(&sql)
            .bind(tenant.as_str())
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        from_document(&data.ok_or(StoreError::NotFound)?)
    }

    /// Like [`Self::get_document`] for objects that live under a parent (a thread's messages
    /// and runs, a run's steps): `NotFound` unless `id` belongs to that parent.
    async fn get_child_document<T: DeserializeOwned>(
        &self,
        table: Table,
        tenant: &Tenant,
        (parent_column, parent_id): (&'static str, &str),
        id: &str,
    ) -> StoreResult<T> {
        let sql = format!(
            "SELECT data FROM {} WHERE tenant = $1 AND {parent_column} = $2 AND id = $3",
            table.name()
        );
        let data: Option<String> = sqlx::query_scalar(&sql)
            .bind(tenant.as_str())
            .bind(parent_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        from_document(&data.ok_or(StoreError::NotFound)?)
    }

    /// Replaces the JSON document of object `id`; `NotFound` when the tenant has no such row.
    async fn update_document<T: Serialize>(
        &self,
        table: Table,
        tenant: &Tenant,
        id: &str,
        value: &T,
    ) -> StoreResult<()> {
        let sql = format!(
            "UPDATE {} SET data = $1 WHERE tenant = $2 AND id = $3",
            table.name()
        );
        let result = sqlx::query(&sql)
            .bind(to_document(value)?)
            .bind(tenant.as_str())
            .bind(id)
            .execute(&self.pool)
            .await?;
        expect_one(result)
    }

    /// Deletes object `id`; `NotFound` when the tenant has no such row.
    async fn delete_document(&self, table: Table, tenant: &Tenant, id: &str) -> StoreResult<()> {
        let sql = format!("DELETE FROM {} WHERE tenant = $1 AND id = $2", table.name());
        let result = sqlx::query(&sql)
            .bind(tenant.as_str())
            .bind(id)
            .execute(&self.pool)
            .await?;
        expect_one(result)
    }

    /// Whether the database answers and every embedded migration is applied.
    async fn migrations_applied(&self) -> StoreResult<()> {
        let applied: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&self.pool)
                .await?;
        missing_migrations(&MIGRATOR, &applied)
    }
}

#[async_trait::async_trait]
impl super::Store for PgStore {
    async fn close(&self) {
        self.pool.close().await;
    }

    async fn check_ready(&self) -> StoreResult<()> {
        self.migrations_applied().await
    }
}

/// Ends a transaction as its work went: committed after `Ok`, rolled back at once after
/// `Err`. A transaction merely dropped is rolled back only when the pool next handles its
/// connection, holding its locks (advisory and row) until then.
async fn settle<T>(
    tx: sqlx::Transaction<'static, Postgres>,
    result: StoreResult<T>,
) -> StoreResult<T> {
    match result {
        Ok(value) => {
            tx.commit().await?;
            Ok(value)
        }
        Err(error) => {
            // The work's error is the one to report; a failed rollback ends with the
            // connection anyway.
            let _ = tx.rollback().await;
            Err(error)
        }
    }
}

/// Serialises the transaction's writes with every other transaction taking the same
/// `key` (until it ends): what SQLite's single writer gives for free, for invariants
/// that span rows. Keys are namespaced by `scope` so unrelated locks never collide.
async fn lock(conn: &mut PgConnection, scope: &str, key: &str) -> StoreResult<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("{scope}:{key}"))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Extra equality conditions on a listing (e.g. `thread_id`); column names are ours.
type Filters<'a> = &'a [(&'static str, &'a str)];

fn push_scope<'a>(
    query: &mut QueryBuilder<'a, Postgres>,
    tenant: &'a Tenant,
    filters: Filters<'a>,
) {
    query.push(" WHERE tenant = ").push_bind(tenant.as_str());
    for (column, value) in filters {
        query.push(format!(" AND {column} = ")).push_bind(*value);
    }
}

/// The insertion sequence of cursor `id` within the scope, if it exists there.
async fn cursor_seq(
    pool: &PgPool,
    table: Table,
    tenant: &Tenant,
    filters: Filters<'_>,
    id: &str,
) -> StoreResult<Option<i64>> {
    let mut query = QueryBuilder::<Postgres>::new(format!("SELECT seq FROM {}", table.name()));
    push_scope(&mut query, tenant, filters);
    query.push(" AND id = ").push_bind(id);
    query
        .build_query_scalar()
        .fetch_optional(pool)
        .await
        .map_err(StoreError::from)
}

/// One page of documents of `table` within the scope, following OpenAI's cursor rules.
/// An unknown cursor yields an empty page.
async fn fetch_page<T: DeserializeOwned>(
    pool: &PgPool,
    table: Table,
    tenant: &Tenant,
    filters: Filters<'_>,
    page: &PageRequest,
) -> StoreResult<Page<T>> {
    // No stored id or value holds a NUL, which PostgreSQL text cannot carry: such a
    // cursor is unknown and such a filter matches nothing, as on SQLite.
    let values = filters.iter().map(|(_, value)| *value);
    let cursors = page.after.iter().chain(&page.before).map(String::as_str);
    if values.chain(cursors).any(|text| text.contains('\0')) {
        return Ok(Page {
            items: Vec::new(),
            has_more: false,
        });
    }
    let descending = page.order == super::Order::Desc;
    let mut bounds = Vec::new();
    for (cursor, is_after) in [(&page.after, true), (&page.before, false)] {
        let Some(id) = cursor else { continue };
        let Some(seq) = cursor_seq(pool, table, tenant, filters, id).await? else {
            return Ok(Page {
                items: Vec::new(),
                has_more: false,
            });
        };
        // "after" means further along the chosen order; "before" the opposite way.
        let below = is_after == descending;
        bounds.push((if below { " AND seq < " } else { " AND seq > " }, seq));
    }
    let walk = page.walk();
    let mut query = QueryBuilder::<Postgres>::new(format!("SELECT data FROM {}", table.name()));
    push_scope(&mut query, tenant, filters);
    for (operator, seq) in bounds {
        query.push(operator).push_bind(seq);
    }
    query.push(if walk.fetch_descending {
        " ORDER BY seq DESC"
    } else {
        " ORDER BY seq ASC"
    });
    query.push(" LIMIT ").push_bind(i64::from(page.limit) + 1);
    let rows: Vec<String> = query.build_query_scalar().fetch_all(pool).await?;
    let items = rows
        .iter()
        .map(|row| from_document(row))
        .collect::<StoreResult<Vec<T>>>()?;
    Ok(page.finish(items))
}

/// Turns "no row affected" into `NotFound`.
fn expect_one(result: PgQueryResult) -> StoreResult<()> {
    if result.rows_affected() == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}
