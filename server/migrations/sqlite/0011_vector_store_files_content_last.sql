-- `vector_store_files` rebuilt with `content` (a file's whole extracted text) as its last
-- column. SQLite stores a row's columns in order and keeps what does not fit in the page
-- in a chain of overflow pages, so reading `data` after a large `content` walked that
-- whole chain: every search loaded its store's file attributes that way (about 30 ms per
-- query for a store of 1,000 files of 50 chunks; see server/benches/README.md). Columns
-- added later go after `content` again; keep large text last.

CREATE TABLE vector_store_files_rebuilt (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT    NOT NULL,
    tenant          TEXT    NOT NULL,
    vector_store_id TEXT    NOT NULL REFERENCES vector_stores (id) ON DELETE CASCADE,
    -- The batch that last attached the file, if any.
    batch_id        TEXT,
    status          TEXT    NOT NULL,
    usage_bytes     INTEGER NOT NULL DEFAULT 0,
    data            TEXT    NOT NULL,
    -- The extracted text, served by the content endpoint; last, see above.
    content         TEXT,
    UNIQUE (tenant, vector_store_id, id)
);
INSERT INTO vector_store_files_rebuilt
    (seq, id, tenant, vector_store_id, batch_id, status, usage_bytes, data, content)
    SELECT seq, id, tenant, vector_store_id, batch_id, status, usage_bytes, data, content
    FROM vector_store_files;
DROP TABLE vector_store_files;
ALTER TABLE vector_store_files_rebuilt RENAME TO vector_store_files;
CREATE INDEX vector_store_files_by_store ON vector_store_files (tenant, vector_store_id, seq);
CREATE INDEX vector_store_files_by_batch ON vector_store_files (tenant, vector_store_id, batch_id, seq);
CREATE INDEX vector_store_files_in_progress ON vector_store_files (status) WHERE status = 'in_progress';
