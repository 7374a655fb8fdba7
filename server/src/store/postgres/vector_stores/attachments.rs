//! Attaching files to a vector store on PostgreSQL: replacing an attachment (its
//! chunks, terms and vectors go with the old row), detaching a file everywhere and
//! deleting an attachment with its chunks.

use sqlx::PgConnection;

use super::super::{expect_one, settle, to_document, PgStore};
use super::chunks::{guard_store, lock_files};
use crate::store::{StoreError, StoreResult, Tenant};
use crate::vector_stores::model::{FileBatch, VectorStore, VectorStoreFile};

/// Replaces an attachment (its chunks, terms and vectors go with the old row) by a new
/// row, which lists last as SQLite's delete-and-insert does. The caller holds the
/// store's guard and the file's lock.
async fn upsert_file(
    conn: &mut PgConnection,
    tenant: &Tenant,
    file: &VectorStoreFile,
    batch_id: Option<&str>,
) -> StoreResult<()> {
    sqlx::query(
        "DELETE FROM vector_store_files WHERE tenant = $1 AND vector_store_id = $2 AND id = $3",
    )
    .bind(tenant.as_str())
    .bind(&file.vector_store_id)
    .bind(&file.id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO vector_store_files (id, tenant, vector_store_id, batch_id, status, \
         usage_bytes, data) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&file.id)
    .bind(tenant.as_str())
    .bind(&file.vector_store_id)
    .bind(batch_id)
    .bind(file.status.as_str())
    .bind(file.usage_bytes)
    .bind(to_document(file)?)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Detaches a deleted file from every vector store of the tenant: its attachments and
/// (by cascade) their chunks, terms and vectors go, so it stops being searchable and
/// counted (the caller's transaction deletes the file itself).
pub(crate) async fn detach_file_everywhere(
    conn: &mut PgConnection,
    tenant: &Tenant,
    file_id: &str,
) -> StoreResult<()> {
    lock_files(conn, tenant, [file_id]).await?;
    sqlx::query("DELETE FROM vector_store_files WHERE tenant = $1 AND id = $2")
        .bind(tenant.as_str())
        .bind(file_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Attaches `files` to their store (one store: the guard is taken once) in one
/// transaction, with `batch` first if any.
pub(super) async fn attach(
    pg: &PgStore,
    tenant: &Tenant,
    store: Option<(&VectorStore, Option<&str>)>,
    files: &[VectorStoreFile],
    batch: Option<&FileBatch>,
) -> StoreResult<()> {
    let mut tx = pg.begin().await?;
    let result: StoreResult<()> = async {
        if let Some((store, embedding_model)) = store {
            sqlx::query(
                "INSERT INTO vector_stores (id, tenant, data, embedding_model) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(&store.id)
            .bind(tenant.as_str())
            .bind(to_document(store)?)
            .bind(embedding_model)
            .execute(&mut *tx)
            .await?;
        }
        let mut stores: Vec<&str> = files.iter().map(|f| f.vector_store_id.as_str()).collect();
        stores.extend(batch.map(|b| b.vector_store_id.as_str()));
        stores.sort_unstable();
        stores.dedup();
        for vector_store_id in stores {
            if guard_store(&mut tx, tenant, vector_store_id)
                .await?
                .is_none()
            {
                return Err(StoreError::NotFound);
            }
        }
        lock_files(&mut tx, tenant, files.iter().map(|f| f.id.as_str())).await?;
        if let Some(batch) = batch {
            sqlx::query(
                "INSERT INTO vector_store_file_batches (id, tenant, vector_store_id, data) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(&batch.id)
            .bind(tenant.as_str())
            .bind(&batch.vector_store_id)
            .bind(to_document(batch)?)
            .execute(&mut *tx)
            .await?;
        }
        for file in files {
            upsert_file(&mut tx, tenant, file, batch.map(|b| b.id.as_str())).await?;
        }
        Ok(())
    }
    .await;
    settle(tx, result).await
}

/// Deletes a whole store (`file_id` `None`; its row's lock waits for every writer of
/// its files) or one attachment (under the store's guard and the file's lock), with
/// their chunks by cascade; `NotFound` when there is no such row.
pub(super) async fn delete_with_chunks(
    pg: &PgStore,
    tenant: &Tenant,
    vector_store_id: &str,
    file_id: Option<&str>,
) -> StoreResult<()> {
    let mut tx = pg.begin().await?;
    let result: StoreResult<()> = async {
        let result = match file_id {
            None => {
                let result = sqlx::query("DELETE FROM vector_stores WHERE tenant = $1 AND id = $2")
                    .bind(tenant.as_str())
                    .bind(vector_store_id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "DELETE FROM vector_store_chunk_stats WHERE tenant = $1 AND vector_store_id = $2",
                )
                .bind(tenant.as_str())
                .bind(vector_store_id)
                .execute(&mut *tx)
                .await?;
                result
            }
            Some(file_id) => {
                if guard_store(&mut tx, tenant, vector_store_id)
                    .await?
                    .is_none()
                {
                    return Err(StoreError::NotFound);
                }
                lock_files(&mut tx, tenant, [file_id]).await?;
                sqlx::query(
                    "DELETE FROM vector_store_files \
                     WHERE tenant = $1 AND vector_store_id = $2 AND id = $3",
                )
                .bind(tenant.as_str())
                .bind(vector_store_id)
                .bind(file_id)
                .execute(&mut *tx)
                .await?
            }
        };
        expect_one(result)?;
        Ok(())
    }
    .await;
    settle(tx, result).await
}
