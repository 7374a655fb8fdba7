-- Assistants, threads and messages. Each object is kept as its rendered JSON
-- document (`data`) beside the columns that queries filter or sort on.
-- `seq` is the insertion order: it breaks ties between equal `created_at`
-- values so that pagination is stable.

CREATE TABLE assistants (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT    NOT NULL UNIQUE,
    tenant     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    data       TEXT    NOT NULL
);
CREATE INDEX assistants_by_tenant ON assistants (tenant, seq);

CREATE TABLE threads (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT    NOT NULL UNIQUE,
    tenant     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    data       TEXT    NOT NULL
);
CREATE INDEX threads_by_tenant ON threads (tenant, seq);

CREATE TABLE messages (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT    NOT NULL UNIQUE,
    tenant     TEXT    NOT NULL,
    thread_id  TEXT    NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    run_id     TEXT,
    created_at INTEGER NOT NULL,
    data       TEXT    NOT NULL
);
CREATE INDEX messages_by_thread ON messages (tenant, thread_id, seq);
