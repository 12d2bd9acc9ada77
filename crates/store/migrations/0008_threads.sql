-- 0008: conversations. A follow-up run names the run it follows (the request's
-- `previous_id`) and every run names its thread: the id of the first run of
-- the conversation, its own id for a run that follows none. Editing an earlier
-- prompt (or re-running a turn) makes a second run following the same run: a
-- branch. A thread is read with one indexed query (`runs_by_thread`).

ALTER TABLE runs ADD COLUMN previous_id TEXT REFERENCES runs(id) ON DELETE SET NULL;
ALTER TABLE runs ADD COLUMN thread_id TEXT;
UPDATE runs SET thread_id = id;
CREATE INDEX runs_by_thread ON runs(thread_id, created_at);
CREATE INDEX runs_by_previous ON runs(previous_id) WHERE previous_id IS NOT NULL;

-- The earlier turns (1-based, a JSON array) where a model had no answer of its
-- own, so it was sent the turn's resolved answer instead.
ALTER TABLE model_results ADD COLUMN context_resolved TEXT;
