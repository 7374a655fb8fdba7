-- The dimension of a store's vectors, recorded with the first vectors written to it
-- (NULL until then, and for keyword-only stores). Later vectors of another dimension
-- are refused in the same transaction, so one store never mixes vector spaces even when
-- its model name starts answering differently (an operator re-pointing the name).
-- Stores embedded before this migration take the dimension of their existing vectors.

ALTER TABLE vector_stores ADD COLUMN embedding_dimensions INTEGER;

UPDATE vector_stores
SET embedding_dimensions = (
    SELECT length(e.vector) / 4 FROM vector_store_embeddings e
    WHERE e.tenant = vector_stores.tenant AND e.vector_store_id = vector_stores.id
    LIMIT 1
)
WHERE embedding_model IS NOT NULL;
