//! Listing, filters and full-text search.

use crate::common::*;
use roundtable_store::{ListQuery, RunStatus, Store};

fn ids(runs: &[roundtable_store::RunSummary]) -> Vec<&str> {
    runs.iter().map(|r| r.id.as_str()).collect()
}

/// rt_1 asks about Rust; rt_2 is about pasta but one answer mentions Rust;
/// rt_3 has odd tokens; rt_4 failed; rt_5 is still running.
fn fixture() -> Store {
    let store = Store::open_in_memory().unwrap();
    let add = |id: &str,
               at: i64,
               input: &str,
               models: &[&str],
               answers: &[&str],
               data: Option<&str>,
               status| {
        let req = request(input, models);
        store.begin_run(&new_run(id, at, &req)).unwrap();
        store
            .finish_run(&response(id, &req, answers, data), status)
            .unwrap();
    };
    add(
        "rt_1",
        1_000,
        "How do I write async Rust with tokio?",
        &["openai/gpt-4.1", "anthropic/claude-sonnet-4-5"],
        &[
            "Use tokio::spawn and async fn.",
            "Async Rust needs an executor such as tokio.",
        ],
        Some("Use tokio as the runtime; mark functions async."),
        RunStatus::Completed,
    );
    add(
        "rt_2",
        2_000,
        "Best pasta recipe for a weeknight",
        &["gemini/gemini-2.5-flash", "openai/gpt-4.1-mini"],
        &[
            "Garlic, olive oil, chili. Unlike rust on a pan, this is quick.",
            "Carbonara.",
        ],
        Some("Aglio e olio"),
        RunStatus::Completed,
    );
    add(
        "rt_3",
        3_000,
        "foo-bar in c++ templates",
        &["ollama/llama3.2"],
        &["Templates in C++ are resolved at compile time; foo-bar is a name."],
        Some("See the zygomorphic answer."),
        RunStatus::Completed,
    );
    add(
        "rt_4",
        4_000,
        "A question nobody answered about rust",
        &["openai/gpt-4.1"],
        &[""],
        None,
        RunStatus::Failed,
    );
    let req = request(
        "Still thinking about Rust lifetimes",
        &["anthropic/claude-sonnet-4-5"],
    );
    store.begin_run(&new_run("rt_5", 5_000, &req)).unwrap();
    store
        .record_model_result(
            "rt_5",
            &result(0, "anthropic/claude-sonnet-4-5", "Lifetimes are quixotic."),
        )
        .unwrap();
    store
}

#[test]
fn list_is_newest_first_and_paged() {
    let store = fixture();
    let all = store.list_runs(&ListQuery::default()).unwrap();
    assert_eq!(ids(&all), vec!["rt_5", "rt_4", "rt_3", "rt_2", "rt_1"]);
    let page = store
        .list_runs(&ListQuery {
            limit: 2,
            offset: 2,
            ..ListQuery::default()
        })
        .unwrap();
    assert_eq!(ids(&page), vec!["rt_3", "rt_2"]);
    assert_eq!(
        store
            .list_runs(&ListQuery {
                limit: 0,
                ..ListQuery::default()
            })
            .unwrap()
            .len(),
        5,
        "limit 0 means the default"
    );
}

#[test]
fn list_filters() {
    let store = fixture();
    let q = |q: ListQuery| {
        ids(&store.list_runs(&q).unwrap())
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        q(ListQuery {
            status: Some(RunStatus::Failed),
            ..Default::default()
        }),
        vec!["rt_4"]
    );
    assert_eq!(
        q(ListQuery {
            status: Some(RunStatus::Running),
            ..Default::default()
        }),
        vec!["rt_5"]
    );
    assert_eq!(
        q(ListQuery {
            model: Some("CLAUDE".into()),
            ..Default::default()
        }),
        vec!["rt_5", "rt_1"]
    );
    assert_eq!(
        q(ListQuery {
            model: Some("gpt-4.1".into()),
            ..Default::default()
        }),
        vec!["rt_4", "rt_2", "rt_1"]
    );
    assert_eq!(
        q(ListQuery {
            model: Some("gpt-4.1-mini".into()),
            ..Default::default()
        }),
        vec!["rt_2"]
    );
    assert!(
        q(ListQuery {
            model: Some("%".into()),
            ..Default::default()
        })
        .is_empty()
    );
    assert_eq!(
        q(ListQuery {
            since_ms: Some(2_000),
            until_ms: Some(4_000),
            ..Default::default()
        }),
        vec!["rt_3", "rt_2"]
    );
    store.add_tag("rt_2", "food").unwrap();
    assert_eq!(
        q(ListQuery {
            tag: Some("food".into()),
            ..Default::default()
        }),
        vec!["rt_2"]
    );
}

