//! Votes and judgements: what a person ([`Ballot`], one per run) or a judge model
//! ([`Judgement`], one per run and judge) thought of a run's answers, and the
//! rows the leaderboard is fitted on ([`Store::verdicts`]). The two are kept in
//! tables of their own and never mixed: a query reads one [`VerdictSource`].

use super::{Store, run_exists};
use crate::time::now_ms;
use crate::{Error, Result};
use rusqlite::types::Value as Sql;
use rusqlite::{OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// How a person judged a run's answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum VoteKind {
    /// One best answer: `ranking` is `[[best]]`; it beats every other answer.
    Best,
    /// A ranking, best first; a group of several is a tie. Answers left out rank
    /// below every listed one.
    Ranking,
    /// Every answer was bad: `ranking` is empty, and the answers tie.
    AllBad,
    /// Two answers: `[[a], [b]]` (a is better) or `[[a, b]]` (a tie).
    Pairwise,
}

impl VoteKind {
    fn as_str(self) -> &'static str {
        match self {
            VoteKind::Best => "best",
            VoteKind::Ranking => "ranking",
            VoteKind::AllBad => "all_bad",
            VoteKind::Pairwise => "pairwise",
        }
    }

    fn parse(s: &str) -> Option<VoteKind> {
        Some(match s {
            "best" => VoteKind::Best,
            "ranking" => VoteKind::Ranking,
            "all_bad" => VoteKind::AllBad,
            "pairwise" => VoteKind::Pairwise,
            _ => return None,
        })
    }
}

/// A vote as a person casts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Ballot {
    pub kind: VoteKind,
    /// Model-result indices (`ModelResult.index`), best first, in groups of ties.
    #[serde(default)]
    pub ranking: Vec<Vec<u32>>,
    /// Cast before the models' names were shown.
    #[serde(default)]
    pub blind: bool,
}

/// A stored vote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Vote {
    #[serde(flatten)]
    pub ballot: Ballot,
    /// Unix ms.
    pub cast_at_ms: i64,
    /// Unix ms of the last change, when it was changed.
    pub changed_at_ms: Option<i64>,
}

/// A judge model's ranking of a run's answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Judgement {
    pub judge_model: String,
    /// Model-result indices, best first.
    pub ranking: Vec<u32>,
    /// The judge's reason for each place, in the order of `ranking`.
    pub reasons: Vec<String>,
    /// What the judge's call cost (USD).
    pub cost: f64,
    /// Unix ms.
    pub judged_at_ms: i64,
}

/// A run's vote and its judges' rankings: what its JSON export carries beside
/// the run, so that an import brings them back ([`Store::run_verdicts`]).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RunVerdicts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vote: Option<Vote>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub judgements: Vec<Judgement>,
}

/// Which verdicts a leaderboard is fitted on: never both at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum VerdictSource {
    /// The person's votes.
    #[default]
    Votes,
    /// Judge models' rankings.
    Judges,
}

/// Which runs' verdicts to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerdictQuery {
    pub source: VerdictSource,
    /// Runs created at or after (unix ms).
    pub since_ms: Option<i64>,
    /// Runs created before (unix ms, exclusive).
    pub until_ms: Option<i64>,
    /// Runs with this tag.
    pub tag: Option<String>,
    /// With [`VerdictSource::Judges`]: only this judge's rankings.
    pub judge_model: Option<String>,
}

/// One verdict on one run, with what the leaderboard needs of its answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub run_id: String,
    /// Groups of tied model-result indices, best first (see [`Ballot::ranking`]).
    pub ranking: Vec<Vec<u32>>,
    /// Every answered model ties (an "all bad" vote).
    pub all_tie: bool,
    /// The run's model results, by index.
    pub results: Vec<VerdictResult>,
}

/// A model result of a judged run.
#[derive(Debug, Clone, PartialEq)]
pub struct VerdictResult {
    pub index: u32,
    pub model: String,
    /// It answered (no error, some text): only answers are compared.
    pub answered: bool,
    pub cost: f64,
    pub duration_ms: u64,
}

