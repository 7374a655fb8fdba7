-- Runs and their steps. As for the other objects, `data` holds the rendered JSON
-- document; `status` is a column too, so the one-active-run-per-thread rule and the
-- restart recovery can find unfinished runs without reading every document.

CREATE TABLE runs (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT    NOT NULL UNIQUE,
    tenant     TEXT    NOT NULL,
    thread_id  TEXT    NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    status     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    data       TEXT    NOT NULL
);
CREATE INDEX runs_by_thread ON runs (tenant, thread_id, seq);
CREATE INDEX runs_by_status ON runs (status);

CREATE TABLE run_steps (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT    NOT NULL UNIQUE,
    tenant     TEXT    NOT NULL,
    thread_id  TEXT    NOT NULL,
    run_id     TEXT    NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    data       TEXT    NOT NULL
);
CREATE INDEX run_steps_by_run ON run_steps (tenant, run_id, seq);
