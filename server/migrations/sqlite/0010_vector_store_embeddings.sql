-- Hybrid search (an embeddings upstream configured): a store's embedding model, fixed
-- when the store is created and never shown on the wire (NULL: keyword ranking only),
-- and one unit-length vector per chunk, little-endian f32, by the `rowid` of the chunk
-- in `vector_store_chunks`. Chunks and their vectors are written in one transaction.

ALTER TABLE vector_stores ADD COLUMN embedding_model TEXT;

CREATE TABLE vector_store_embeddings (
    chunk_id        INTEGER PRIMARY KEY,
    tenant          TEXT    NOT NULL,
    vector_store_id TEXT    NOT NULL,
    file_id         TEXT    NOT NULL,
    model           TEXT    NOT NULL,
    vector          BLOB    NOT NULL
);
CREATE INDEX vector_store_embeddings_by_file
    ON vector_store_embeddings (tenant, vector_store_id, file_id);
