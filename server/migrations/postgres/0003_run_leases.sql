-- Several server instances on one database (as SQLite's migration 0019): a run is
-- worked on by the one process holding its lease (`lease_owner` is the instance id,
-- `lease_process` that life of its process), until `lease_expires_at` (unix
-- milliseconds, the database's clock) unless renewed. A run nobody holds (NULL owner)
-- becomes claimable at `lease_expires_at`: at once when NULL, at its `expires_at` when
-- it waits for tool outputs. `version` grows with every write of the row: run writes
-- are compare-and-set on it, so no instance overwrites another's write.

ALTER TABLE runs ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN lease_owner TEXT;
ALTER TABLE runs ADD COLUMN lease_process TEXT;
ALTER TABLE runs ADD COLUMN lease_expires_at BIGINT;

UPDATE runs
SET lease_expires_at = (data::json ->> 'expires_at')::BIGINT * 1000 + 1000
WHERE status = 'requires_action' AND data::json ->> 'expires_at' IS NOT NULL;

CREATE INDEX runs_claimable ON runs (lease_expires_at)
    WHERE status IN ('queued', 'in_progress', 'requires_action', 'cancelling');