#[test]
fn summaries_carry_what_a_list_shows() {
    let store = fixture();
    let all = store.list_runs(&ListQuery::default()).unwrap();
    let r1 = all.iter().find(|r| r.id == "rt_1").unwrap();
    assert_eq!(r1.input, "How do I write async Rust with tokio?");
    assert_eq!(
        r1.models,
        vec!["openai/gpt-4.1", "anthropic/claude-sonnet-4-5"]
    );
    assert_eq!(r1.created_at, "1970-01-01T00:00:01.000Z");
    assert_eq!(r1.duration_ms, Some(1840));
    assert_eq!(
        r1.data_preview.as_deref(),
        Some("Use tokio as the runtime; mark functions async.")
    );
    let r5 = all.iter().find(|r| r.id == "rt_5").unwrap();
    assert_eq!(r5.duration_ms, None);
    assert_eq!(r5.data_preview.as_deref(), Some("Lifetimes are quixotic."));

    let long = "é".repeat(500);
    let req = request("long", &["a/b"]);
    store
        .import_response(
            Some(&req),
            &response("rt_long", &req, &["x"], Some(&long)),
            RunStatus::Completed,
            Some(9_000),
        )
        .unwrap();
    let s = store
        .list_runs(&ListQuery {
            limit: 1,
            ..Default::default()
        })
        .unwrap()
        .remove(0);
    let preview = s.data_preview.unwrap();
    assert_eq!(preview.chars().count(), 201);
    assert!(preview.ends_with('…'));

    let json = serde_json::to_value(s.status).unwrap();
    assert_eq!(json, "completed");
}

