-- 0004: more of what a model's call was like.
-- How long a model waited for a free slot of its provider before its call
-- started (`ModelResult.queued_ms`); NULL when it did not wait.
ALTER TABLE model_results ADD COLUMN queued_ms INTEGER;
-- 1 when JSON mode with the schema in the prompt stood in for JSON Schema
-- output the server refused (`ModelResult.schema_fallback`).
ALTER TABLE model_results ADD COLUMN schema_fallback INTEGER;
-- How a multiple-choice vote was read (`ModelResult.vote_read`).
ALTER TABLE model_results ADD COLUMN vote_read TEXT;
-- How the call ended (`ModelResult.outcome`: answered, failed, cancelled,
-- timed_out, missing_key, refused); NULL for runs recorded before.
ALTER TABLE model_results ADD COLUMN outcome TEXT;
