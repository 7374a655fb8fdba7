-- Several server instances on one database share ingestion as they share runs: a file
-- being ingested (`in_progress`) is ingested by the one process holding its lease
-- (`lease_owner` is the instance id, `lease_process` that life of its process) until
-- `lease_expires_at` (unix milliseconds, the database's clock) unless renewed. A file
-- nobody holds, or whose lease ran out, is claimable: attached while no instance had
-- workers, or left by an instance that died. The ingestion's end clears the lease.
--
-- The table is rebuilt so that `content` stays its last column (see migration 0011:
-- reading a column after a large text walks the text's overflow pages).

CREATE TABLE vector_store_files_rebuilt (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    id               TEXT    NOT NULL,
    tenant           TEXT    NOT NULL,
    vector_store_id  TEXT    NOT NULL REFERENCES vector_stores (id) ON DELETE CASCADE,
    -- The batch that last attached the file, if any.
    batch_id         TEXT,
    status           TEXT    NOT NULL,
    usage_bytes      INTEGER NOT NULL DEFAULT 0,
    data             TEXT    NOT NULL,
    lease_owner      TEXT,
    lease_process    TEXT,
    lease_expires_at INTEGER,
    -- The extracted text, served by the content endpoint; last, see above.
    content          TEXT,
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
CREATE INDEX vector_store_files_by_file ON vector_store_files (tenant, id);
