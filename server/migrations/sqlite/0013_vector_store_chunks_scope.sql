-- `vector_store_chunks` rebuilt with an indexed `scope` column: one token per chunk
-- naming its store ('s' || hex(vector_store_id) || '0', see `scope_token` in
-- server/src/store/sqlite/vector_stores/chunks.rs). Searches match
-- `scope:"<token>" AND text:(<terms>)`, so FTS5 intersects the store's posting list
-- with the terms' before it ranks. The scope columns were UNINDEXED and only checked
-- after the match, so a question's common words (`the`, `is`, `what`...) made FTS5 rank
-- every chunk of every store and tenant: a search cost time in proportion to the whole
-- database, not to the store searched (see server/benches/README.md). Row ids are
-- kept: `vector_store_embeddings` and `vector_store_chunk_owners` refer to them.

CREATE VIRTUAL TABLE vector_store_chunks_scoped USING fts5 (
    text,
    scope,
    tenant UNINDEXED,
    vector_store_id UNINDEXED,
    file_id UNINDEXED,
    position UNINDEXED,
    tokenize = 'porter unicode61'
);
INSERT INTO vector_store_chunks_scoped
    (rowid, text, scope, tenant, vector_store_id, file_id, position)
    SELECT rowid, text, 's' || hex(vector_store_id) || '0', tenant, vector_store_id, file_id,
        position
    FROM vector_store_chunks;
DROP TABLE vector_store_chunks;
ALTER TABLE vector_store_chunks_scoped RENAME TO vector_store_chunks;
