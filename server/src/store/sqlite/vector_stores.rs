//! SQLite queries for vector stores, their files and batches, what keyword search reads
//! from FTS5 (term matches and per-store bm25 statistics) and (with an embeddings
//! upstream) the chunks' vectors.

use std::collections::HashMap;

use async_trait::async_trait;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

mod chunks;
mod counts;
mod embeddings;
mod ingestion;
#[cfg(test)]
mod lease_migration_tests;
mod leases;
#[cfg(test)]
mod stats_tests;
mod terms;
#[cfg(test)]
mod tests;

use super::{expect_one, fetch_page, from_document, to_document, SqliteStore, Table};
use crate::models::{FileBatchStatus, VectorStoreFileStatus};
use crate::store::vector_stores::{
    AttachmentKey, ChunkScope, ChunkVectors, IngestedFile, IngestionClaim, KeywordStats,
    SimilarityQuery, TermMatch, VectorStoreStore,
};
use crate::store::{LeaseHolder, Page, PageRequest, StoreError, StoreResult, Tenant};
use crate::vector_stores::model::{FileBatch, SimilarChunk, VectorStore, VectorStoreFile};
use chunks::drop_chunks;
use counts::{counts, with_counts};
pub(super) use terms::backfill_stats;

async fn upsert_file(
    conn: &mut SqliteConnection,
    tenant: &Tenant,
    file: &VectorStoreFile,
    batch_id: Option<&str>,
) -> StoreResult<()> {
    drop_chunks(conn, tenant, &file.vector_store_id, Some(&file.id)).await?;
    sqlx::query(
        "DELETE FROM vector_store_files WHERE tenant = ? AND vector_store_id = ? AND id = ?",
    )
    .bind(tenant.as_str())
    .bind(&file.vector_store_id)
    .bind(&file.id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO vector_store_files (id, tenant, vector_store_id, batch_id, status, \
         usage_bytes, data) VALUES (?, ?, ?, ?, ?, ?, ?)",
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
/// their chunks and vectors go, so it stops being searchable and counted (the caller's
/// transaction deletes the file itself).
pub(super) async fn detach_file_everywhere(
    conn: &mut SqliteConnection,
    tenant: &Tenant,
    file_id: &str,
) -> StoreResult<()> {
    let stores: Vec<String> = sqlx::query_scalar(
        "SELECT vector_store_id FROM vector_store_files WHERE tenant = ? AND id = ?",
    )
    .bind(tenant.as_str())
    .bind(file_id)
    .fetch_all(&mut *conn)
    .await?;
    for vector_store_id in &stores {
        drop_chunks(conn, tenant, vector_store_id, Some(file_id)).await?;
    }
    sqlx::query("DELETE FROM vector_store_files WHERE tenant = ? AND id = ?")
        .bind(tenant.as_str())
        .bind(file_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[async_trait]
impl VectorStoreStore for SqliteStore {
    async fn insert_vector_store_embedded(
        &self,
        tenant: &Tenant,
        store: &VectorStore,
        files: &[VectorStoreFile],
        embedding_model: Option<&str>,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO vector_stores (id, tenant, data, embedding_model) VALUES (?, ?, ?, ?)",
        )
        .bind(&store.id)
        .bind(tenant.as_str())
        .bind(to_document(store)?)
        .bind(embedding_model)
        .execute(&mut *tx)
        .await?;
        for file in files {
            upsert_file(&mut tx, tenant, file, None).await?;
        }
        Ok(tx.commit().await?)
    }

    async fn embedding_models(
        &self,
        tenant: &Tenant,
        ids: &[String],
    ) -> StoreResult<HashMap<String, Option<String>>> {
        embeddings::embedding_models(&self.pool, tenant, ids).await
    }

    async fn get_vector_store(
        &self,
        tenant: &Tenant,
        id: &str,
        now: i64,
    ) -> StoreResult<VectorStore> {
        let mut conn = self.pool.acquire().await?;
        let data: Option<String> =
            sqlx::query_scalar("SELECT data FROM vector_stores WHERE tenant = ? AND id = ?")
                .bind(tenant.as_str())
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
        let store: VectorStore = from_document(&data.ok_or(StoreError::NotFound)?)?;
        with_counts(&mut conn, tenant, store, now).await
    }

    async fn update_vector_store(&self, tenant: &Tenant, store: &VectorStore) -> StoreResult<()> {
        self.update_document(Table::VectorStores, tenant, &store.id, store)
            .await
    }

    async fn delete_vector_store(&self, tenant: &Tenant, id: &str) -> StoreResult<()> {
        chunks::delete_with_chunks(self, tenant, id, None).await
    }

    async fn list_vector_stores(
        &self,
        tenant: &Tenant,
        page: &PageRequest,
        now: i64,
    ) -> StoreResult<Page<VectorStore>> {
        let page: Page<VectorStore> =
            fetch_page(&self.pool, Table::VectorStores, tenant, &[], page).await?;
        let mut conn = self.pool.acquire().await?;
        let mut items = Vec::with_capacity(page.items.len());
        for store in page.items {
            items.push(with_counts(&mut conn, tenant, store, now).await?);
        }
        Ok(Page {
            items,
            has_more: page.has_more,
        })
    }

    async fn attach_files(
        &self,
        tenant: &Tenant,
        files: &[VectorStoreFile],
        batch: Option<&FileBatch>,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        if let Some(batch) = batch {
            sqlx::query(
                "INSERT INTO vector_store_file_batches (id, tenant, vector_store_id, data) \
                 VALUES (?, ?, ?, ?)",
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
        Ok(tx.commit().await?)
    }

    async fn get_vector_store_file(
        &self,
        tenant: &Tenant,
        vector_store_id: &str,
        file_id: &str,
    ) -> StoreResult<VectorStoreFile> {
        let data: Option<String> = sqlx::query_scalar(
            "SELECT data FROM vector_store_files WHERE tenant = ? AND vector_store_id = ? AND id = ?",
        )
        .bind(tenant.as_str())
        .bind(vector_store_id)
        .bind(file_id)
        .fetch_optional(&self.pool)
        .await?;
        from_document(&data.ok_or(StoreError::NotFound)?)
    }

    async fn update_vector_store_file(
        &self,
        tenant: &Tenant,
        file: &VectorStoreFile,
    ) -> StoreResult<()> {
        let result = sqlx::query(
            "UPDATE vector_store_files SET data = ?, status = ?, usage_bytes = ? \
             WHERE tenant = ? AND vector_store_id = ? AND id = ?",
        )
        .bind(to_document(file)?)
        .bind(file.status.as_str())
        .bind(file.usage_bytes)
        .bind(tenant.as_str())
        .bind(&file.vector_store_id)
        .bind(&file.id)
        .execute(&self.pool)
        .await?;
        expect_one(result)
    }

    async fn finish_held_ingestion(
        &self,
        tenant: &Tenant,
        done: &IngestedFile,
        vectors: Option<&ChunkVectors>,
        holder: Option<&LeaseHolder>,
    ) -> StoreResult<bool> {
        ingestion::finish(self, tenant, done, vectors, holder).await
    }

    async fn claim_ingestion(
        &self,
        holder: &LeaseHolder,
        lease_ms: i64,
        claim: IngestionClaim<'_>,
    ) -> StoreResult<Vec<(Tenant, VectorStoreFile)>> {
        leases::claim(self, holder, lease_ms, claim).await
    }

    async fn renew_ingestion(
        &self,
        holder: &LeaseHolder,
        files: &[AttachmentKey],
        lease_ms: i64,
    ) -> StoreResult<u64> {
        leases::renew(self, holder, files, lease_ms).await
    }

    async fn release_ingestion(&self, holder: &LeaseHolder) -> StoreResult<u64> {
        leases::release(self, holder).await
    }

    async fn delete_vector_store_file(
        &self,
        tenant: &Tenant,
        vector_store_id: &str,
        file_id: &str,
    ) -> StoreResult<()> {
        chunks::delete_with_chunks(self, tenant, vector_store_id, Some(file_id)).await
    }

    async fn list_vector_store_files(
        &self,
        tenant: &Tenant,
        vector_store_id: &str,
        batch_id: Option<&str>,
        status: Option<VectorStoreFileStatus>,
        page: &PageRequest,
    ) -> StoreResult<Page<VectorStoreFile>> {
        let mut filters = vec![("vector_store_id", vector_store_id)];
        if let Some(batch_id) = batch_id {
            filters.push(("batch_id", batch_id));
        }
        if let Some(status) = status {
            filters.push(("status", status.as_str()));
        }
        fetch_page(&self.pool, Table::VectorStoreFiles, tenant, &filters, page).await
    }

    async fn completed_files(
        &self,
        tenant: &Tenant,
        vector_store_ids: &[String],
    ) -> StoreResult<Vec<VectorStoreFile>> {
        if vector_store_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = QueryBuilder::<Sqlite>::new(
            "SELECT data FROM vector_store_files WHERE status = 'completed' AND tenant = ",
        );
        query.push_bind(tenant.as_str());
        query.push(" AND vector_store_id IN (");
        let mut ids = query.separated(", ");
        for id in vector_store_ids {
            ids.push_bind(id.as_str());
        }
        query.push(") ORDER BY seq");
        let rows: Vec<String> = query.build_query_scalar().fetch_all(&self.pool).await?;
        rows.iter().map(|row| from_document(row)).collect()
    }

    async fn vector_store_file_text(
        &self,
        tenant: &Tenant,
        vector_store_id: &str,
        file_id: &str,
    ) -> StoreResult<Option<String>> {
        let row: Option<Option<String>> = sqlx::query_scalar(
            "SELECT content FROM vector_store_files \
             WHERE tenant = ? AND vector_store_id = ? AND id = ?",
        )
        .bind(tenant.as_str())
        .bind(vector_store_id)
        .bind(file_id)
        .fetch_optional(&self.pool)
        .await?;
        row.ok_or(StoreError::NotFound)
    }

    async fn files_in_progress(&self) -> StoreResult<Vec<(Tenant, VectorStoreFile)>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT tenant, data FROM vector_store_files WHERE status = 'in_progress' ORDER BY seq",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(tenant, data)| Ok((Tenant::from_stored(tenant), from_document(&data)?)))
            .collect()
    }

    async fn get_file_batch(
        &self,
        tenant: &Tenant,
        vector_store_id: &str,
        batch_id: &str,
    ) -> StoreResult<FileBatch> {
        let mut conn = self.pool.acquire().await?;
        let data: Option<String> = sqlx::query_scalar(
            "SELECT data FROM vector_store_file_batches \
             WHERE tenant = ? AND vector_store_id = ? AND id = ?",
        )
        .bind(tenant.as_str())
        .bind(vector_store_id)
        .bind(batch_id)
        .fetch_optional(&mut *conn)
        .await?;
        let batch: FileBatch = from_document(&data.ok_or(StoreError::NotFound)?)?;
        let (file_counts, _) = counts(&mut conn, tenant, vector_store_id, Some(batch_id)).await?;
        Ok(batch.with_counts(file_counts))
    }

    async fn cancel_file_batch(
        &self,
        tenant: &Tenant,
        vector_store_id: &str,
        batch_id: &str,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let data: Option<String> = sqlx::query_scalar(
            "SELECT data FROM vector_store_file_batches \
             WHERE tenant = ? AND vector_store_id = ? AND id = ?",
        )
        .bind(tenant.as_str())
        .bind(vector_store_id)
        .bind(batch_id)
        .fetch_optional(&mut *tx)
        .await?;
        let mut batch: FileBatch = from_document(&data.ok_or(StoreError::NotFound)?)?;
        batch.status = FileBatchStatus::Cancelled;
        sqlx::query("UPDATE vector_store_file_batches SET data = ? WHERE tenant = ? AND id = ?")
            .bind(to_document(&batch)?)
            .bind(tenant.as_str())
            .bind(batch_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE vector_store_files SET status = 'cancelled', \
             data = json_set(data, '$.status', 'cancelled'), \
             lease_owner = NULL, lease_process = NULL, lease_expires_at = NULL \
             WHERE tenant = ? AND vector_store_id = ? AND batch_id = ? AND status = 'in_progress'",
        )
        .bind(tenant.as_str())
        .bind(vector_store_id)
        .bind(batch_id)
        .execute(&mut *tx)
        .await?;
        Ok(tx.commit().await?)
    }

    async fn keyword_stats(
        &self,
        tenant: &Tenant,
        vector_store_ids: &[String],
    ) -> StoreResult<KeywordStats> {
        terms::keyword_stats(&self.pool, tenant, vector_store_ids).await
    }

    async fn term_matches(
        &self,
        tenant: &Tenant,
        vector_store_ids: &[String],
        word: &str,
    ) -> StoreResult<Vec<TermMatch>> {
        terms::term_matches(&self.pool, tenant, vector_store_ids, word).await
    }

    async fn chunk_texts(
        &self,
        tenant: &Tenant,
        chunk_ids: &[i64],
    ) -> StoreResult<HashMap<i64, String>> {
        terms::chunk_texts(&self.pool, tenant, chunk_ids).await
    }

    async fn similar_chunks(
        &self,
        tenant: &Tenant,
        scope: &ChunkScope<'_>,
        query: &SimilarityQuery<'_>,
    ) -> StoreResult<Vec<SimilarChunk>> {
        embeddings::similar_chunks(&self.pool, tenant, scope, query).await
    }
}