impl Store {
    /// Cast or change the vote on a run. [`Error::NotFound`] when there is no such
    /// run; [`Error::InvalidVote`] when the ballot does not fit the run's answers.
    pub fn set_vote(&self, run_id: &str, ballot: &Ballot) -> Result<Vote> {
        self.write(|tx| {
            if !run_exists(tx, run_id)? {
                return Err(Error::NotFound(run_id.to_string()));
            }
            check_ballot(ballot, &result_indices(tx, run_id)?)?;
            let ranking = serde_json::to_string(&ballot.ranking).expect("indices serialise");
            let now = now_ms();
            tx.execute(
                "INSERT INTO votes (run_id, kind, ranking, blind, cast_at) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (run_id) DO UPDATE SET kind = excluded.kind, ranking = excluded.ranking, \
                   blind = excluded.blind, changed_at = excluded.cast_at",
                params![run_id, ballot.kind.as_str(), ranking, ballot.blind, now],
            )?;
            Ok(read_vote(tx, run_id)?.expect("the vote was just written"))
        })
    }

    /// Withdraw the vote on a run. `false` when there was none.
    pub fn withdraw_vote(&self, run_id: &str) -> Result<bool> {
        self.write(|tx| Ok(tx.execute("DELETE FROM votes WHERE run_id = ?1", [run_id])? > 0))
    }

    /// The vote on a run, if any.
    pub fn vote(&self, run_id: &str) -> Result<Option<Vote>> {
        read_vote(&self.conn, run_id)
    }

    /// Record a judge's ranking of a run (replacing that judge's earlier one).
    pub fn record_judgement(&self, run_id: &str, judgement: &Judgement) -> Result<()> {
        self.write(|tx| {
            if !run_exists(tx, run_id)? {
                return Err(Error::NotFound(run_id.to_string()));
            }
            check_judgement(judgement, &result_indices(tx, run_id)?)?;
            write_judgement(tx, run_id, judgement)
        })
    }

    /// The judges' rankings of a run, by judge model.
    pub fn judgements(&self, run_id: &str) -> Result<Vec<Judgement>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT judge_model, ranking, reasons, cost, judged_at FROM judgements \
             WHERE run_id = ?1 ORDER BY judge_model",
        )?;
        let rows = stmt
            .query_map([run_id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, f64>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(judge_model, ranking, reasons, cost, judged_at_ms)| {
                Ok(Judgement {
                    judge_model,
                    ranking: json(run_id, "judgement ranking", &ranking)?,
                    reasons: json(run_id, "judgement reasons", &reasons)?,
                    cost,
                    judged_at_ms,
                })
            })
            .collect()
    }

    /// The run's vote and judgements (none when there is no such run).
    pub fn run_verdicts(&self, run_id: &str) -> Result<RunVerdicts> {
        Ok(RunVerdicts {
            vote: self.vote(run_id)?,
            judgements: self.judgements(run_id)?,
        })
    }

    /// Every verdict of `q.source` on the runs `q` selects, with the runs' model
    /// results: one query, ordered by run.
    pub fn verdicts(&self, q: &VerdictQuery) -> Result<Vec<Verdict>> {
        let (table, ranking) = match q.source {
            VerdictSource::Votes => ("votes", "v.ranking, v.kind = 'all_bad'"),
            VerdictSource::Judges => ("judgements", "v.ranking, 0"),
        };
        let mut args: Vec<Sql> = Vec::new();
        let mut filter = vec!["1 = 1".to_string()];
        if let Some(since) = q.since_ms {
            args.push(Sql::Integer(since));
            filter.push("(SELECT created_at FROM runs r WHERE r.id = v.run_id) >= ?".into());
        }
        if let Some(until) = q.until_ms {
            args.push(Sql::Integer(until));
            filter.push("(SELECT created_at FROM runs r WHERE r.id = v.run_id) < ?".into());
        }
        if let Some(tag) = q.tag.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            args.push(Sql::Text(tag.to_string()));
            filter.push(
                "EXISTS (SELECT 1 FROM tags t WHERE t.run_id = v.run_id AND t.tag = ?)".into(),
            );
        }
        if let (VerdictSource::Judges, Some(judge)) = (q.source, &q.judge_model) {
            args.push(Sql::Text(judge.clone()));
            filter.push("v.judge_model = ?".into());
        }
        // Rows come grouped by verdict (the votes' and judgements' primary keys
        // lead with the run), each verdict's results in index order. Whether a
        // result answered is read from its outcome, or for older rows from its
        // error and the answer's size, without loading the answer.
        let order = match q.source {
            VerdictSource::Votes => "v.run_id, m.idx",
            VerdictSource::Judges => "v.run_id, v.judge_model, m.idx",
        };
        let sql = format!(
            "SELECT v.rowid, v.run_id, {ranking}, m.idx, m.model, \
                    coalesce(m.outcome = 'answered', m.error IS NULL AND octet_length(m.data) > 0), \
                    m.cost, m.duration_ms \
             FROM {table} v JOIN model_results m ON m.run_id = v.run_id \
             WHERE {} ORDER BY {order}",
            filter.join(" AND ")
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
        let mut out: Vec<Verdict> = Vec::new();
        let mut last_key: Option<i64> = None;
        while let Some(row) = rows.next()? {
            let key: i64 = row.get(0)?;
            if last_key != Some(key) {
                let run_id: String = row.get(1)?;
                let raw: String = row.get(2)?;
                let ranking = match q.source {
                    VerdictSource::Votes => json(&run_id, "vote ranking", &raw)?,
                    VerdictSource::Judges => json::<Vec<u32>>(&run_id, "judgement ranking", &raw)?
                        .into_iter()
                        .map(|i| vec![i])
                        .collect(),
                };
                out.push(Verdict {
                    run_id,
                    ranking,
                    all_tie: row.get(3)?,
                    results: Vec::new(),
                });
                last_key = Some(key);
            }
            let verdict = out.last_mut().expect("pushed above");
            verdict.results.push(VerdictResult {
                index: row.get(4)?,
                model: row.get(5)?,
                answered: row.get(6)?,
                cost: row.get(7)?,
                duration_ms: row.get::<_, i64>(8)?.max(0) as u64,
            });
        }
        Ok(out)
    }
}

