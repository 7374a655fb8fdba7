-- Vector stores, their files and file batches, the chunks search ranks and their
-- vectors, as the SQLite schema holds them after its migration 0017 (documents as
-- text, `seq` for pagination, counts computed from the file rows on read).
--
-- Keyword search: SQLite's FTS5 is replaced by the terms FTS5 would index, made in Rust
-- (server/src/vector_stores/tokenize.rs: unicode61 + Porter, byte for byte), one row per
-- distinct term of a chunk with its frequency, keyed by store then term; bm25 is computed
-- in Rust from them as for SQLite, so scores are bit-identical.
--
-- Every table below a store reaches its parent by a cascading key, so deleting a store,
-- a file's attachment or a chunk removes exactly what hangs from it, and the per-store
-- bm25 statistics follow every insert and delete of chunks by statement triggers.
--
-- Hybrid search compares vectors by brute force in Rust, as on SQLite; pgvector is not
-- required (an approximate index could be added where the extension is installed).

CREATE TABLE vector_stores (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              TEXT   NOT NULL UNIQUE,
    tenant          TEXT   NOT NULL,
    -- The embedding model fixed at creation (NULL: keyword ranking only); never shown.
    embedding_model TEXT,
    data            TEXT   NOT NULL
);
CREATE INDEX vector_stores_by_tenant ON vector_stores (tenant, seq);

CREATE TABLE vector_store_file_batches (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              TEXT   NOT NULL UNIQUE,
    tenant          TEXT   NOT NULL,
    vector_store_id TEXT   NOT NULL REFERENCES vector_stores (id) ON DELETE CASCADE,
    data            TEXT   NOT NULL
);
CREATE INDEX vector_store_file_batches_by_store ON vector_store_file_batches (vector_store_id);

-- `id` is the file's id: the same file may sit in several vector stores. Store ids are
-- unique across tenants, so (vector_store_id, id) names one attachment.
CREATE TABLE vector_store_files (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              TEXT   NOT NULL,
    tenant          TEXT   NOT NULL,
    vector_store_id TEXT   NOT NULL REFERENCES vector_stores (id) ON DELETE CASCADE,
    -- The batch that last attached the file, if any.
    batch_id        TEXT,
    status          TEXT   NOT NULL,
    usage_bytes     BIGINT NOT NULL DEFAULT 0,
    data            TEXT   NOT NULL,
    -- The extracted text (UTF-8), served by the content endpoint; bytes, as text columns
    -- refuse NUL, which SQLite keeps.
    content         BYTEA,
    UNIQUE (vector_store_id, id)
);
CREATE INDEX vector_store_files_by_store ON vector_store_files (vector_store_id, seq);
CREATE INDEX vector_store_files_by_batch ON vector_store_files (vector_store_id, batch_id, seq);
CREATE INDEX vector_store_files_by_file ON vector_store_files (tenant, id);
CREATE INDEX vector_store_files_in_progress ON vector_store_files (seq) WHERE status = 'in_progress';

-- A chunk's id orders chunks as SQLite's rowid does (bm25 and similarity ties go by it).
CREATE TABLE vector_store_chunks (
    id              BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant          TEXT    NOT NULL,
    vector_store_id TEXT    NOT NULL,
    file_id         TEXT    NOT NULL,
    position        INTEGER NOT NULL,
    -- Its length for bm25 (`bm25::word_count`).
    words           INTEGER NOT NULL,
    -- UTF-8, as bytes for the reason `content` is.
    text            BYTEA   NOT NULL,
    FOREIGN KEY (vector_store_id, file_id) REFERENCES vector_store_files (vector_store_id, id)
        ON DELETE CASCADE
);
CREATE INDEX vector_store_chunks_by_file ON vector_store_chunks (vector_store_id, file_id);

-- The inverted index: each distinct term of a chunk with how often it occurs there.
-- `store_key` is the store's `vector_stores.seq` (one bigint instead of the tenant's
-- 64-character hash and the store id on every row of the largest table); searches
-- resolve it from (tenant, vector_store_id), so a tenant only ever reads its own stores.
CREATE TABLE vector_store_terms (
    store_key BIGINT  NOT NULL,
    term      BYTEA   NOT NULL,
    chunk_id  BIGINT  NOT NULL REFERENCES vector_store_chunks (id) ON DELETE CASCADE,
    tf        INTEGER NOT NULL,
    PRIMARY KEY (store_key, term, chunk_id)
);
CREATE INDEX vector_store_terms_by_chunk ON vector_store_terms (chunk_id);

-- One unit-length vector per chunk (little-endian f32, as on SQLite).
CREATE TABLE vector_store_embeddings (
    chunk_id        BIGINT PRIMARY KEY REFERENCES vector_store_chunks (id) ON DELETE CASCADE,
    tenant          TEXT   NOT NULL,
    vector_store_id TEXT   NOT NULL,
    file_id         TEXT   NOT NULL,
    model           TEXT   NOT NULL,
    vector          BYTEA  NOT NULL
);
CREATE INDEX vector_store_embeddings_by_file ON vector_store_embeddings (vector_store_id, file_id);

-- bm25's statistics per store: its chunks and their words. Kept by the triggers below
-- from the rows each statement inserted or deleted (cascades included), so concurrent
-- writers add and subtract exactly what they changed; the store's deletion removes its row.
CREATE TABLE vector_store_chunk_stats (
    vector_store_id TEXT   PRIMARY KEY,
    tenant          TEXT   NOT NULL,
    chunks          BIGINT NOT NULL,
    words           BIGINT NOT NULL
);

CREATE FUNCTION vector_store_chunks_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO vector_store_chunk_stats AS s (vector_store_id, tenant, chunks, words)
        SELECT vector_store_id, min(tenant), count(*), sum(words) FROM added
        GROUP BY vector_store_id
        ON CONFLICT (vector_store_id) DO UPDATE
        SET chunks = s.chunks + excluded.chunks, words = s.words + excluded.words;
    RETURN NULL;
END $$;

CREATE FUNCTION vector_store_chunks_dropped() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE vector_store_chunk_stats AS s
        SET chunks = s.chunks - d.chunks, words = s.words - d.words
        FROM (SELECT vector_store_id, count(*) AS chunks, sum(words) AS words FROM dropped
              GROUP BY vector_store_id) AS d
        WHERE s.vector_store_id = d.vector_store_id;
    RETURN NULL;
END $$;

CREATE TRIGGER vector_store_chunks_added AFTER INSERT ON vector_store_chunks
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT
    EXECUTE FUNCTION vector_store_chunks_added();
CREATE TRIGGER vector_store_chunks_dropped AFTER DELETE ON vector_store_chunks
    REFERENCING OLD TABLE AS dropped FOR EACH STATEMENT
    EXECUTE FUNCTION vector_store_chunks_dropped();
