-- 0007: the files a run was sent with (the request's `attachments`).
--
-- The bytes are not in the database: each file is kept once, under the SHA-256
-- of its bytes, in `<dir of the database>/attachments/<first 2 hex>/<sha256>`,
-- written (temp file, fsync, rename) before the run that names it is committed.
-- The stored request keeps each attachment's name, media type, sha256 and size,
-- with its `data` empty; the store fills it back from the file when the bytes
-- are needed (a re-run, an export). A file no run names any more is removed
-- with the last run that named it.

-- One row per stored file.
CREATE TABLE attachment_files (
    sha256     TEXT    NOT NULL PRIMARY KEY,   -- lower-case hex
    media_type TEXT    NOT NULL,
    size       INTEGER NOT NULL                -- bytes
) WITHOUT ROWID;

-- Which files each run was sent with, in the request's order. The name and type
-- are the run's own (the same bytes may be attached as `a.txt` and `b.md`).
CREATE TABLE run_attachments (
    run_id     TEXT    NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,               -- index in the request's attachments
    sha256     TEXT    NOT NULL REFERENCES attachment_files(sha256),
    name       TEXT    NOT NULL,
    media_type TEXT    NOT NULL,
    size       INTEGER NOT NULL,
    PRIMARY KEY (run_id, position)             -- also the index by run
);
-- Whether any run still names a file (a run deleted, its files swept).
CREATE INDEX run_attachments_by_sha256 ON run_attachments(sha256);

-- Search finds a run by its attachments' names (indexed with its prompt, see
-- search.rs `reindex`). No run recorded before this schema has a row above, so
-- no run needs indexing again here.
