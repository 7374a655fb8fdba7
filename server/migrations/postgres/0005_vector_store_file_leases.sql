-- Several server instances on one database share ingestion as they share runs (as
-- SQLite's migration 0020): a file being ingested (`in_progress`) is ingested by the one
-- process holding its lease (`lease_owner` is the instance id, `lease_process` that life
-- of its process) until `lease_expires_at` (unix milliseconds, the database's clock)
-- unless renewed. A file nobody holds, or whose lease ran out, is claimable; the
-- ingestion's end clears the lease. Claims scan the existing partial index of
-- `in_progress` files in `seq` order.

ALTER TABLE vector_store_files ADD COLUMN lease_owner TEXT;
ALTER TABLE vector_store_files ADD COLUMN lease_process TEXT;
ALTER TABLE vector_store_files ADD COLUMN lease_expires_at BIGINT;
