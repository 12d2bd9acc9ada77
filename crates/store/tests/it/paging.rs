//! Paging the history list with `after` (the last line of the page before):
//! walked page by page, the list is the same lines in the same order as one
//! page of all of them, with runs created at the same millisecond, with one
//! line per conversation and with each filter; an `after` not in the history
//! is an error naming it.

use crate::common::*;
use roundtable_store::{Error, ListQuery, RunStatus, Store};

const MODELS: [&str; 3] = [
    "openai/gpt-4.1",
    "anthropic/claude-sonnet-4-5",
    "ollama/llama3.2",
];

/// Records a finished run `id` at `at` (unix ms) following `previous`.
fn record(store: &Store, id: &str, at: i64, previous: Option<&str>, status: RunStatus) {
    let k = id.len() + at as usize / 1000;
    let mut req = request(&format!("Q {id}"), &[MODELS[k % 3], MODELS[(k + 1) % 3]]);
    req.previous_id = previous.map(Into::into);
    let resp = response(id, &req, &["x", "y"], Some("r"));
    store
        .import_response(Some(&req), &resp, status, Some(at))
        .unwrap();
}

/// 90 runs over 13 distinct times (every time shared by several runs, and the
/// rowids not in the order of the times), a third of them follow-ups (so
/// conversations of several turns), some failed, starred or tagged.
fn history() -> Store {
    let store = Store::open_in_memory().unwrap();
    for i in 0..90i64 {
        let id = format!("rt_{i:02}");
        let at = 1_000_000 + (i * 7 % 13) * 1000;
        let previous = (i % 3 == 2).then(|| format!("rt_{:02}", i - 1 - (i % 4)));
        let status = if i % 5 == 1 {
            RunStatus::Failed
        } else {
            RunStatus::Completed
        };
        record(&store, &id, at, previous.as_deref(), status);
        if i % 4 == 0 {
            store.set_starred(&id, true).unwrap();
        }
        if i % 6 < 2 {
            store.add_tag(&id, "work").unwrap();
        }
    }
    store
}

/// Every line `q` finds, in one page.
fn all(store: &Store, q: &ListQuery) -> Vec<String> {
    let q = ListQuery {
        limit: usize::MAX / 2,
        ..q.clone()
    };
    store
        .list_runs(&q)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect()
}

/// Every line `q` finds, `limit` at a time, each page after the last line of
/// the one before.
fn walk(store: &Store, q: &ListQuery, limit: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    loop {
        let page = store
            .list_runs(&ListQuery {
                limit,
                after: lines.last().cloned(),
                ..q.clone()
            })
            .unwrap();
        lines.extend(page.iter().map(|r| r.id.clone()));
        if page.len() < limit {
            return lines;
        }
    }
}

fn queries() -> Vec<(&'static str, ListQuery)> {
    let d = ListQuery::default;
    vec![
        ("every run", d()),
        (
            "threads",
            ListQuery {
                threads: true,
                ..d()
            },
        ),
        (
            "status",
            ListQuery {
                status: Some(RunStatus::Failed),
                ..d()
            },
        ),
        (
            "starred",
            ListQuery {
                starred: Some(true),
                ..d()
            },
        ),
        (
            "model",
            ListQuery {
                model: Some("claude".into()),
                ..d()
            },
        ),
        (
            "tag",
            ListQuery {
                tag: Some("work".into()),
                ..d()
            },
        ),
        (
            "since and until",
            ListQuery {
                since_ms: Some(1_003_000),
                until_ms: Some(1_010_000),
                ..d()
            },
        ),
        (
            "threads with filters",
            ListQuery {
                threads: true,
                status: Some(RunStatus::Completed),
                model: Some("gpt".into()),
                ..d()
            },
        ),
        (
            "threads, starred",
            ListQuery {
                threads: true,
                starred: Some(true),
                ..d()
            },
        ),
    ]
}

#[test]
fn pages_after_the_last_line_are_the_whole_list_in_its_order() {
    let store = history();
    let every = all(&store, &ListQuery::default());
    assert_eq!(every.len(), 90);
    for (name, q) in queries() {
        let whole = all(&store, &q);
        assert!(whole.len() > 3, "{name}: {} lines", whole.len());
        for limit in [1, 2, 7, 50] {
            assert_eq!(walk(&store, &q, limit), whole, "{name}, {limit} a page");
        }
    }
    // Newest first, runs of the same time last recorded first: the order
    // the pages follow.
    let summaries = store
        .list_runs(&ListQuery {
            limit: 1000,
            ..ListQuery::default()
        })
        .unwrap();
    assert!(summaries.windows(2).all(|w| {
        let (a, b) = (&w[0], &w[1]);
        a.created_at_ms > b.created_at_ms || (a.created_at_ms == b.created_at_ms && a.id > b.id)
    }));
    assert!(
        summaries
            .windows(2)
            .any(|w| w[0].created_at_ms == w[1].created_at_ms)
    );
    let threads = ListQuery {
        threads: true,
        ..ListQuery::default()
    };
    let lines = all(&store, &threads);
    assert!(lines.len() < 90);
}

#[test]
fn the_page_after_a_line_skips_offset_more() {
    let store = history();
    let q = ListQuery {
        threads: true,
        ..ListQuery::default()
    };
    let whole = all(&store, &q);
    let page = store
        .list_runs(&ListQuery {
            limit: 3,
            offset: 2,
            after: Some(whole[4].clone()),
            ..q.clone()
        })
        .unwrap();
    let ids: Vec<&str> = page.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, whole[7..10]);
}

#[test]
fn a_line_that_is_no_longer_its_conversations_latest_still_marks_the_place() {
    let store = history();
    let q = ListQuery {
        threads: true,
        ..ListQuery::default()
    };
    let whole = all(&store, &q);
    let first = store
        .list_runs(&ListQuery {
            limit: 10,
            ..q.clone()
        })
        .unwrap();
    let last = first.last().unwrap().id.clone();
    // A new turn of that conversation: its line moves to the top, and the
    // line the page ended with is now filtered out.
    record(
        &store,
        "rt_new",
        2_000_000,
        Some(&last),
        RunStatus::Completed,
    );
    let next = store
        .list_runs(&ListQuery {
            limit: 1000,
            after: Some(last.clone()),
            ..q.clone()
        })
        .unwrap();
    let ids: Vec<&str> = next.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, whole[10..]);
    assert_eq!(all(&store, &q)[0], "rt_new");
}

#[test]
fn a_page_after_a_run_not_in_the_history_is_an_error_naming_it() {
    let store = history();
    let err = store
        .list_runs(&ListQuery {
            after: Some("rt_nope".into()),
            ..ListQuery::default()
        })
        .unwrap_err();
    assert!(
        matches!(&err, Error::NotFound(id) if id == "rt_nope"),
        "{err:?}"
    );
    assert!(err.to_string().contains("rt_nope"), "{err}");
    // The last line of the list: an empty page, not an error.
    let every = all(&store, &ListQuery::default());
    let after_last = store
        .list_runs(&ListQuery {
            after: every.last().cloned(),
            ..ListQuery::default()
        })
        .unwrap();
    assert!(after_last.is_empty());
}