fn read_vote(conn: &rusqlite::Connection, run_id: &str) -> Result<Option<Vote>> {
    let row = conn
        .prepare_cached(
            "SELECT kind, ranking, blind, cast_at, changed_at FROM votes WHERE run_id = ?1",
        )?
        .query_row([run_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, bool>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Option<i64>>(4)?,
            ))
        })
        .optional()?;
    let Some((kind, ranking, blind, cast_at_ms, changed_at_ms)) = row else {
        return Ok(None);
    };
    let kind = VoteKind::parse(&kind).ok_or_else(|| Error::InvalidVote(kind.clone()))?;
    Ok(Some(Vote {
        ballot: Ballot {
            kind,
            ranking: json(run_id, "vote ranking", &ranking)?,
            blind,
        },
        cast_at_ms,
        changed_at_ms,
    }))
}

fn json<T: serde::de::DeserializeOwned>(run_id: &str, what: &'static str, raw: &str) -> Result<T> {
    serde_json::from_str(raw).map_err(|source| Error::Corrupt {
        id: run_id.to_string(),
        what,
        source,
    })
}

/// The run's model-result indices.
fn result_indices(tx: &Transaction<'_>, run_id: &str) -> Result<HashSet<u32>> {
    let mut stmt = tx.prepare_cached("SELECT idx FROM model_results WHERE run_id = ?1")?;
    let rows = stmt.query_map([run_id], |r| r.get::<_, u32>(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The ballot's shape fits its kind, and its indices are the run's, once each.
pub(super) fn check_ballot(ballot: &Ballot, indices: &HashSet<u32>) -> Result<()> {
    let listed: usize = ballot.ranking.iter().map(Vec::len).sum();
    let fits = match ballot.kind {
        VoteKind::Best => ballot.ranking.len() == 1 && listed == 1,
        VoteKind::Ranking => !ballot.ranking.is_empty(),
        VoteKind::AllBad => ballot.ranking.is_empty(),
        VoteKind::Pairwise => listed == 2,
    };
    if !fits {
        return Err(Error::InvalidVote(format!(
            "a '{}' vote cannot have the ranking {:?}",
            ballot.kind.as_str(),
            ballot.ranking
        )));
    }
    check_groups(&ballot.ranking, indices)
}

/// A judge's ranking is a strict order of the run's indices with one reason a
/// place.
pub(super) fn check_judgement(judgement: &Judgement, indices: &HashSet<u32>) -> Result<()> {
    let groups: Vec<Vec<u32>> = judgement.ranking.iter().map(|&i| vec![i]).collect();
    check_groups(&groups, indices)?;
    if judgement.reasons.len() != judgement.ranking.len() {
        return Err(Error::InvalidVote(format!(
            "the judgement gives {} reasons for {} places",
            judgement.reasons.len(),
            judgement.ranking.len()
        )));
    }
    Ok(())
}

/// Writes a checked judgement (replacing that judge's earlier one).
pub(super) fn write_judgement(
    tx: &Transaction<'_>,
    run_id: &str,
    judgement: &Judgement,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO judgements \
           (run_id, judge_model, ranking, reasons, cost, judged_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        run_id,
        judgement.judge_model,
        serde_json::to_string(&judgement.ranking).expect("indices serialise"),
        serde_json::to_string(&judgement.reasons).expect("strings serialise"),
        judgement.cost,
        judgement.judged_at_ms,
    ])?;
    Ok(())
}

/// Writes a checked vote as it was stored elsewhere (an import): its times kept.
pub(super) fn write_vote(tx: &Transaction<'_>, run_id: &str, vote: &Vote) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO votes (run_id, kind, ranking, blind, cast_at, changed_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        run_id,
        vote.ballot.kind.as_str(),
        serde_json::to_string(&vote.ballot.ranking).expect("indices serialise"),
        vote.ballot.blind,
        vote.cast_at_ms,
        vote.changed_at_ms,
    ])?;
    Ok(())
}

