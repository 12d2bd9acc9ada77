-- 0005: what a person, or a judge model, thought of a run's answers.
--
-- `ranking` holds model-result indices (`model_results.idx`), best first, as a
-- JSON array of groups: the models of one group tie. The run's other answered
-- models rank below every listed one and are not compared among themselves.
-- An `all_bad` vote has no groups: every answered model ties.

-- A person's vote: at most one per run; changing it rewrites it, withdrawing
-- deletes it.
CREATE TABLE votes (
    run_id     TEXT    NOT NULL PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL CHECK (kind IN ('best', 'ranking', 'all_bad', 'pairwise')),
    ranking    TEXT    NOT NULL DEFAULT '[]',
    blind      INTEGER NOT NULL DEFAULT 0,     -- cast before the names were shown
    cast_at    INTEGER NOT NULL,               -- unix ms
    changed_at INTEGER                         -- unix ms of the last change
);

-- A judge model's ranking: one per run and judge, kept apart from the votes.
-- `ranking` is a strict order (one model per group); `reasons` is a JSON array
-- of the judge's reason for each place, in the same order.
CREATE TABLE judgements (
    run_id      TEXT    NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    judge_model TEXT    NOT NULL,
    ranking     TEXT    NOT NULL,
    reasons     TEXT    NOT NULL DEFAULT '[]',
    cost        REAL    NOT NULL DEFAULT 0,
    judged_at   INTEGER NOT NULL,              -- unix ms
    PRIMARY KEY (run_id, judge_model)
);
CREATE INDEX judgements_by_judge ON judgements(judge_model);
