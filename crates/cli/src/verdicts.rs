//! `roundtable vote`, `judge` and `leaderboard`: a person's vote on a stored run,
//! a judge model's ranking of one, and the private leaderboard they add up to.

use crate::Failure;
use crate::render::{self, clean};
use clap::Args;
use console::style;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use roundtable_app::store::{Ballot, VerdictSource, VoteKind};
use roundtable_app::{App, AppError, Code, Leaderboard, LeaderboardQuery};
use std::str::FromStr;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Args)]
pub struct VoteArgs {
    /// The run voted on
    id: String,
    /// The best answer: its model's number in the panel (1 is the first)
    #[arg(long, value_name = "N", conflicts_with_all = ["rank", "all_bad", "withdraw"])]
    best: Option<u32>,
    /// A ranking, best first: "2,1,3"; a tie is "2=3,1"
    #[arg(long, value_name = "ORDER", conflicts_with_all = ["all_bad", "withdraw"])]
    rank: Option<String>,
    /// Every answer was bad
    #[arg(long, conflicts_with = "withdraw")]
    all_bad: bool,
    /// Withdraw the vote
    #[arg(long)]
    withdraw: bool,
}

#[derive(Debug, Args)]
pub struct JudgeArgs {
    /// The run judged
    id: String,
    /// The judge: provider/model
    #[arg(long, short = 'm')]
    model: String,
    /// Print the judgement as JSON
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct LeaderboardArgs {
    /// Only runs with this tag
    #[arg(long)]
    tag: Option<String>,
    /// Only runs since a date (2026-11-01) or for a span back from now (7d, 2w, 3 months)
    #[arg(long, value_name = "WHEN")]
    since: Option<String>,
    /// Only runs whose panel is exactly these models (comma-separated)
    #[arg(long, value_delimiter = ',')]
    panel: Vec<String>,
    /// From judge models' rankings instead of your votes
    #[arg(long)]
    judge: bool,
    /// With --judge: only this judge's rankings
    #[arg(long, value_name = "MODEL", requires = "judge")]
    judge_model: Option<String>,
    /// Print JSON
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// Print CSV
    #[arg(long)]
    csv: bool,
}

fn invalid(field: &str, message: String) -> Failure {
    Failure::from(AppError {
        field: Some(field.into()),
        ..AppError::new(Code::InvalidRequest, message)
    })
}

/// `--rank "2=3,1"` → groups of 0-based indices.
fn parse_rank(s: &str) -> Result<Vec<Vec<u32>>, Failure> {
    s.split(',')
        .map(|group| {
            group
                .split('=')
                .map(|n| match n.trim().parse::<u32>() {
                    Ok(k) if k >= 1 => Ok(k - 1),
                    _ => Err(invalid(
                        "rank",
                        format!("--rank: '{}' is not a model number (1, 2, …)", n.trim()),
                    )),
                })
                .collect()
        })
        .collect()
}

pub fn vote(app: &App, args: VoteArgs) -> Result<(), Failure> {
    if args.withdraw {
        let had = app.withdraw_vote(&args.id)?;
        eprintln!(
            "{}",
            if had {
                "vote withdrawn"
            } else {
                "there was no vote to withdraw"
            }
        );
        return Ok(());
    }
    let ballot = match (args.best, &args.rank, args.all_bad) {
        (Some(0), _, _) => return Err(invalid("best", "--best counts from 1".into())),
        (Some(n), _, _) => Ballot {
            kind: VoteKind::Best,
            ranking: vec![vec![n - 1]],
            blind: false,
        },
        (None, Some(r), _) => Ballot {
            kind: VoteKind::Ranking,
            ranking: parse_rank(r)?,
            blind: false,
        },
        (None, None, true) => Ballot {
            kind: VoteKind::AllBad,
            ranking: vec![],
            blind: false,
        },
        (None, None, false) => {
            return Err(invalid(
                "vote",
                "say --best N, --rank ORDER, --all-bad or --withdraw".into(),
            ));
        }
    };
    app.cast_vote(&args.id, &ballot)?;
    eprintln!("vote recorded");
    Ok(())
}

pub async fn judge(app: &App, args: JudgeArgs) -> Result<(), Failure> {
    judge_run(app, &args.id, &args.model, args.json).await
}

/// Judges run `id` with `model`, a spinner while it works, then prints the
/// ranking (or the judgement as JSON).
pub async fn judge_run(app: &App, id: &str, model: &str, json: bool) -> Result<(), Failure> {
    let run = app.get_run(id)?;
    let cancel = CancellationToken::new();
    let on_ctrl_c = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_ctrl_c.cancel();
        }
    });
    let spinner = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    spinner.set_style(
        ProgressStyle::with_template("{spinner:.cyan} {msg} {elapsed}").expect("template"),
    );
    spinner.set_message(format!("{} is judging {id}", clean(model)));
    spinner.enable_steady_tick(Duration::from_millis(100));
    let judged = app.judge(id, model, cancel).await;
    spinner.finish_and_clear();
    let judgement = judged?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&judgement).expect("serialises")
        );
        return Ok(());
    }
    let labels = render::panel_labels(&run.request.models);
    for (place, (index, reason)) in judgement.ranking.iter().zip(&judgement.reasons).enumerate() {
        let name = labels
            .get(*index as usize)
            .map(|l| l.full())
            .unwrap_or_else(|| format!("#{index}"));
        println!(
            "{}. {}  {}",
            place + 1,
            style(clean(&name)).bold(),
            clean(reason)
        );
    }
    println!(
        "{}",
        style(format!("judge cost {}", render::cost(judgement.cost))).dim()
    );
    Ok(())
}