#[test]
fn search_ranks_a_prompt_hit_first() {
    let store = fixture();
    let hits = store.search("rust", &ListQuery::default()).unwrap();
    let found = ids(&hits);
    assert_eq!(found.len(), 4, "{found:?}");
    assert_eq!(
        found.last(),
        Some(&"rt_2"),
        "an answer-only hit ranks last: {found:?}"
    );
    assert!(found.contains(&"rt_1") && found.contains(&"rt_4") && found.contains(&"rt_5"));

    assert_eq!(
        ids(&store.search("tokio", &ListQuery::default()).unwrap()),
        vec!["rt_1"]
    );
    // Every answer, the resolved answer and the instructions are searched.
    assert_eq!(
        ids(&store.search("carbonara", &ListQuery::default()).unwrap()),
        vec!["rt_2"]
    );
    assert_eq!(
        ids(&store.search("zygomorphic", &ListQuery::default()).unwrap()),
        vec!["rt_3"]
    );
    // A running run is found by its prompt; its answers once it ends.
    assert!(
        store
            .search("quixotic", &ListQuery::default())
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .search("briefly", &ListQuery::default())
            .unwrap()
            .len(),
        5
    );
    // Stemming and prefixes.
    assert_eq!(
        ids(&store.search("template", &ListQuery::default()).unwrap()),
        vec!["rt_3"]
    );
    assert_eq!(
        ids(&store.search("toki*", &ListQuery::default()).unwrap()),
        vec!["rt_1"]
    );
    // Several terms: all of them; OR: either.
    assert_eq!(
        ids(&store.search("async tokio", &ListQuery::default()).unwrap()),
        vec!["rt_1"]
    );
    assert_eq!(
        store
            .search("tokio OR carbonara", &ListQuery::default())
            .unwrap()
            .len(),
        2
    );
    assert!(
        store
            .search("tokio carbonara", &ListQuery::default())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn odd_queries_never_raise_a_syntax_error() {
    let store = fixture();
    for q in [
        "rust \"async",
        "foo-bar",
        "c++",
        "\"",
        "*",
        "AND",
        "NOT",
        "NEAR(",
        "a:b",
        "input:rust",
        "(((",
        "'",
        "rust AND",
        "-rust",
        "^rust",
        "rust*)",
        "{input}: x",
        "",
        "🦀 rust",
    ] {
        store
            .search(q, &ListQuery::default())
            .unwrap_or_else(|e| panic!("{q:?}: {e}"));
    }
    assert_eq!(
        ids(&store.search("foo-bar", &ListQuery::default()).unwrap()),
        vec!["rt_3"]
    );
    assert_eq!(
        ids(&store
            .search("c++ templates", &ListQuery::default())
            .unwrap()),
        vec!["rt_3"]
    );
    assert_eq!(
        store.search("rust \"async", &ListQuery::default()).unwrap()[0].id,
        "rt_1"
    );
    assert!(
        store
            .search("\"", &ListQuery::default())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn search_with_filters_and_pages() {
    let store = fixture();
    let q = |q: &str, f: ListQuery| {
        ids(&store.search(q, &f).unwrap())
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        q(
            "rust",
            ListQuery {
                status: Some(RunStatus::Failed),
                ..Default::default()
            }
        ),
        vec!["rt_4"]
    );
    assert_eq!(
        q(
            "rust",
            ListQuery {
                model: Some("gemini".into()),
                ..Default::default()
            }
        ),
        vec!["rt_2"]
    );
    assert_eq!(
        q(
            "rust",
            ListQuery {
                since_ms: Some(4_500),
                ..Default::default()
            }
        ),
        vec!["rt_5"]
    );
    store.set_starred("rt_2", true).unwrap();
    assert_eq!(
        q(
            "rust",
            ListQuery {
                starred: Some(true),
                ..Default::default()
            }
        ),
        vec!["rt_2"]
    );
    let all = q("rust", ListQuery::default());
    let paged: Vec<String> = (0..4)
        .flat_map(|i| {
            q(
                "rust",
                ListQuery {
                    limit: 1,
                    offset: i,
                    ..Default::default()
                },
            )
        })
        .collect();
    assert_eq!(all, paged);
    let filtered_all = q(
        "rust",
        ListQuery {
            starred: Some(false),
            ..Default::default()
        },
    );
    let filtered_paged: Vec<String> = (0..3)
        .flat_map(|i| {
            q(
                "rust",
                ListQuery {
                    limit: 1,
                    offset: i,
                    starred: Some(false),
                    ..Default::default()
                },
            )
        })
        .collect();
    assert_eq!(filtered_all, filtered_paged);
}

#[test]
fn the_index_follows_every_write() {
    let store = Store::open_in_memory().unwrap();
    let req = request("plain prompt", &["a/b", "c/d"]);
    store.begin_run(&new_run("rt_x", 1, &req)).unwrap();
    assert!(
        store
            .search("xylophone", &ListQuery::default())
            .unwrap()
            .is_empty()
    );
    store
        .record_model_result("rt_x", &result(0, "a/b", "a xylophone"))
        .unwrap();
    // Answers are indexed when the run ends, not one by one.
    assert!(
        store
            .search("xylophone", &ListQuery::default())
            .unwrap()
            .is_empty()
    );
    store
        .finish_run(
            &response(
                "rt_x",
                &req,
                &["a violin", "a cello"],
                Some("strings: theorbo"),
            ),
            RunStatus::Completed,
        )
        .unwrap();
    assert_eq!(
        store
            .search("theorbo", &ListQuery::default())
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store.search("cello", &ListQuery::default()).unwrap().len(),
        1
    );
    assert_eq!(
        store
            .search("cello violin", &ListQuery::default())
            .unwrap()
            .len(),
        1
    );
    store.delete_run("rt_x").unwrap();
    assert!(
        store
            .search("violin", &ListQuery::default())
            .unwrap()
            .is_empty()
    );
}

/// More matches than one ranking tier: paging still returns each run exactly once,
/// with and without filters, and the newest tier comes first.
#[test]
fn search_beyond_one_tier_pages_consistently() {
    let store = Store::open_in_memory().unwrap();
    let n = roundtable_store::SEARCH_TIER * 2 + 300;
    let runs: Vec<roundtable_store::ImportedRun> = (0..n)
        .map(|i| {
            let input = if i % 7 == 0 {
                format!("common walrus question {i}")
            } else {
                format!("common question {i}")
            };
            let req = request(&input, &["a/b"]);
            let answer = if i == 7 {
                "walrus walrus walrus"
            } else {
                "an answer"
            };
            roundtable_store::ImportedRun {
                response: response(&format!("rt_{i:05}"), &req, &[answer], Some("resolved")),
                request: Some(req),
                status: if i % 3 == 0 {
                    RunStatus::Failed
                } else {
                    RunStatus::Completed
                },
                created_at_ms: Some(i as i64),
                marks: Default::default(),
            }
        })
        .collect();
    assert_eq!(store.bulk_import(&runs).unwrap(), n);

    let page = |query: &str, status: Option<RunStatus>, size: usize| {
        let mut all = Vec::new();
        for p in 0.. {
            let got = store
                .search(
                    query,
                    &ListQuery {
                        limit: size,
                        offset: p * size,
                        status,
                        ..Default::default()
                    },
                )
                .unwrap();
            if got.is_empty() {
                break;
            }
            all.extend(got.into_iter().map(|s| s.id));
        }
        all
    };
    for size in [50, 333] {
        let all = page("common", None, size);
        assert_eq!(all.len(), n);
        let mut unique = all.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), n);
        // The first tier is the newest runs.
        let first_tier: Vec<&String> = all.iter().take(roundtable_store::SEARCH_TIER).collect();
        assert!(first_tier.iter().all(
            |id| id.as_str() >= format!("rt_{:05}", n - roundtable_store::SEARCH_TIER).as_str()
        ));

        let failed = page("common", Some(RunStatus::Failed), size);
        assert_eq!(failed.len(), n.div_ceil(3));
        let mut unique = failed.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), failed.len());
    }
    // Fewer matches than a tier: pure bm25 over all of them (the run saying
    // walrus four times ranks first although it is among the oldest).
    let walrus = store.search("walrus", &ListQuery::default()).unwrap();
    assert_eq!(walrus[0].id, "rt_00007");
    // Only stop words: newest first.
    let newest = store
        .search(
            "the",
            &ListQuery {
                limit: 3,
                ..Default::default()
            },
        )
        .unwrap();
    assert!(newest.is_empty(), "no run says 'the'");
    let newest = store
        .search(
            "an",
            &ListQuery {
                limit: 3,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        ids(&newest),
        vec![
            format!("rt_{:05}", n - 1),
            format!("rt_{:05}", n - 2),
            format!("rt_{:05}", n - 3)
        ]
    );
}