fn check_groups(groups: &[Vec<u32>], indices: &HashSet<u32>) -> Result<()> {
    let mut seen = HashSet::new();
    for group in groups {
        if group.is_empty() {
            return Err(Error::InvalidVote("an empty group in the ranking".into()));
        }
        for &i in group {
            if !indices.contains(&i) {
                return Err(Error::InvalidVote(format!(
                    "the run has no model result {i}"
                )));
            }
            if !seen.insert(i) {
                return Err(Error::InvalidVote(format!(
                    "model result {i} is ranked twice"
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ballot(kind: VoteKind, ranking: &[&[u32]]) -> Ballot {
        Ballot {
            kind,
            ranking: ranking.iter().map(|g| g.to_vec()).collect(),
            blind: false,
        }
    }

    #[test]
    fn a_ballot_must_fit_its_kind_and_its_run() {
        let run: HashSet<u32> = [0, 1, 2].into();
        assert!(check_ballot(&ballot(VoteKind::Best, &[&[1]]), &run).is_ok());
        assert!(check_ballot(&ballot(VoteKind::Best, &[&[1, 2]]), &run).is_err());
        assert!(check_ballot(&ballot(VoteKind::Ranking, &[&[2], &[0, 1]]), &run).is_ok());
        assert!(check_ballot(&ballot(VoteKind::Ranking, &[]), &run).is_err());
        assert!(check_ballot(&ballot(VoteKind::AllBad, &[]), &run).is_ok());
        assert!(check_ballot(&ballot(VoteKind::AllBad, &[&[0]]), &run).is_err());
        assert!(check_ballot(&ballot(VoteKind::Pairwise, &[&[0], &[1]]), &run).is_ok());
        assert!(check_ballot(&ballot(VoteKind::Pairwise, &[&[0, 1]]), &run).is_ok());
        assert!(check_ballot(&ballot(VoteKind::Pairwise, &[&[0]]), &run).is_err());
        let e = check_ballot(&ballot(VoteKind::Best, &[&[7]]), &run).unwrap_err();
        assert!(e.to_string().contains("no model result 7"), "{e}");
        let e = check_ballot(&ballot(VoteKind::Ranking, &[&[1], &[1]]), &run).unwrap_err();
        assert!(e.to_string().contains("ranked twice"), "{e}");
        let e = check_ballot(&ballot(VoteKind::Ranking, &[&[1], &[]]), &run).unwrap_err();
        assert!(e.to_string().contains("empty group"), "{e}");
    }
}
