-- bm25 statistics per store, so a search's scores come from the searched stores alone
-- (FTS5's own bm25 counts rows, lengths and term frequencies over the whole table, every
-- tenant's chunks included: one tenant's documents moved another's scores). A chunk's
-- length in words is kept by its owner row; each store's chunk count and total words
-- are kept in `vector_store_chunk_stats`, updated in the transactions that write and drop
-- chunks. Lengths of chunks written before this migration (NULL here) are counted, and
-- the per-store rows built, by the server when it opens the database (the count is the
-- server's word splitting, which SQL cannot do); see
-- server/src/store/sqlite/vector_stores/terms.rs.

ALTER TABLE vector_store_chunk_owners ADD COLUMN words INTEGER;

CREATE TABLE vector_store_chunk_stats (
    tenant          TEXT    NOT NULL,
    vector_store_id TEXT    NOT NULL,
    chunks          INTEGER NOT NULL,
    words           INTEGER NOT NULL,
    PRIMARY KEY (tenant, vector_store_id)
);
