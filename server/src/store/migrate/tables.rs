//! The tables a migration copies and how each column crosses from SQLite to
//! PostgreSQL. Column names are the same on both sides (the PostgreSQL schema was
//! written from the SQLite one); only the types need telling apart.

use sqlx::postgres::Postgres;
use sqlx::query_builder::Separated;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use crate::store::{StoreError, StoreResult};

/// A column and the type it is read and written as.
#[derive(Debug, Clone, Copy)]
pub(super) enum Column {
    /// `INTEGER NOT NULL` / `BIGINT NOT NULL`.
    Int(&'static str),
    /// A nullable integer.
    OptInt(&'static str),
    /// `INTEGER` counts PostgreSQL keeps as `INTEGER` (e.g. `attempts`).
    Int32(&'static str),
    /// `TEXT NOT NULL`.
    Text(&'static str),
    /// A nullable text.
    OptText(&'static str),
    /// A nullable integer PostgreSQL keeps as `INTEGER`.
    OptInt32(&'static str),
    /// A nullable SQLite text that PostgreSQL keeps as bytes (it may hold NUL).
    TextAsBytes(&'static str),
}

impl Column {
    /// The column's name on both sides.
    pub(super) fn name(self) -> &'static str {
        match self {
            Column::Int(n)
            | Column::OptInt(n)
            | Column::Int32(n)
            | Column::Text(n)
            | Column::OptText(n)
            | Column::OptInt32(n)
            | Column::TextAsBytes(n) => n,
        }
    }

    /// Binds this column of a SQLite row as the next value of a row being pushed.
    pub(super) fn bind(
        self,
        values: &mut Separated<'_, '_, Postgres, &'static str>,
        row: &SqliteRow,
    ) -> StoreResult<()> {
        let read = |e: sqlx::Error| {
            StoreError::backend_while(format_args!("reading column {}", self.name()), e)
        };
        match self {
            Column::Int(n) => values.push_bind(row.try_get::<i64, _>(n).map_err(read)?),
            Column::OptInt(n) => values.push_bind(row.try_get::<Option<i64>, _>(n).map_err(read)?),
            Column::Int32(n) => {
                let value: i64 = row.try_get(n).map_err(read)?;
                values.push_bind(i32::try_from(value).unwrap_or(i32::MAX))
            }
            Column::Text(n) => values.push_bind(row.try_get::<String, _>(n).map_err(read)?),
            Column::OptText(n) => {
                values.push_bind(row.try_get::<Option<String>, _>(n).map_err(read)?)
            }
            Column::OptInt32(n) => {
                let value: Option<i64> = row.try_get(n).map_err(read)?;
                values.push_bind(value.map(|v| i32::try_from(v).unwrap_or(i32::MAX)))
            }
            Column::TextAsBytes(n) => {
                let text = row.try_get::<Option<String>, _>(n).map_err(read)?;
                values.push_bind(text.map(String::into_bytes))
            }
        };
        Ok(())
    }
}

/// A table and its columns, `seq` first.
#[derive(Debug)]
pub(super) struct TableSpec {
    /// The same on both sides.
    pub(super) name: &'static str,
    /// Every column the PostgreSQL table has.
    pub(super) columns: &'static [Column],
}

use Column::{Int, Int32, OptInt, OptInt32, OptText, Text, TextAsBytes};

/// The object tables, parents before children (foreign keys hold during the copy).
pub(super) const CORE_TABLES: &[TableSpec] = &[
    TableSpec {
        name: "assistants",
        columns: &[
            Int("seq"),
            Text("id"),
            Text("tenant"),
            Int("created_at"),
            Text("data"),
        ],
    },
    TableSpec {
        name: "threads",
        columns: &[
            Int("seq"),
            Text("id"),
            Text("tenant"),
            Int("created_at"),
            Text("data"),
        ],
    },
    TableSpec {
        name: "messages",
        columns: &[
            Int("seq"),
            Text("id"),
            Text("tenant"),
            Text("thread_id"),
            OptText("run_id"),
            Int("created_at"),
            Text("data"),
        ],
    },
    TableSpec {
        name: "runs",
        columns: &[
            Int("seq"),
            Text("id"),
            Text("tenant"),
            Text("thread_id"),
            Text("status"),
            Int("created_at"),
            Int32("attempts"),
            Text("data"),
        ],
    },
    TableSpec {
        name: "run_steps",
        columns: &[
            Int("seq"),
            Text("id"),
            Text("tenant"),
            Text("thread_id"),
            Text("run_id"),
            Int("created_at"),
            OptText("held_usage"),
            Text("data"),
        ],
    },
    TableSpec {
        name: "files",
        columns: &[
            Int("seq"),
            Text("id"),
            Text("tenant"),
            Text("purpose"),
            Int("created_at"),
            OptInt("expires_at"),
            Int("bytes"),
            Text("data"),
        ],
    },
    TableSpec {
        name: "uploads",
        columns: &[
            Int("seq"),
            Text("id"),
            Text("tenant"),
            Text("status"),
            Int("expires_at"),
            OptInt("file_expires_after"),
            Text("data"),
        ],
    },
    TableSpec {
        name: "upload_parts",
        columns: &[
            Int("seq"),
            Text("id"),
            Text("tenant"),
            Text("upload_id"),
            Int("bytes"),
            Text("data"),
        ],
    },
    TableSpec {
        name: "blob_deletions",
        columns: &[Int("seq"), Text("tenant"), Text("kind"), Text("object_id")],
    },
];

/// The vector store tables whose rows copy as they are (chunks are re-derived).
pub(super) const VECTOR_TABLES: &[TableSpec] = &[
    TableSpec {
        name: "vector_stores",
        columns: &[
            Int("seq"),
            Text("id"),
            Text("tenant"),
            OptText("embedding_model"),
            OptInt32("embedding_dimensions"),
            Text("data"),
        ],
    },
    TableSpec {
        name: "vector_store_file_batches",
        columns: &[
            Int("seq"),
            Text("id"),
            Text("tenant"),
            Text("vector_store_id"),
            Text("data"),
        ],
    },
    TableSpec {
        name: "vector_store_files",
        columns: &[
            Int("seq"),
            Text("id"),
            Text("tenant"),
            Text("vector_store_id"),
            OptText("batch_id"),
            Text("status"),
            Int("usage_bytes"),
            Text("data"),
            TextAsBytes("content"),
        ],
    },
];
