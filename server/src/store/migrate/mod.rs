//! `assistants-server migrate --from sqlite://... --to postgres://...`: copies a SQLite
//! deployment into an empty PostgreSQL database (objects with their insertion order,
//! chunks, vectors and keyword statistics) and verifies it by counting both sides.
//! The copy goes table by table in insertion order, so cursors (which follow `seq`)
//! page the same on both sides. Chunks are re-derived from their text (PostgreSQL keeps
//! terms where SQLite has FTS5) with their vectors. File bytes are not in the database:
//! the command copies them between data directories.

mod chunks;
pub mod command;
mod tables;

use sqlx::postgres::PgPool;
use sqlx::sqlite::SqlitePool;

use super::postgres::PgStore;
use super::sqlite::SqliteStore;
use super::{StoreError, StoreResult};
use tables::{TableSpec, CORE_TABLES, VECTOR_TABLES};

/// Rows read from SQLite per round trip.
const BATCH: i64 = 500;

/// What a migration copied, table by table, as counted on both sides afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    /// `(table, rows in the source, rows in the target)`, in copy order.
    pub tables: Vec<(String, u64, u64)>,
}

impl MigrationReport {
    /// Whether every table has as many rows in the target as in the source.
    pub fn verified(&self) -> bool {
        self.tables.iter().all(|(_, from, to)| from == to)
    }

    /// One line per table: `name  source → target` with a mark for a mismatch.
    pub fn render(&self) -> String {
        self.tables
            .iter()
            .map(|(name, from, to)| {
                let mark = if from == to { "ok" } else { "MISMATCH" };
                format!("{name:<28} {from:>10} -> {to:>10}  {mark}\n")
            })
            .collect()
    }
}

/// Copies every object of `from` into `to`, which must hold no objects yet (both are
/// migrated first), then counts both sides. The copy is one PostgreSQL transaction:
/// a failure leaves the target as empty as it was.
pub async fn sqlite_to_postgres(from: &SqliteStore, to: &PgStore) -> StoreResult<MigrationReport> {
    let (source, target) = (from.pool(), to.pool());
    refuse_non_empty(target).await?;
    let mut tx = target.begin().await.map_err(pg)?;
    for table in CORE_TABLES.iter().chain(VECTOR_TABLES) {
        copy_table(source, &mut tx, table).await?;
    }
    chunks::copy_chunks(source, &mut tx).await?;
    tx.commit().await.map_err(pg)?;
    let mut report = MigrationReport { tables: Vec::new() };
    let mut counts: Vec<(String, String, String)> = CORE_TABLES
        .iter()
        .chain(VECTOR_TABLES)
        .map(|table| {
            let count = format!("SELECT COUNT(*) FROM {}", table.name);
            (table.name.to_owned(), count.clone(), count)
        })
        .collect();
    counts.push((
        "vector_store_chunks".to_owned(),
        "SELECT COUNT(*) FROM vector_store_chunk_owners".to_owned(),
        "SELECT COUNT(*) FROM vector_store_chunks".to_owned(),
    ));
    counts.push((
        "vector_store_embeddings".to_owned(),
        "SELECT COUNT(*) FROM vector_store_embeddings".to_owned(),
        "SELECT COUNT(*) FROM vector_store_embeddings".to_owned(),
    ));
    for (name, in_source, in_target) in counts {
        let from_rows: i64 = sqlx::query_scalar(&in_source)
            .fetch_one(source)
            .await
            .map_err(sqlite)?;
        let to_rows: i64 = sqlx::query_scalar(&in_target)
            .fetch_one(target)
            .await
            .map_err(pg)?;
        report.tables.push((
            name,
            u64::try_from(from_rows).unwrap_or(0),
            u64::try_from(to_rows).unwrap_or(0),
        ));
    }
    Ok(report)
}

/// `Conflict` when the target already has objects: a migration never merges.
async fn refuse_non_empty(target: &PgPool) -> StoreResult<()> {
    for table in CORE_TABLES.iter().chain(VECTOR_TABLES) {
        let any: bool =
            sqlx::query_scalar(&format!("SELECT EXISTS (SELECT 1 FROM {})", table.name))
                .fetch_one(target)
                .await
                .map_err(pg)?;
        if any {
            return Err(StoreError::Conflict(format!(
                "the target database already holds {}; migrate into an empty database",
                table.name
            )));
        }
    }
    Ok(())
}

/// Copies one table in `seq` order, keeping `seq`, then moves the target's identity
/// past the highest copied value so new rows sort after the old ones.
async fn copy_table(
    source: &SqlitePool,
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    table: &TableSpec,
) -> StoreResult<()> {
    let names: Vec<&str> = table.columns.iter().map(|c| c.name()).collect();
    let select = format!(
        "SELECT {} FROM {} WHERE seq > ? ORDER BY seq LIMIT {BATCH}",
        names.join(", "),
        table.name
    );
    let insert = format!(
        "INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE ",
        table.name,
        names.join(", ")
    );
    let mut after = 0i64;
    loop {
        let rows = sqlx::query(&select)
            .bind(after)
            .fetch_all(source)
            .await
            .map_err(sqlite)?;
        let Some(last) = rows.last() else { break };
        after = sqlx::Row::try_get(last, "seq").map_err(sqlite)?;
        // One multi-row INSERT per batch (at most BATCH x 8 parameters).
        let mut query = sqlx::QueryBuilder::<sqlx::Postgres>::new(&insert);
        let mut failed = None;
        query.push_values(&rows, |mut values, row| {
            for column in table.columns {
                if let Err(error) = column.bind(&mut values, row) {
                    failed.get_or_insert(error);
                }
            }
        });
        if let Some(error) = failed {
            return Err(error);
        }
        query.build().execute(&mut **tx).await.map_err(pg)?;
    }
    sqlx::query(&format!(
        "SELECT setval(pg_get_serial_sequence('{0}', 'seq'), \
         GREATEST((SELECT COALESCE(MAX(seq), 0) FROM {0}), 1))",
        table.name
    ))
    .execute(&mut **tx)
    .await
    .map_err(pg)?;
    Ok(())
}

fn sqlite(error: sqlx::Error) -> StoreError {
    StoreError::backend_while("reading the SQLite database", error)
}

fn pg(error: sqlx::Error) -> StoreError {
    StoreError::backend_while("writing the PostgreSQL database", error)
}

#[cfg(test)]
mod tests;
