-- 0009: what was spent, kept whatever becomes of the runs, and what runs in
-- flight have set aside against the budgets.
--
-- The ledger has an entry per run (its cost as the run's `total_cost` says,
-- kept by the triggers below while the run is in the history, and left as it
-- was when the run is deleted) and one per judge call (a ranking stored, or a
-- call that failed: `Store::record_judge_spend`). Budgets sum it, so deleting
-- a run does not give its cost back.
CREATE TABLE spend_ledger (
    seq     INTEGER PRIMARY KEY,
    kind    TEXT    NOT NULL CHECK (kind IN ('run', 'judge')),
    run_id  TEXT,                  -- no reference: the entry outlives the run
    model   TEXT,                  -- a judge call's model
    at      INTEGER NOT NULL,      -- unix ms: the run's created_at, the judge call's time
    cost    REAL    NOT NULL
);
CREATE UNIQUE INDEX spend_ledger_run ON spend_ledger(run_id) WHERE kind = 'run';
CREATE INDEX spend_ledger_at ON spend_ledger(at, kind, cost);

INSERT INTO spend_ledger (kind, run_id, at, cost)
SELECT 'run', id, created_at, total_cost FROM runs;
INSERT INTO spend_ledger (kind, run_id, model, at, cost)
SELECT 'judge', run_id, judge_model, judged_at, cost FROM judgements;

-- A run brought back under the id of one deleted (an import of a backup) is
-- the same money: its entry is updated, not added.
CREATE TRIGGER spend_ledger_run_insert AFTER INSERT ON runs BEGIN
    INSERT INTO spend_ledger (kind, run_id, at, cost)
    VALUES ('run', new.id, new.created_at, new.total_cost)
    ON CONFLICT (run_id) WHERE kind = 'run'
    DO UPDATE SET at = excluded.at, cost = excluded.cost;
END;

CREATE TRIGGER spend_ledger_run_update AFTER UPDATE OF created_at, total_cost ON runs BEGIN
    UPDATE spend_ledger SET at = new.created_at, cost = new.total_cost
    WHERE kind = 'run' AND run_id = new.id;
END;

-- A judgement replaced by another judging of the run by the same model: both
-- calls were paid for.
CREATE TRIGGER spend_ledger_judgement AFTER INSERT ON judgements BEGIN
    INSERT INTO spend_ledger (kind, run_id, model, at, cost)
    VALUES ('judge', new.run_id, new.judge_model, new.judged_at, new.cost);
END;

-- What a run (or a judge call) in flight may still cost at worst, set aside
-- when it starts and removed when it ends; a budget counts it as spent. An
-- entry of a process that died (`owner`'s lock file is gone or free) is
-- dropped by the next process that checks a budget.
CREATE TABLE spend_reservations (
    seq    INTEGER PRIMARY KEY,
    owner  TEXT    NOT NULL,
    run_id TEXT,                   -- a run's: what it has cost so far comes off
    usd    REAL    NOT NULL,
    at     INTEGER NOT NULL
);
