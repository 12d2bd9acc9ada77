-- 0006: what the spend figures ("where it went", budgets) read, as columns and
-- covering indexes, so each figure is an index range scan over 100,000 runs.
--
-- Each is written by the store with the result (see record.rs `upsert_result`)
-- and filled here for the results recorded before.

-- The run's created_at (unix ms), so a result is found by time without the runs table.
ALTER TABLE model_results ADD COLUMN created_at INTEGER;
-- `usage.input_tokens` and `usage.output_tokens`.
ALTER TABLE model_results ADD COLUMN input_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE model_results ADD COLUMN output_tokens INTEGER NOT NULL DEFAULT 0;
-- 1 when the model had no known price (`usage.extra.pricing` says so; cost 0).
ALTER TABLE model_results ADD COLUMN unpriced INTEGER NOT NULL DEFAULT 0;
-- How the call ended as the figures count it: `outcome`, or for a result
-- recorded before outcomes, read from its error as `ModelResult::ended` does.
ALTER TABLE model_results ADD COLUMN ended TEXT NOT NULL DEFAULT 'answered';

UPDATE model_results SET
    created_at = (SELECT r.created_at FROM runs r WHERE r.id = model_results.run_id),
    input_tokens = CASE WHEN json_valid(usage)
        THEN coalesce(json_extract(usage, '$.input_tokens'), 0) ELSE 0 END,
    output_tokens = CASE WHEN json_valid(usage)
        THEN coalesce(json_extract(usage, '$.output_tokens'), 0) ELSE 0 END,
    unpriced = CASE WHEN json_valid(usage)
        THEN json_extract(usage, '$.extra.pricing') IS NOT NULL ELSE 0 END,
    ended = coalesce(outcome, CASE WHEN error IS NULL THEN 'answered'
                                   WHEN error = 'cancelled' THEN 'cancelled'
                                   ELSE 'failed' END);

-- Per day: the runs' cost and count; the results' cost, tokens and ends by model.
CREATE INDEX runs_spend ON runs(created_at, total_cost);
CREATE INDEX model_results_spend
    ON model_results(created_at, model, ended, cost, input_tokens, output_tokens);
-- Latency percentiles of one model: its durations in order.
CREATE INDEX model_results_latency ON model_results(model, ended, duration_ms, created_at);
-- The models with no known price.
CREATE INDEX model_results_unpriced ON model_results(created_at, model) WHERE unpriced = 1;
-- Judge models' calls cost too.
CREATE INDEX judgements_spend ON judgements(judged_at, cost);
