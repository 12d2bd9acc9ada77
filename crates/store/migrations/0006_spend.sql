-- 0006: what the spend figures ("where it went", budgets) read, as columns,
-- covering indexes and a per-hour rollup, so each figure over 100,000 runs is
-- a few index range scans.
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

-- Per day: the runs' cost and count; the results' cost, tokens and ends by model
-- (the part of an hour a day boundary or the range cuts is read from here).
CREATE INDEX runs_spend ON runs(created_at, total_cost);
CREATE INDEX model_results_spend
    ON model_results(created_at, model, ended, cost, input_tokens, output_tokens);

-- The results summed per UTC hour, model and end, kept by the triggers below in
-- the same transaction as every write of a result: a year of 100,000 runs is
-- some 100,000 rows here instead of 400,000 results.
CREATE TABLE spend_hours (
    hour          INTEGER NOT NULL,    -- created_at / 3600000
    model         TEXT    NOT NULL,
    ended         TEXT    NOT NULL,
    calls         INTEGER NOT NULL,
    cost          REAL    NOT NULL,
    input_tokens  INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    PRIMARY KEY (hour, model, ended)
) WITHOUT ROWID;

INSERT INTO spend_hours
SELECT created_at / 3600000, model, ended, count(*), sum(cost), sum(input_tokens),
       sum(output_tokens)
FROM model_results WHERE created_at IS NOT NULL
GROUP BY 1, 2, 3;

CREATE TRIGGER spend_hours_insert AFTER INSERT ON model_results
WHEN new.created_at IS NOT NULL BEGIN
    INSERT INTO spend_hours (hour, model, ended, calls, cost, input_tokens, output_tokens)
    VALUES (new.created_at / 3600000, new.model, new.ended, 1, new.cost, new.input_tokens,
            new.output_tokens)
    ON CONFLICT (hour, model, ended) DO UPDATE SET
        calls = calls + 1, cost = cost + excluded.cost,
        input_tokens = input_tokens + excluded.input_tokens,
        output_tokens = output_tokens + excluded.output_tokens;
END;

CREATE TRIGGER spend_hours_delete AFTER DELETE ON model_results
WHEN old.created_at IS NOT NULL BEGIN
    UPDATE spend_hours SET
        calls = calls - 1, cost = cost - old.cost,
        input_tokens = input_tokens - old.input_tokens,
        output_tokens = output_tokens - old.output_tokens
    WHERE hour = old.created_at / 3600000 AND model = old.model AND ended = old.ended;
    DELETE FROM spend_hours
    WHERE hour = old.created_at / 3600000 AND model = old.model AND ended = old.ended
      AND calls <= 0;
END;

CREATE TRIGGER spend_hours_update
AFTER UPDATE OF created_at, model, ended, cost, input_tokens, output_tokens ON model_results
BEGIN
    UPDATE spend_hours SET
        calls = calls - 1, cost = cost - old.cost,
        input_tokens = input_tokens - old.input_tokens,
        output_tokens = output_tokens - old.output_tokens
    WHERE old.created_at IS NOT NULL
      AND hour = old.created_at / 3600000 AND model = old.model AND ended = old.ended;
    DELETE FROM spend_hours
    WHERE old.created_at IS NOT NULL
      AND hour = old.created_at / 3600000 AND model = old.model AND ended = old.ended
      AND calls <= 0;
    INSERT INTO spend_hours (hour, model, ended, calls, cost, input_tokens, output_tokens)
    SELECT new.created_at / 3600000, new.model, new.ended, 1, new.cost, new.input_tokens,
           new.output_tokens
    WHERE new.created_at IS NOT NULL
    ON CONFLICT (hour, model, ended) DO UPDATE SET
        calls = calls + 1, cost = cost + excluded.cost,
        input_tokens = input_tokens + excluded.input_tokens,
        output_tokens = output_tokens + excluded.output_tokens;
END;
-- Latency percentiles of one model: its durations in order.
CREATE INDEX model_results_latency ON model_results(model, ended, duration_ms, created_at);
-- The models with no known price.
CREATE INDEX model_results_unpriced ON model_results(model, created_at) WHERE unpriced = 1;
-- Judge models' calls cost too.
CREATE INDEX judgements_spend ON judgements(judged_at, cost);
