-- A file's size beside its document, so a tenant's stored bytes (the optional storage
-- quota) are an index-only SUM instead of a JSON parse per file; existing rows are
-- filled from their documents. Pending uploads get an index on their expiry, as the
-- housekeeping sweep now looks for overdue ones periodically, not only at start-up.
-- Deleting a file detaches it from every vector store holding it, found by file id.

ALTER TABLE files ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
UPDATE files SET bytes = COALESCE(json_extract(data, '$.bytes'), 0);
CREATE INDEX files_bytes_by_tenant ON files (tenant, bytes);
CREATE INDEX upload_parts_bytes_by_tenant ON upload_parts (tenant, bytes);
CREATE INDEX uploads_pending_by_expiry ON uploads (expires_at) WHERE status = 'pending';
CREATE INDEX vector_store_files_by_file ON vector_store_files (tenant, id);
