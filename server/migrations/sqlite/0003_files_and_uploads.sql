-- Files and uploads. The bytes live in the data directory; these rows say what
-- exists. `seq` is the insertion order used for pagination, as in 0001.

CREATE TABLE files (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT    NOT NULL UNIQUE,
    tenant     TEXT    NOT NULL,
    purpose    TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    data       TEXT    NOT NULL
);
CREATE INDEX files_by_tenant ON files (tenant, seq);
CREATE INDEX files_by_expiry ON files (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE uploads (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT    NOT NULL UNIQUE,
    tenant     TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    -- `expires_after.seconds` for the file the upload becomes; not part of the object.
    file_expires_after INTEGER,
    data       TEXT    NOT NULL
);
CREATE INDEX uploads_by_tenant ON uploads (tenant, seq);

CREATE TABLE upload_parts (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT    NOT NULL UNIQUE,
    tenant     TEXT    NOT NULL,
    upload_id  TEXT    NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
    bytes      INTEGER NOT NULL,
    data       TEXT    NOT NULL
);
CREATE INDEX upload_parts_by_upload ON upload_parts (tenant, upload_id, seq);
