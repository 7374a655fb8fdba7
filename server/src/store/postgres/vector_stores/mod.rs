//! PostgreSQL queries for vector stores, their files and batches, keyword search's terms
//! and statistics ([`terms`]) and the chunks' vectors ([`embeddings`]). Chunks, terms
//! and vectors hang from their attachment by cascading keys (migration 0002), so
//! deleting or replacing an attachment drops exactly its chunks; [`chunks`] says which
//! locks stand in for SQLite's single writer.

use std::collections::HashMap;

use async_trait::async_trait;

mod attachments;
mod batches;
mod chunks;
pub(crate) use chunks::import_chunks;
mod counts;
mod embeddings;
mod ingestion;
mod leases;
mod terms;
#[cfg(test)]
mod tests;

use super::{expect_one, fetch_page, from_document, to_document, PgStore, Table};
use crate::models::VectorStoreFileStatus;
use crate::store::vector_stores::{
    AttachmentKey, ChunkScope, ChunkVectors, IngestedFile, IngestionClaim, KeywordStats,
    SimilarityQuery, TermMatch, VectorStoreStore,
};
use crate::store::{LeaseHolder, Page, PageRequest, StoreError, StoreResult, Tenant};
use crate::vector_stores::model::{FileBatch, SimilarChunk, VectorStore, VectorStoreFile};
pub(super) use attachments::detach_file_everywhere;
use attachments::{attach, delete_with_chunks};
use counts::{counts, with_counts};

#[async_trait]
impl VectorStoreStore for PgStore {
    async fn insert_vector_store_embedded(
        &self,
        tenant: &Tenant,
        store: &VectorStore,
        files: &[VectorStoreFile],
        embedding_model: Option<&str>,
    ) -> StoreResult<()> {
        attach(self, tenant, Some((store, embedding_model)), files, None).await
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
            sqlx::query_scalar("SELECT data FROM vector_stores WHERE tenant = $1 AND id = $2")
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
        delete_with_chunks(self, tenant, id, None).await
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
        attach(self, tenant, None, files, batch).await
    }

    async fn get_vector_store_file(
        &self,
        tenant: &Tenant,
        vector_store_id: &str,
        file_id: &str,
    ) -> StoreResult<VectorStoreFile> {
        let data: Option<String> = sqlx::query_scalar(
            "SELECT data FROM vector_store_files \
             WHERE tenant = $1 AND vector_store_id = $2 AND id = $3",
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
            "UPDATE vector_store_files SET data = $1, status = $2, usage_bytes = $3 \
             WHERE tenant = $4 AND vector_store_id = $5 AND id = $6",
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
        delete_with_chunks(self, tenant, vector_store_id, Some(file_id)).await
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
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT data FROM vector_store_files WHERE status = 'completed' AND tenant = $1 \
             AND vector_store_id = ANY($2) ORDER BY seq",
        )
        .bind(tenant.as_str())
        .bind(vector_store_ids)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| from_document(row)).collect()
    }

    async fn vector_store_file_text(
        &self,
        tenant: &Tenant,
        vector_store_id: &str,
        file_id: &str,
    ) -> StoreResult<Option<String>> {
        let row: Option<Option<Vec<u8>>> = sqlx::query_scalar(
            "SELECT content FROM vector_store_files \
             WHERE tenant = $1 AND vector_store_id = $2 AND id = $3",
        )
        .bind(tenant.as_str())
        .bind(vector_store_id)
        .bind(file_id)
        .fetch_optional(&self.pool)
        .await?;
        row.ok_or(StoreError::NotFound)?
            .map(|bytes| {
                String::from_utf8(bytes).map_err(|_| {
                    StoreError::Corrupt(format!("text of file {file_id} is not UTF-8"))
                })
            })
            .transpose()
    }

    async fn files_in_progress(&self) -> StoreResult<Vec<(Tenant, VectorStoreFile)>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT tenant, data FROM vector_store_files WHERE status = 'in_progress' \
             ORDER BY seq",
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
             WHERE tenant = $1 AND vector_store_id = $2 AND id = $3",
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
        batches::cancel_file_batch(self, tenant, vector_store_id, batch_id).await
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