/// `2026-11-01` (midnight, local time) or a span back from now (`7d`, `3 months`).
pub(crate) fn since_ms(s: &str) -> Result<i64, Failure> {
    let tz = jiff::tz::TimeZone::system();
    if let Ok(date) = jiff::civil::Date::from_str(s) {
        return date
            .to_zoned_datetime(tz)
            .map(|z| z.timestamp().as_millisecond())
            .map_err(|e| invalid("since", format!("--since {s}: {e}")));
    }
    let span = jiff::Span::from_str(s).map_err(|_| {
        invalid(
            "since",
            format!("--since '{s}' is neither a date (2026-11-01) nor a span (7d, 2w, 3 months)"),
        )
    })?;
    jiff::ZonedDateTime::now()
        .with_time_zone(tz)
        .checked_sub(span)
        .map(|z| z.timestamp().as_millisecond())
        .map_err(|e| invalid("since", format!("--since {s}: {e}")))
}

pub fn leaderboard(app: &App, args: LeaderboardArgs) -> Result<(), Failure> {
    let query = LeaderboardQuery {
        source: if args.judge {
            VerdictSource::Judges
        } else {
            VerdictSource::Votes
        },
        since_ms: args.since.as_deref().map(since_ms).transpose()?,
        tag: args.tag,
        panel: (!args.panel.is_empty()).then_some(args.panel),
        judge_model: args.judge_model,
    };
    let board = app.leaderboard(&query)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&board).expect("serialises")
        );
    } else if args.csv {
        print!("{}", board.to_csv());
    } else {
        print_table(&board);
    }
    Ok(())
}

fn print_table(board: &Leaderboard) {
    let what = match board.source {
        VerdictSource::Votes => "votes",
        VerdictSource::Judges => "judge rankings",
    };
    if board.rows.is_empty() {
        println!(
            "No {what} yet. Vote on a run (`roundtable vote ID --best N`, or in the desktop's blind mode){}.",
            if board.source == VerdictSource::Judges {
                ", or judge one (`roundtable judge ID -m MODEL`)"
            } else {
                ""
            }
        );
        return;
    }
    println!(
        "{}",
        style(format!(
            "{:>4}  {:<36} {:>7} {:>15} {:>6} {:>9} {:>6} {:>10} {:>9}",
            "rank", "model", "rating", "95% interval", "votes", "W-L-T", "win %", "cost", "latency"
        ))
        .dim()
    );
    for r in &board.rows {
        let rank = r.rank.map(|k| k.to_string()).unwrap_or_else(|| "–".into());
        let line = format!(
            "{:>4}  {:<36} {:>7.0} {:>15} {:>6} {:>9} {:>5.0}% {:>10} {:>9}",
            rank,
            clean(&r.model),
            r.rating,
            format!("{:.0}–{:.0}", r.rating_low, r.rating_high),
            r.votes,
            format!("{}-{}-{}", r.wins, r.losses, r.ties),
            r.win_rate * 100.0,
            render::cost(r.median_cost),
            render::seconds(r.median_latency_ms),
        );
        if r.rank.is_some() {
            println!("{line}");
        } else {
            println!("{}", style(line).dim());
        }
    }
    println!(
        "{}",
        style(format!(
            "{} {what}; a model with fewer than {} votes is listed, not ranked; cost and latency are medians over the same runs",
            board.verdicts, board.min_votes
        ))
        .dim()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_reads_groups_and_ties() {
        assert_eq!(parse_rank("2=3,1").ok(), Some(vec![vec![1, 2], vec![0]]));
        assert!(parse_rank("0,1").is_err());
        assert!(parse_rank("a").is_err());
    }

    #[test]
    fn since_reads_dates_and_spans() {
        assert!(since_ms("2026-11-01").is_ok());
        let week = since_ms("7d").ok().unwrap();
        let now = jiff::Timestamp::now().as_millisecond();
        assert!(
            (now - week - 7 * 86_400_000).abs() < 2 * 3_600_000,
            "{week}"
        );
        assert!(since_ms("last tuesday").is_err());
    }
}
