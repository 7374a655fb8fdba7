//! SQLite backend: each object is one row holding its JSON document, scoped by
//! tenant and ordered by an insertion sequence.

mod assistants;
mod files;
mod leases;
mod messages;
mod runs;
mod steps;
mod threads;
mod uploads;
mod vector_stores;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{QueryBuilder, Sqlite};

use super::documents::{from_document, missing_migrations, to_document, Table};
use super::{ping_when_idle, Page, PageRequest, StoreError, StoreResult, Tenant};

/// The embedded SQLite migrations (`server/migrations/sqlite`).
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// A store on one SQLite database.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `database_url` and migrates it.
    /// `sqlite::memory:` gives a private in-memory database, handy in tests.
    pub async fn connect(database_url: &str) -> StoreResult<Self> {
        let in_memory = database_url.contains(":memory:") || database_url.contains("mode=memory");
        let mut options = SqliteConnectOptions::from_str(database_url)?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let mut pool_options = ping_when_idle(SqlitePoolOptions::new());
        if in_memory {
            // Every connection to `:memory:` is a separate database: keep exactly one, forever.
            pool_options = pool_options
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
        } else {
            options = options.journal_mode(SqliteJournalMode::Wal);
            create_parent_dir(options.get_filename())?;
            pool_options = pool_options.max_connections(8);
        }
        let pool = pool_options.connect_with(options).await?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| StoreError::backend_while("migrating the database", e))?;
        let store = Self { pool };
        // Migration 0017's word counts, which SQL cannot compute.
        vector_stores::backfill_stats(&store).await?;
        Ok(store)
    }
}

impl SqliteStore {
    /// The connection pool (the migrate command reads the tables directly).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Starts a write transaction holding SQLite's write lock from its first statement.
    /// A deferred transaction that reads before it writes cannot upgrade to a writer while
    /// another connection writes (background runs, ingestion): SQLite then fails at once
    /// with "database is locked" instead of waiting out `busy_timeout`.
    async fn begin_write(&self) -> StoreResult<sqlx::Transaction<'static, Sqlite>> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(StoreError::from)
    }

    /// The object `id` of `table` within the tenant, decoded from its JSON document.
    async fn get_document<T: DeserializeOwned>(
        &self,
        table: Table,
        tenant: &Tenant,
        id: &str,
    ) -> StoreResult<T> {
        let sql = format!(
            "SELECT data FROM {} WHERE tenant = ? AND id = ?",
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
            "SELECT data FROM {} WHERE tenant = ? AND {parent_column} = ? AND id = ?",
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
            "UPDATE {} SET data = ? WHERE tenant = ? AND id = ?",
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
        let sql = format!("DELETE FROM {} WHERE tenant = ? AND id = ?", table.name());
        let result = sqlx::query(&sql)
            .bind(tenant.as_str())
            .bind(id)
            .execute(&self.pool)
            .await?;
        expect_one(result)
    }
}

#[async_trait::async_trait]
impl super::Store for SqliteStore {
    async fn close(&self) {
        self.pool.close().await;
    }

    async fn check_ready(&self) -> StoreResult<()> {
        let applied: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&self.pool)
                .await?;
        missing_migrations(&MIGRATOR, &applied)
    }
}

fn create_parent_dir(file: &Path) -> StoreResult<()> {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::backend_while(format_args!("creating {}", dir.display()), e)),
        _ => Ok(()),
    }
}

/// Extra equality conditions on a listing (e.g. `thread_id`); column names are ours.
type Filters<'a> = &'a [(&'static str, &'a str)];

fn push_scope<'a>(query: &mut QueryBuilder<'a, Sqlite>, tenant: &'a Tenant, filters: Filters<'a>) {
    query.push(" WHERE tenant = ").push_bind(tenant.as_str());
    for (column, value) in filters {
        query.push(format!(" AND {column} = ")).push_bind(*value);
    }
}

/// The insertion sequence of cursor `id` within the scope, if it exists there.
async fn cursor_seq(
    pool: &SqlitePool,
    table: Table,
    tenant: &Tenant,
    filters: Filters<'_>,
    id: &str,
) -> StoreResult<Option<i64>> {
    let mut query = QueryBuilder::<Sqlite>::new(format!("SELECT seq FROM {}", table.name()));
    push_scope(&mut query, tenant, filters);
    query.push(" AND id = ").push_bind(id);
    let seq: Option<i64> = query.build_query_scalar().fetch_optional(pool).await?;
    Ok(seq)
}

/// One page of documents of `table` within the scope, following OpenAI's cursor rules.
/// An unknown cursor yields an empty page.
async fn fetch_page<T: DeserializeOwned>(
    pool: &SqlitePool,
    table: Table,
    tenant: &Tenant,
    filters: Filters<'_>,
    page: &PageRequest,
) -> StoreResult<Page<T>> {
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
    let mut query = QueryBuilder::<Sqlite>::new(format!("SELECT data FROM {}", table.name()));
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
fn expect_one(result: sqlx::sqlite::SqliteQueryResult) -> StoreResult<()> {
    if result.rows_affected() == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
