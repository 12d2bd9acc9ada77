//! The spend figures: a history with known costs, each aggregate checked to the
//! cent against the stored runs, in UTC and at another offset.

use crate::common::*;
use roundtable_store::{
    Judgement, ListQuery, ModelOutcome, ModelResult, RunStatus, SpendQuery, Store, UNPRICED_KEY,
    Usage,
};

/// 2026-03-30 00:00 UTC, a Monday.
const MONDAY: i64 = 1_774_828_800_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// (model, cost, input tokens, output tokens, duration, outcome)
type Call = (&'static str, f64, u64, u64, u64, ModelOutcome);

fn record(store: &Store, id: &str, at: i64, calls: &[Call], summary_cost: f64) {
    let names: Vec<&str> = calls.iter().map(|c| c.0).collect();
    let req = request("what did it cost?", &names);
    store.begin_run(&new_run(id, at, &req)).unwrap();
    let mut resp = response(id, &req, &[], Some("a lot"));
    resp.model_results = calls
        .iter()
        .enumerate()
        .map(|(i, &(model, cost, tin, tout, ms, outcome))| {
            let mut usage = Usage {
                input_tokens: tin,
                output_tokens: tout,
                ..Usage::default()
            };
            if model.starts_with("mine/") {
                usage
                    .extra
                    .insert(UNPRICED_KEY.into(), "no known price for mine/x".into());
            }
            let answered = outcome == ModelOutcome::Answered;
            ModelResult {
                index: i,
                model: model.into(),
                data: if answered { "ok".into() } else { String::new() },
                error: (!answered).then(|| "it ended".into()),
                cost,
                usage,
                duration_ms: ms,
                outcome: Some(outcome),
                ..ModelResult::default()
            }
        })
        .collect();
    resp.meta.total_cost = calls.iter().map(|c| c.1).sum::<f64>() + summary_cost;
    // One result recorded live first, then again with the run's end: counted once.
    store
        .record_model_result(id, &resp.model_results[0])
        .unwrap();
    store.finish_run(&resp, RunStatus::Completed).unwrap();
}

fn history() -> Store {
    use ModelOutcome::*;
    let store = Store::open_in_memory().unwrap();
    // Outside the range the tests ask for.
    record(
        &store,
        "rt_old",
        MONDAY - 40 * DAY,
        &[("openai/gpt-4.1", 9.99, 1, 1, 1, Answered)],
        0.0,
    );
    record(
        &store,
        "rt_1",
        MONDAY + 10 * HOUR,
        &[
            ("openai/gpt-4.1", 0.0123, 100, 200, 1000, Answered),
            ("anthropic/claude", 0.0456, 50, 80, 2000, Answered),
        ],
        0.01,
    );
    record(
        &store,
        "rt_2",
        MONDAY + 23 * HOUR + HOUR / 2,
        &[
            ("openai/gpt-4.1", 0.02, 10, 20, 3000, Answered),
            ("ollama/llama3", 0.0, 5, 0, 120_000, TimedOut),
        ],
        0.0,
    );
    record(
        &store,
        "rt_3",
        MONDAY + 2 * DAY + 8 * HOUR,
        &[
            ("openai/gpt-4.1", 0.03, 1, 2, 500, Answered),
            ("mine/x", 0.0, 7, 9, 700, Answered),
        ],
        0.0,
    );
    record(
        &store,
        "rt_4",
        MONDAY + 7 * DAY + HOUR,
        &[("anthropic/claude", 1.2345, 1000, 3000, 4000, Answered)],
        0.0,
    );
    store
        .record_judgement(
            "rt_1",
            &Judgement {
                judge_model: "openai/o3".into(),
                ranking: vec![0, 1],
                reasons: vec!["a".into(), "b".into()],
                cost: 0.5,
                judged_at_ms: MONDAY + 11 * HOUR,
            },
        )
        .unwrap();
    store
}

fn cents(x: f64) -> i64 {
    (x * 100.0).round() as i64
}

fn micro(x: f64) -> i64 {
    (x * 1e6).round() as i64
}

fn range(offset: i32) -> SpendQuery {
    SpendQuery {
        since_ms: Some(MONDAY - DAY),
        until_ms: Some(MONDAY + 30 * DAY),
        utc_offset_minutes: offset,
    }
}

#[test]
fn every_aggregate_equals_the_stored_runs_to_the_cent() {
    let store = history();
    let s = store.spend_stats(&range(0)).unwrap();
    let stored: f64 = store
        .list_runs(&ListQuery::default())
        .unwrap()
        .iter()
        .filter(|r| r.id != "rt_old")
        .map(|r| r.total_cost)
        .sum();
    assert_eq!(cents(s.totals.cost), cents(stored));
    assert_eq!(micro(s.totals.cost), micro(0.0679 + 0.02 + 0.03 + 1.2345));
    assert_eq!(s.totals.runs, 4);
    assert_eq!(s.totals.calls, 7);
    assert_eq!(s.totals.failures, 1);
    assert_eq!(s.totals.input_tokens, 100 + 50 + 10 + 5 + 1 + 7 + 1000);
    assert_eq!(s.totals.output_tokens, 200 + 80 + 20 + 2 + 9 + 3000);
    assert_eq!(micro(s.totals.resolution_cost), micro(0.01));
    assert_eq!(micro(s.totals.judge_cost), micro(0.5));

    // The days that have runs, no empty ones between.
    let days: Vec<(&str, i64, u64)> = s
        .days
        .iter()
        .map(|d| (d.start.as_str(), micro(d.cost), d.runs))
        .collect();
    assert_eq!(
        days,
        [
            ("2026-03-30", micro(0.0879), 2),
            ("2026-04-01", micro(0.03), 1),
            ("2026-04-06", micro(1.2345), 1)
        ]
    );
    assert_eq!(s.days[0].start_ms, MONDAY);
    assert_eq!(micro(s.days[0].models["openai/gpt-4.1"]), micro(0.0323));
    assert_eq!(micro(s.days[0].providers["anthropic"]), micro(0.0456));
    assert_eq!(s.days[0].input_tokens, 165);
    let sum_days: f64 = s.days.iter().map(|d| d.cost).sum();
    assert_eq!(cents(sum_days), cents(stored));

    let weeks: Vec<(&str, i64, u64)> = s
        .weeks
        .iter()
        .map(|d| (d.start.as_str(), micro(d.cost), d.runs))
        .collect();
    assert_eq!(
        weeks,
        vec![
            ("2026-03-30", micro(0.1179), 3),
            ("2026-04-06", micro(1.2345), 1)
        ]
    );
    let months: Vec<(&str, i64, u64)> = s
        .months
        .iter()
        .map(|d| (d.start.as_str(), micro(d.cost), d.runs))
        .collect();
    assert_eq!(
        months,
        vec![
            ("2026-03-01", micro(0.0879), 2),
            ("2026-04-01", micro(1.2645), 2)
        ]
    );

    // By provider and by model, most expensive first; with the resolution they
    // make up the runs' cost.
    let providers: Vec<(&str, i64, u64)> = s
        .providers
        .iter()
        .map(|p| (p.provider.as_str(), micro(p.cost), p.calls))
        .collect();
    assert_eq!(
        providers[..2],
        [
            ("anthropic", micro(1.2801), 2),
            ("openai", micro(0.0623), 3)
        ]
    );
    assert_eq!(providers.len(), 4);
    let by_models: f64 = s.models.iter().map(|m| m.cost).sum();
    assert_eq!(
        cents(by_models + s.totals.resolution_cost),
        cents(s.totals.cost)
    );
    let gpt = s
        .models
        .iter()
        .find(|m| m.model == "openai/gpt-4.1")
        .unwrap();
    assert_eq!(
        (gpt.calls, gpt.failures, gpt.provider.as_str()),
        (3, 0, "openai")
    );
    assert_eq!((gpt.input_tokens, gpt.output_tokens), (111, 222));
    assert_eq!(
        (gpt.latency_p50_ms, gpt.latency_p95_ms),
        (Some(1000), Some(3000))
    );
    let llama = s
        .models
        .iter()
        .find(|m| m.model == "ollama/llama3")
        .unwrap();
    assert_eq!(llama.failures, 1);
    assert_eq!(llama.failures_by_end.get("timed_out"), Some(&1));
    assert_eq!(llama.latency_p50_ms, None);

    assert_eq!(s.unpriced.len(), 1);
    assert_eq!(s.unpriced[0].model, "mine/x");
    assert_eq!(s.unpriced[0].calls, 1);
    assert_eq!(s.unpriced[0].last_ms, MONDAY + 2 * DAY + 8 * HOUR);

    // The budget's sum: runs plus judges, by creation time.
    let today = store.spent_between(MONDAY, MONDAY + DAY).unwrap();
    assert_eq!(micro(today), micro(0.0879 + 0.5));
    let all = store.spend_stats(&SpendQuery::default()).unwrap();
    assert_eq!(all.totals.runs, 5);
    assert_eq!(cents(all.totals.cost), cents(stored + 9.99));
}

#[test]
fn days_are_cut_at_the_offset_given() {
    let store = history();
    // At UTC+1, rt_2 (23:30 UTC) is on Tuesday.
    let s = store.spend_stats(&range(60)).unwrap();
    assert_eq!(s.days[0].start, "2026-03-30");
    assert_eq!(s.days[0].start_ms, MONDAY - HOUR);
    assert_eq!((s.days[0].runs, micro(s.days[0].cost)), (1, micro(0.0679)));
    assert_eq!((s.days[1].runs, micro(s.days[1].cost)), (1, micro(0.02)));
    assert_eq!(cents(s.totals.cost), cents(0.0679 + 0.02 + 0.03 + 1.2345));
    // At UTC-11, rt_1 (10:00 UTC Monday) is on Sunday, in the week before.
    let s = store.spend_stats(&range(-11 * 60)).unwrap();
    assert_eq!(s.days[0].start, "2026-03-29");
    assert_eq!(s.weeks[0].start, "2026-03-23");
    assert_eq!(s.weeks.len(), 2);
}

#[test]
fn an_empty_range_has_no_figures() {
    let store = history();
    let s = store
        .spend_stats(&SpendQuery {
            since_ms: Some(MONDAY + 100 * DAY),
            ..SpendQuery::default()
        })
        .unwrap();
    assert_eq!(s.totals.runs, 0);
    assert!(s.days.is_empty() && s.models.is_empty() && s.unpriced.is_empty());
}

#[test]
fn an_offset_of_part_of_an_hour_cuts_the_hour_at_local_midnight() {
    use ModelOutcome::Answered;
    let store = history();
    // 18:15 and 18:45 UTC: either side of midnight at UTC+5:30.
    record(
        &store,
        "rt_5",
        MONDAY + 18 * HOUR + HOUR / 4,
        &[("openai/gpt-4.1", 0.25, 3, 4, 10, Answered)],
        0.0,
    );
    record(
        &store,
        "rt_6",
        MONDAY + 18 * HOUR + 3 * HOUR / 4,
        &[("openai/gpt-4.1", 0.5, 5, 6, 10, Answered)],
        0.0,
    );
    let s = store.spend_stats(&range(330)).unwrap();
    let day = |d: &str| s.days.iter().find(|b| b.start == d).unwrap();
    let monday = day("2026-03-30");
    assert_eq!((monday.runs, micro(monday.cost)), (2, micro(0.0679 + 0.25)));
    assert_eq!(monday.input_tokens, 150 + 3);
    assert_eq!(micro(monday.models["openai/gpt-4.1"]), micro(0.0123 + 0.25));
    let tuesday = day("2026-03-31");
    assert_eq!((tuesday.runs, micro(tuesday.cost)), (2, micro(0.5 + 0.02)));
    assert_eq!(tuesday.input_tokens, 5 + 15);
    assert_eq!(micro(tuesday.models["openai/gpt-4.1"]), micro(0.5 + 0.02));
    // A range that starts and ends within an hour.
    let s = store
        .spend_stats(&SpendQuery {
            since_ms: Some(MONDAY + 18 * HOUR + HOUR / 2),
            until_ms: Some(MONDAY + 18 * HOUR + 50 * 60_000),
            utc_offset_minutes: 0,
        })
        .unwrap();
    assert_eq!(
        (s.totals.runs, s.totals.calls, s.totals.input_tokens),
        (1, 1, 5)
    );
}

#[test]
fn a_deleted_run_leaves_the_figures() {
    let store = history();
    assert!(store.delete_run("rt_4").unwrap());
    let s = store.spend_stats(&range(0)).unwrap();
    assert_eq!(cents(s.totals.cost), cents(0.0679 + 0.02 + 0.03));
    let claude = s
        .models
        .iter()
        .find(|m| m.model == "anthropic/claude")
        .unwrap();
    assert_eq!((claude.calls, micro(claude.cost)), (1, micro(0.0456)));
    assert_eq!(s.totals.input_tokens, 100 + 50 + 10 + 5 + 1 + 7);
}

/// 0001-01-01 00:00 UTC, the first day the dates can say.
const YEAR_ONE: i64 = -62_135_596_800_000;

#[test]
fn a_run_dated_centuries_ago_is_one_bucket_not_one_per_day_between() {
    use ModelOutcome::Answered;
    let store = Store::open_in_memory().unwrap();
    record(
        &store,
        "rt_year_one",
        YEAR_ONE + HOUR,
        &[("openai/gpt-4.1", 0.5, 1, 2, 10, Answered)],
        0.0,
    );
    // Half an hour before 1970 and half an hour after: either side of the
    // rollup's hour 0.
    record(
        &store,
        "rt_1969",
        -HOUR / 2,
        &[("openai/gpt-4.1", 0.25, 3, 4, 10, Answered)],
        0.0,
    );
    record(
        &store,
        "rt_1970",
        HOUR / 2,
        &[("openai/gpt-4.1", 0.125, 5, 6, 10, Answered)],
        0.0,
    );
    record(
        &store,
        "rt_now",
        MONDAY + HOUR,
        &[("anthropic/claude", 1.0, 7, 8, 10, Answered)],
        0.0,
    );
    let s = store.spend_stats(&SpendQuery::default()).unwrap();
    let days: Vec<(&str, u64, i64, u64)> = s
        .days
        .iter()
        .map(|d| (d.start.as_str(), d.runs, micro(d.cost), d.input_tokens))
        .collect();
    assert_eq!(
        days,
        [
            ("0001-01-01", 1, micro(0.5), 1),
            ("1969-12-31", 1, micro(0.25), 3),
            ("1970-01-01", 1, micro(0.125), 5),
            ("2026-03-30", 1, micro(1.0), 7),
        ]
    );
    assert_eq!(s.days[0].start_ms, YEAR_ONE);
    assert_eq!(micro(s.days[1].models["openai/gpt-4.1"]), micro(0.25));
    // 1969-12-31 was a Wednesday: the same week as 1970-01-01.
    assert_eq!(s.weeks.len(), 3);
    assert_eq!(s.months.len(), 4);
    assert_eq!(micro(s.totals.cost), micro(1.875));
    let gpt = s
        .models
        .iter()
        .find(|m| m.model == "openai/gpt-4.1")
        .unwrap();
    assert_eq!(
        (gpt.calls, micro(gpt.cost), gpt.input_tokens),
        (3, micro(0.875), 9)
    );
    assert_eq!(micro(s.totals.resolution_cost), 0);
    // At another offset, the same runs, the days moved.
    let s = store
        .spend_stats(&SpendQuery {
            utc_offset_minutes: 90,
            ..SpendQuery::default()
        })
        .unwrap();
    assert_eq!(
        s.days.len(),
        3,
        "1969's and 1970's runs on one day at UTC+1:30"
    );
    assert_eq!(s.totals.input_tokens, 1 + 3 + 5 + 7);
}

#[test]
fn runs_at_the_ends_of_time_are_counted_without_a_panic() {
    use ModelOutcome::Answered;
    let store = Store::open_in_memory().unwrap();
    for (id, at) in [
        ("rt_min", i64::MIN),
        ("rt_max", i64::MAX - 1),
        ("rt_now", MONDAY),
    ] {
        record(
            &store,
            id,
            at,
            &[("openai/gpt-4.1", 0.5, 1, 2, 10, Answered)],
            0.0,
        );
    }
    for offset in [-14 * 60, 0, 14 * 60] {
        let s = store
            .spend_stats(&SpendQuery {
                utc_offset_minutes: offset,
                ..SpendQuery::default()
            })
            .unwrap();
        assert_eq!(s.totals.runs, 3);
        assert_eq!(s.days.iter().map(|d| d.runs).sum::<u64>(), 3);
        assert!(s.days.len() <= 3, "{offset}: {:?}", s.days.len());
    }
}
