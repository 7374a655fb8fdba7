-- Several server instances on one database: a run is worked on by the one process
-- holding its lease (`lease_owner` is the instance id, `lease_process` that life of
-- its process), until `lease_expires_at` (unix milliseconds, the database's clock)
-- unless renewed. A run nobody holds (NULL owner) becomes claimable at
-- `lease_expires_at`: at once when NULL, at its `expires_at` when it waits for tool
-- outputs (so some instance expires it). `version` grows with every write of the row:
-- run writes are compare-and-set on it, so no instance overwrites another's write.

ALTER TABLE runs ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN lease_owner TEXT;
ALTER TABLE runs ADD COLUMN lease_process TEXT;
ALTER TABLE runs ADD COLUMN lease_expires_at INTEGER;

-- Runs already waiting for tool outputs are looked at again when they expire (one
-- second past the mark, as the expiry timer does).
UPDATE runs
SET lease_expires_at = CAST(json_extract(data, '$.expires_at') AS INTEGER) * 1000 + 1000
WHERE status = 'requires_action' AND json_extract(data, '$.expires_at') IS NOT NULL;

CREATE INDEX runs_claimable ON runs (lease_expires_at)
    WHERE status IN ('queued', 'in_progress', 'requires_action', 'cancelling');
