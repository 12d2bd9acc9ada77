//! From verdicts to the leaderboard's rows: pairwise outcomes by model name, the
//! fit, counts and medians. Pure functions of the store's [`Verdict`]s.

use super::bradley_terry::{self, Outcomes};
use super::{Leaderboard, LeaderboardRow, MIN_VOTES, PRIOR_GAMES};
use roundtable_store::{Verdict, VerdictSource};
use std::collections::{HashMap, HashSet};

/// Points of rating per unit of `ln p`: +400 is ten-to-one odds, as in Elo.
const SCALE: f64 = 400.0 / std::f64::consts::LN_10;

/// The verdicts on runs whose panel is exactly `panel` (as a set); all when `None`.
pub(super) fn on_panel(verdicts: Vec<Verdict>, panel: Option<&[String]>) -> Vec<Verdict> {
    let Some(panel) = panel.filter(|p| !p.is_empty()) else {
        return verdicts;
    };
    let wanted: HashSet<&str> = panel.iter().map(String::as_str).collect();
    verdicts
        .into_iter()
        .filter(|v| {
            v.results
                .iter()
                .map(|r| r.model.as_str())
                .collect::<HashSet<_>>()
                == wanted
        })
        .collect()
}

#[derive(Default)]
struct Tally {
    votes: u32,
    wins: u32,
    losses: u32,
    ties: u32,
    costs: Vec<f64>,
    latencies: Vec<u64>,
}

pub(super) fn leaderboard(source: VerdictSource, verdicts: &[Verdict]) -> Leaderboard {
    // Models by name, each with a number; pairs and tallies use the numbers.
    let mut number: HashMap<&str, usize> = HashMap::new();
    let mut names: Vec<&str> = Vec::new();
    let mut tallies: Vec<Tally> = Vec::new();
    let mut pairs: Vec<(usize, usize, bool)> = Vec::new();
    for v in verdicts {
        let mut answered: Vec<(u32, usize)> = Vec::new();
        let mut seen = HashSet::new();
        for r in v.results.iter().filter(|r| r.answered) {
            let k = *number.entry(r.model.as_str()).or_insert_with(|| {
                names.push(r.model.as_str());
                tallies.push(Tally::default());
                names.len() - 1
            });
            let t = &mut tallies[k];
            if seen.insert(k) {
                t.votes += 1;
            }
            t.costs.push(r.cost);
            t.latencies.push(r.duration_ms);
            answered.push((r.index, k));
        }
        let model_of = |i: u32| {
            answered
                .iter()
                .find(|(index, _)| *index == i)
                .map(|(_, k)| *k)
        };
        // Places: each listed group in order, then every answered model left out
        // (below them all, not compared among themselves); or one tie of all.
        let mut places: Vec<Vec<usize>> = Vec::new();
        let rest_is_unranked = !v.all_tie;
        if v.all_tie {
            places.push(answered.iter().map(|(_, k)| *k).collect());
        } else {
            let listed: HashSet<u32> = v.ranking.iter().flatten().copied().collect();
            for group in &v.ranking {
                places.push(group.iter().filter_map(|&i| model_of(i)).collect());
            }
            places.push(
                answered
                    .iter()
                    .filter(|(index, _)| !listed.contains(index))
                    .map(|(_, k)| *k)
                    .collect(),
            );
        }
        // A model's samples (`model*N`) are one entrant: it stands once, at the
        // best place any of its samples has, so N samples are not N opponents.
        let mut placed = HashSet::new();
        for place in &mut places {
            place.retain(|&k| placed.insert(k));
        }
        for (p, place) in places.iter().enumerate() {
            if !(rest_is_unranked && p == places.len() - 1) {
                for (a, &x) in place.iter().enumerate() {
                    pairs.extend(place[a + 1..].iter().map(|&y| (x, y, true)));
                }
            }
            for lower in &places[p + 1..] {
                for &x in place {
                    pairs.extend(lower.iter().map(|&y| (x, y, false)));
                }
            }
        }
    }
    let mut outcomes = Outcomes::new(names.len());
    for &(a, b, tie) in &pairs {
        if tie {
            outcomes.tie(a, b);
            tallies[a].ties += 1;
            tallies[b].ties += 1;
        } else {
            outcomes.win(a, b);
            tallies[a].wins += 1;
            tallies[b].losses += 1;
        }
    }
    let fits = bradley_terry::fit(&outcomes, PRIOR_GAMES);

    let mut rows: Vec<LeaderboardRow> = names
        .iter()
        .zip(fits)
        .zip(&mut tallies)
        .map(|((model, fit), t)| {
            let games = f64::from(t.wins + t.losses + t.ties);
            let rating = 1000.0 + SCALE * fit.theta;
            let half = 1.96 * SCALE * fit.se;
            LeaderboardRow {
                model: model.to_string(),
                rank: None,
                rating,
                rating_low: rating - half,
                rating_high: rating + half,
                votes: t.votes,
                wins: t.wins,
                losses: t.losses,
                ties: t.ties,
                win_rate: if games > 0.0 {
                    (f64::from(t.wins) + f64::from(t.ties) / 2.0) / games
                } else {
                    0.0
                },
                median_cost: median_f64(&mut t.costs),
                median_latency_ms: median_u64(&mut t.latencies),
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        let ranked = |r: &LeaderboardRow| r.votes >= MIN_VOTES;
        ranked(b)
            .cmp(&ranked(a))
            .then(b.rating.total_cmp(&a.rating))
            .then(a.model.cmp(&b.model))
    });
    for (place, row) in rows.iter_mut().enumerate() {
        if row.votes >= MIN_VOTES {
            row.rank = Some(place as u32 + 1);
        }
    }
    Leaderboard {
        source,
        verdicts: verdicts.len() as u32,
        min_votes: MIN_VOTES,
        rows,
    }
}

fn median_f64(xs: &mut [f64]) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    xs.sort_by(f64::total_cmp);
    let m = xs.len() / 2;
    if xs.len() % 2 == 1 {
        xs[m]
    } else {
        (xs[m - 1] + xs[m]) / 2.0
    }
}

