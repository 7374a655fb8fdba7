-- The core objects, as the SQLite schema (migrations/sqlite) holds them after its
-- migration 0017: one row per object with its JSON document as text (key order is
-- part of the API; jsonb would reorder it), scoped by tenant, ordered by `seq`.

CREATE TABLE assistants (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         TEXT   NOT NULL UNIQUE,
    tenant     TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    data       TEXT   NOT NULL
);
CREATE INDEX assistants_by_tenant ON assistants (tenant, seq);

CREATE TABLE threads (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         TEXT   NOT NULL UNIQUE,
    tenant     TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    data       TEXT   NOT NULL
);
CREATE INDEX threads_by_tenant ON threads (tenant, seq);

CREATE TABLE messages (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         TEXT   NOT NULL UNIQUE,
    tenant     TEXT   NOT NULL,
    thread_id  TEXT   NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    run_id     TEXT,
    created_at BIGINT NOT NULL,
    data       TEXT   NOT NULL
);
CREATE INDEX messages_by_thread ON messages (tenant, thread_id, seq);

CREATE TABLE runs (
    seq        BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         TEXT    NOT NULL UNIQUE,
    tenant     TEXT    NOT NULL,
    thread_id  TEXT    NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    status     TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    -- Starts of the current model turn (see the SQLite migration 0014).
    attempts   INTEGER NOT NULL DEFAULT 0,
    data       TEXT    NOT NULL
);
CREATE INDEX runs_by_thread ON runs (tenant, thread_id, seq);
-- One active run per thread, whichever instance inserts it: two concurrent creates
-- cannot both commit.
CREATE UNIQUE INDEX runs_one_active_per_thread ON runs (thread_id)
    WHERE status IN ('queued', 'in_progress', 'requires_action', 'cancelling');
CREATE INDEX runs_active ON runs (seq)
    WHERE status IN ('queued', 'in_progress', 'requires_action', 'cancelling');

CREATE TABLE run_steps (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         TEXT   NOT NULL UNIQUE,
    tenant     TEXT   NOT NULL,
    thread_id  TEXT   NOT NULL,
    run_id     TEXT   NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    -- A tool-call step's usage, held back until the step completes.
    held_usage TEXT,
    data       TEXT   NOT NULL
);
CREATE INDEX run_steps_by_run ON run_steps (tenant, run_id, seq);

CREATE TABLE files (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         TEXT   NOT NULL UNIQUE,
    tenant     TEXT   NOT NULL,
    purpose    TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    bytes      BIGINT NOT NULL DEFAULT 0,
    data       TEXT   NOT NULL
);
CREATE INDEX files_by_tenant ON files (tenant, seq);
CREATE INDEX files_by_expiry ON files (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX files_bytes_by_tenant ON files (tenant, bytes);

CREATE TABLE uploads (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         TEXT   NOT NULL UNIQUE,
    tenant     TEXT   NOT NULL,
    status     TEXT   NOT NULL,
    expires_at BIGINT NOT NULL,
    -- `expires_after.seconds` for the file the upload becomes; not part of the object.
    file_expires_after BIGINT,
    data       TEXT   NOT NULL
);
CREATE INDEX uploads_by_tenant ON uploads (tenant, seq);
CREATE INDEX uploads_pending_by_expiry ON uploads (expires_at) WHERE status = 'pending';

CREATE TABLE upload_parts (
    seq       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id        TEXT   NOT NULL UNIQUE,
    tenant    TEXT   NOT NULL,
    upload_id TEXT   NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
    bytes     BIGINT NOT NULL,
    data      TEXT   NOT NULL
);
CREATE INDEX upload_parts_by_upload ON upload_parts (tenant, upload_id, seq);
CREATE INDEX upload_parts_bytes_by_tenant ON upload_parts (tenant, bytes);

-- Bytes whose record is gone and which still have to leave the blob storage.
CREATE TABLE blob_deletions (
    seq       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant    TEXT   NOT NULL,
    kind      TEXT   NOT NULL,
    object_id TEXT   NOT NULL,
    UNIQUE (tenant, kind, object_id)
);
