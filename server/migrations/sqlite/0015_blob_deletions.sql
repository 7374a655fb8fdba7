-- Bytes in the data directory whose record is gone and which still have to be removed.
-- A file's deletion (or expiry) and an upload's end write a row here in the same
-- transaction that removes the record, then remove the bytes and the row. If removing
-- the bytes fails (a read-only disk, a crash in between), the row stays and the
-- housekeeping sweep retries it until it succeeds: no bytes outlive their record.
-- `kind` is 'file' (files/<tenant>/<id>) or 'upload' (uploads/<tenant>/<id>/).

CREATE TABLE blob_deletions (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant    TEXT    NOT NULL,
    kind      TEXT    NOT NULL,
    object_id TEXT    NOT NULL,
    UNIQUE (tenant, kind, object_id)
);
