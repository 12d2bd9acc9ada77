-- 0002: starred runs and tags.

ALTER TABLE runs ADD COLUMN starred INTEGER NOT NULL DEFAULT 0;
CREATE INDEX runs_starred ON runs(created_at) WHERE starred = 1;

CREATE TABLE tags (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    tag    TEXT NOT NULL,
    PRIMARY KEY (run_id, tag)
);
CREATE INDEX tags_by_tag ON tags(tag);
