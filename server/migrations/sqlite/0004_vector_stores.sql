-- Vector stores, their files and file batches, and the chunks retrieval searches.
-- `seq` is the insertion order used for pagination, as in 0001. A vector store's
-- `file_counts`, `usage_bytes` and `status` are computed from its files on read.

CREATE TABLE vector_stores (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT    NOT NULL UNIQUE,
    tenant     TEXT    NOT NULL,
    data       TEXT    NOT NULL
);
CREATE INDEX vector_stores_by_tenant ON vector_stores (tenant, seq);

CREATE TABLE vector_store_file_batches (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT    NOT NULL UNIQUE,
    tenant          TEXT    NOT NULL,
    vector_store_id TEXT    NOT NULL REFERENCES vector_stores (id) ON DELETE CASCADE,
    data            TEXT    NOT NULL
);
CREATE INDEX vector_store_file_batches_by_store ON vector_store_file_batches (tenant, vector_store_id);

-- `id` is the file's id: the same file may sit in several vector stores.
CREATE TABLE vector_store_files (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT    NOT NULL,
    tenant          TEXT    NOT NULL,
    vector_store_id TEXT    NOT NULL REFERENCES vector_stores (id) ON DELETE CASCADE,
    -- The batch that last attached the file, if any.
    batch_id        TEXT,
    status          TEXT    NOT NULL,
    usage_bytes     INTEGER NOT NULL DEFAULT 0,
    -- The extracted text, served by the content endpoint.
    content         TEXT,
    data            TEXT    NOT NULL,
    UNIQUE (tenant, vector_store_id, id)
);
CREATE INDEX vector_store_files_by_store ON vector_store_files (tenant, vector_store_id, seq);
CREATE INDEX vector_store_files_by_batch ON vector_store_files (tenant, vector_store_id, batch_id, seq);
CREATE INDEX vector_store_files_in_progress ON vector_store_files (status) WHERE status = 'in_progress';

-- Chunks of ingested files, ranked by FTS5's bm25. The porter stemmer lets
-- "running" find "run"; scoping columns are stored but not indexed as text.
CREATE VIRTUAL TABLE vector_store_chunks USING fts5 (
    text,
    tenant UNINDEXED,
    vector_store_id UNINDEXED,
    file_id UNINDEXED,
    position UNINDEXED,
    tokenize = 'porter unicode61'
);
