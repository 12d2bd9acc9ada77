-- 0003: full-text search over the prompt, the instructions, every answer and the
-- resolved answer.
--
-- Contentless (the text lives in runs/model_results only) with contentless_delete
-- so a run's row can be replaced when an answer arrives. Keyed by runs.seq. The
-- store rewrites a run's row in the same transaction as every write that changes
-- its text (Store::reindex), so the index is never out of step.

CREATE VIRTUAL TABLE runs_fts USING fts5(
    input,
    instructions,
    answers,
    resolved,
    content = '',
    contentless_delete = 1,
    tokenize = 'porter unicode61 remove_diacritics 2'
);

-- Ranking: a hit in the prompt weighs most, then the resolved answer.
INSERT INTO runs_fts (runs_fts, rank) VALUES ('rank', 'bm25(4.0, 1.0, 1.0, 2.0)');

-- Index the runs recorded before this migration.
INSERT INTO runs_fts (rowid, input, instructions, answers, resolved)
SELECT r.seq, r.input, r.instructions,
       (SELECT group_concat(m.data, char(10)) FROM model_results m WHERE m.run_id = r.id),
       r.data
FROM runs r;
