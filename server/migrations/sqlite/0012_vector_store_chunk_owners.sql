-- Which file of which store owns each chunk, by the chunk's `rowid` in
-- `vector_store_chunks`, indexed by file. FTS5 cannot index its UNINDEXED scope
-- columns, so deleting a file's chunks by `tenant`, `vector_store_id` and `file_id`
-- scanned the whole chunk table (about 215 ms per attached file at 100k chunks, under
-- the write lock; see server/benches/README.md). Deletions now look the file's chunk
-- ids up here and delete those rows by `rowid`. Written with the chunks, in the same
-- transaction; existing chunks are copied.

CREATE TABLE vector_store_chunk_owners (
    chunk_id        INTEGER PRIMARY KEY,
    tenant          TEXT    NOT NULL,
    vector_store_id TEXT    NOT NULL,
    file_id         TEXT    NOT NULL
);
CREATE INDEX vector_store_chunk_owners_by_file
    ON vector_store_chunk_owners (tenant, vector_store_id, file_id);

INSERT INTO vector_store_chunk_owners (chunk_id, tenant, vector_store_id, file_id)
    SELECT rowid, tenant, vector_store_id, file_id FROM vector_store_chunks;
