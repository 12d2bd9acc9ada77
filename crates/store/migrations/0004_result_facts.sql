-- How long a model waited for a free slot of its provider before its call
-- started (`ModelResult.queued_ms`); NULL when it did not wait.
ALTER TABLE model_results ADD COLUMN queued_ms INTEGER;