fn median_u64(xs: &mut [u64]) -> u64 {
    if xs.is_empty() {
        return 0;
    }
    xs.sort_unstable();
    let m = xs.len() / 2;
    if xs.len() % 2 == 1 {
        xs[m]
    } else {
        (xs[m - 1] + xs[m]) / 2
    }
}

pub(super) fn to_csv(board: &Leaderboard) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "rank",
        "model",
        "rating",
        "rating_low",
        "rating_high",
        "votes",
        "wins",
        "losses",
        "ties",
        "win_rate",
        "median_cost_usd",
        "median_latency_ms",
    ])
    .expect("writing to memory");
    for r in &board.rows {
        w.write_record([
            r.rank.map(|k| k.to_string()).unwrap_or_default(),
            r.model.clone(),
            format!("{:.1}", r.rating),
            format!("{:.1}", r.rating_low),
            format!("{:.1}", r.rating_high),
            r.votes.to_string(),
            r.wins.to_string(),
            r.losses.to_string(),
            r.ties.to_string(),
            format!("{:.4}", r.win_rate),
            format!("{:.6}", r.median_cost),
            r.median_latency_ms.to_string(),
        ])
        .expect("writing to memory");
    }
    String::from_utf8(w.into_inner().expect("writing to memory")).expect("CSV of UTF-8 is UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;
    use roundtable_store::VerdictResult;

    fn result(index: u32, model: &str, answered: bool) -> VerdictResult {
        VerdictResult {
            index,
            model: model.into(),
            answered,
            cost: 0.01 * f64::from(index + 1),
            duration_ms: 100 * u64::from(index + 1),
        }
    }

    fn verdict(ranking: &[&[u32]], all_tie: bool, models: &[(&str, bool)]) -> Verdict {
        Verdict {
            run_id: "rt_x".into(),
            ranking: ranking.iter().map(|g| g.to_vec()).collect(),
            all_tie,
            results: models
                .iter()
                .enumerate()
                .map(|(i, (m, ok))| result(i as u32, m, *ok))
                .collect(),
        }
    }

    fn row<'a>(b: &'a Leaderboard, m: &str) -> &'a LeaderboardRow {
        b.rows.iter().find(|r| r.model == m).unwrap()
    }

    #[test]
    fn best_beats_the_rest_who_are_not_compared() {
        let v = verdict(&[&[1]], false, &[("a", true), ("b", true), ("c", true)]);
        let b = leaderboard(VerdictSource::Votes, &[v]);
        assert_eq!((row(&b, "b").wins, row(&b, "b").losses), (2, 0));
        assert_eq!(
            (row(&b, "a").wins, row(&b, "a").losses, row(&b, "a").ties),
            (0, 1, 0)
        );
        assert_eq!(row(&b, "c").ties, 0);
        assert!(row(&b, "b").rating > row(&b, "a").rating);
        assert!((row(&b, "a").rating - row(&b, "c").rating).abs() < 1e-6);
    }

    #[test]
    fn ranking_groups_tie_and_failed_models_take_no_part() {
        let v = verdict(
            &[&[2, 0], &[1]],
            false,
            &[("a", true), ("b", true), ("c", true), ("d", false)],
        );
        let b = leaderboard(VerdictSource::Votes, &[v]);
        assert_eq!((row(&b, "a").wins, row(&b, "a").ties), (1, 1));
        assert_eq!((row(&b, "c").wins, row(&b, "c").ties), (1, 1));
        assert_eq!(row(&b, "b").losses, 2);
        assert!(b.rows.iter().all(|r| r.model != "d"), "d never answered");
    }

    #[test]
    fn all_bad_is_a_tie_among_the_answers() {
        let v = verdict(&[], true, &[("a", true), ("b", true), ("c", true)]);
        let b = leaderboard(VerdictSource::Votes, &[v]);
        for r in &b.rows {
            assert_eq!((r.wins, r.losses, r.ties), (0, 0, 2), "{r:?}");
            assert!((r.win_rate - 0.5).abs() < 1e-12);
        }
    }

    #[test]
    fn few_votes_are_listed_but_not_ranked() {
        let mut vs = Vec::new();
        for _ in 0..MIN_VOTES {
            vs.push(verdict(&[&[0]], false, &[("a", true), ("b", true)]));
        }
        vs.push(verdict(&[&[0]], false, &[("a", true), ("c", true)]));
        let b = leaderboard(VerdictSource::Votes, &vs);
        assert_eq!(row(&b, "a").rank, Some(1));
        assert_eq!(row(&b, "b").rank, Some(2));
        assert_eq!(row(&b, "c").rank, None);
        assert_eq!(b.rows.last().unwrap().model, "c", "unranked rows come last");
        assert_eq!(row(&b, "a").votes, MIN_VOTES + 1);
        assert!(row(&b, "a").rating_low < row(&b, "a").rating);
        assert!(row(&b, "a").rating_high.is_finite(), "a never lost");
    }

    #[test]
    fn the_same_model_twice_is_not_compared_with_itself() {
        let v = verdict(&[&[0]], false, &[("a", true), ("a", true), ("b", true)]);
        let b = leaderboard(VerdictSource::Votes, &[v]);
        assert_eq!((row(&b, "a").wins, row(&b, "a").losses), (1, 0));
        assert_eq!(row(&b, "a").votes, 1);
    }

    #[test]
    fn samples_of_one_model_are_one_entrant() {
        // Panel a*3 + b: one "best" vote for a sample of a, one for b.
        let panel = [("a", true), ("a", true), ("a", true), ("b", true)];
        let vs = vec![
            verdict(&[&[1]], false, &panel),
            verdict(&[&[3]], false, &panel),
        ];
        let b = leaderboard(VerdictSource::Votes, &vs);
        let (a, bb) = (row(&b, "a"), row(&b, "b"));
        assert_eq!((a.wins, a.losses, a.ties), (1, 1, 0), "{a:?}");
        assert_eq!((bb.wins, bb.losses, bb.ties), (1, 1, 0), "{bb:?}");
        assert!((a.rating - bb.rating).abs() < 1e-6, "{a:?} {bb:?}");
        // All bad: one tie between the two entrants, not three.
        let b = leaderboard(VerdictSource::Votes, &[verdict(&[], true, &panel)]);
        assert_eq!(row(&b, "b").ties, 1);
    }

    #[test]
    fn medians_and_panels() {
        let vs = vec![
            verdict(&[&[0]], false, &[("a", true), ("b", true)]),
            verdict(&[&[0]], false, &[("b", true), ("a", true)]),
            verdict(&[&[0]], false, &[("a", true), ("c", true)]),
        ];
        let b = leaderboard(VerdictSource::Votes, &vs);
        // a answered at index 0, 1 and 0: costs 0.01, 0.02, 0.01.
        assert!((row(&b, "a").median_cost - 0.01).abs() < 1e-12);
        assert_eq!(row(&b, "a").median_latency_ms, 100);
        let panel = vec!["b".to_string(), "a".to_string()];
        assert_eq!(on_panel(vs, Some(&panel)).len(), 2);
    }

    #[test]
    fn csv_has_a_header_and_a_row_per_model() {
        let v = verdict(&[&[0]], false, &[("a", true), ("b,c", true)]);
        let csv = to_csv(&leaderboard(VerdictSource::Votes, &[v]));
        let lines: Vec<&str> = csv.lines().collect();
        assert!(lines[0].starts_with("rank,model,rating"));
        assert_eq!(lines.len(), 3);
        assert!(csv.contains("\"b,c\""), "{csv}");
    }
}
