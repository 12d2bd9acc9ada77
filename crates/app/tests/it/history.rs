//! `App::query_runs`: the history listed (newest first, filtered, a page at a
//! time) or searched in full text, from the filters the desktop sends.

use crate::common::{Fixture, request, script};
use roundtable_app::core::{Resolution, RunStatus};
use roundtable_app::{Code, HistoryQuery};

/// Three runs, oldest first: two answered, one where no model answered.
async fn three_runs(fx: &Fixture) -> Vec<String> {
    let mut ids = Vec::new();
    for (input, models) in [
        ("What is the capital of France?", &["fake/a"][..]),
        ("And the capital of England?", &["fake/b"][..]),
        ("Will it rain tomorrow?", &["fake/down"][..]),
    ] {
        let (out, _) = fx.run(request(input, models, Resolution::Fast)).await;
        ids.push(out.unwrap().response.id);
    }
    ids
}

fn ids(runs: &[roundtable_app::store::RunSummary]) -> Vec<&str> {
    runs.iter().map(|r| r.id.as_str()).collect()
}

fn query(json: serde_json::Value) -> HistoryQuery {
    serde_json::from_value(json).unwrap()
}

#[tokio::test]
async fn the_history_is_listed_newest_first_and_filtered() {
    let fx = Fixture::start(script()).await;
    let made = three_runs(&fx).await;
    let app = &fx.app;
    let newest_first: Vec<&str> = made.iter().rev().map(String::as_str).collect();

    // What the window sends when nothing is filtered: `{}`.
    let all = app.query_runs(&query(serde_json::json!({}))).unwrap();
    assert_eq!(ids(&all), newest_first);
    // Blank text and names filter nothing.
    let blank = query(serde_json::json!({"text": "  ", "model": "", "tag": " "}));
    assert_eq!(ids(&app.query_runs(&blank).unwrap()), newest_first);

    let failed = query(serde_json::json!({"status": "failed"}));
    assert_eq!(ids(&app.query_runs(&failed).unwrap()), [made[2].as_str()]);
    let by_model = query(serde_json::json!({"model": "fake/b"}));
    assert_eq!(ids(&app.query_runs(&by_model).unwrap()), [made[1].as_str()]);

    app.set_starred(&made[0], true).unwrap();
    app.add_tag(&made[1], "geo").unwrap();
    let starred = query(serde_json::json!({"starred": true}));
    assert_eq!(ids(&app.query_runs(&starred).unwrap()), [made[0].as_str()]);
    let tagged = query(serde_json::json!({"tag": "geo"}));
    assert_eq!(ids(&app.query_runs(&tagged).unwrap()), [made[1].as_str()]);

    let page = query(serde_json::json!({"limit": 1, "offset": 1}));
    assert_eq!(ids(&app.query_runs(&page).unwrap()), [made[1].as_str()]);
    // The page after the last line of the one before (what the window sends).
    let next = query(serde_json::json!({"limit": 1, "after": made[2], "threads": true}));
    assert_eq!(ids(&app.query_runs(&next).unwrap()), [made[1].as_str()]);
    let rest = query(serde_json::json!({"after": made[1]}));
    assert_eq!(ids(&app.query_runs(&rest).unwrap()), [made[0].as_str()]);
    let gone = query(serde_json::json!({"after": "rt_nope"}));
    let e = app.query_runs(&gone).unwrap_err();
    assert_eq!(e.code, Code::NotFound);
    assert!(e.message.contains("rt_nope"), "{}", e.message);
    // A search is ranked: it pages with offset.
    let searched = query(serde_json::json!({"text": "capital", "after": made[1]}));
    let e = app.query_runs(&searched).unwrap_err();
    assert_eq!(
        (e.code, e.field.as_deref()),
        (Code::InvalidRequest, Some("after"))
    );
    // Created at or after the second run.
    let since = HistoryQuery {
        since_ms: Some(all[1].created_at_ms),
        ..Default::default()
    };
    assert_eq!(ids(&app.query_runs(&since).unwrap()), newest_first[..2]);
}

#[tokio::test]
async fn text_searches_the_history_with_the_other_filters() {
    let fx = Fixture::start(script()).await;
    let made = three_runs(&fx).await;
    let app = &fx.app;

    let capital = query(serde_json::json!({"text": "capital"}));
    assert_eq!(
        ids(&app.query_runs(&capital).unwrap()).len(),
        2,
        "both questions about a capital"
    );
    // The answers are searched too, not only the questions.
    let london = query(serde_json::json!({"text": " London "}));
    assert_eq!(ids(&app.query_runs(&london).unwrap()), [made[1].as_str()]);
    // Filters narrow a search.
    let narrowed = query(serde_json::json!({"text": "capital", "model": "fake/a"}));
    assert_eq!(ids(&app.query_runs(&narrowed).unwrap()), [made[0].as_str()]);
    let failed = HistoryQuery {
        text: Some("capital".into()),
        status: Some(RunStatus::Failed),
        ..Default::default()
    };
    assert!(app.query_runs(&failed).unwrap().is_empty());
    let nothing = query(serde_json::json!({"text": "zanzibar"}));
    assert!(app.query_runs(&nothing).unwrap().is_empty());
}
