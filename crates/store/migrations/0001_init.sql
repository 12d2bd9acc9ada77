-- 0001: runs and their model results, and the change counter.
--
-- `seq` is the rowid (stable across VACUUM) that the full-text index keys on;
-- `id` is the contract's run id (`rt_...`), unique, and what everything refers to.

CREATE TABLE runs (
    seq          INTEGER PRIMARY KEY,
    id           TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,                -- unix ms
    request      TEXT    NOT NULL,                -- the RoundtableRequest as sent (JSON)
    input        TEXT    NOT NULL,
    instructions TEXT,
    models       TEXT    NOT NULL DEFAULT '[]',   -- the panel's model names (JSON array)
    status       TEXT    NOT NULL
                 CHECK (status IN ('running', 'completed', 'failed', 'interrupted')),
    resolution   TEXT    NOT NULL,
    data         TEXT,                            -- the resolved answer
    meta         TEXT,                            -- the response's Meta (JSON), once finished
    total_cost   REAL    NOT NULL DEFAULT 0,
    duration_ms  INTEGER,
    parent_id    TEXT    REFERENCES runs(id) ON DELETE SET NULL,
    parent_kind  TEXT    CHECK (parent_kind IN ('rerun', 'resolve')),
    owner        TEXT                             -- the recording Store's owner id
);

CREATE INDEX runs_by_created ON runs(created_at);
CREATE INDEX runs_by_status ON runs(status, created_at);
CREATE INDEX runs_by_parent ON runs(parent_id) WHERE parent_id IS NOT NULL;

CREATE TABLE model_results (
    run_id       TEXT    NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    idx          INTEGER NOT NULL,                -- position in the request's models
    model        TEXT    NOT NULL,
    data         TEXT    NOT NULL DEFAULT '',
    thinking     TEXT,
    error        TEXT,
    usage        TEXT    NOT NULL DEFAULT '{}',   -- Usage (JSON)
    cost         REAL    NOT NULL DEFAULT 0,
    duration_ms  INTEGER NOT NULL DEFAULT 0,
    schema_valid INTEGER,
    schema_error TEXT,
    vote         TEXT,
    attempts     INTEGER,
    PRIMARY KEY (run_id, idx)
);

-- One counter bumped by every write, so a UI can poll "the history changed".
CREATE TABLE store_state (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO store_state (key, value) VALUES ('changes', 0);
