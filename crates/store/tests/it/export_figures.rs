//! The Markdown and HTML exports give each model's figures and name it as the
//! window does (issue 13, items 5 and 7): the summary's time, tokens and cost,
//! token counts per model (never a false 0), a wait for a slot, and each model's
//! options and `#n` label.

use crate::export_fixtures::*;
use roundtable_store::{ModelSpec, Resolution, RunStatus, Usage};

#[test]
fn the_summary_row_has_its_time_cost_and_tokens() {
    let r = req(vec![spec("a/one"), spec("b/two")], Resolution::Summary);
    // Models: 900 and 910 ms, $0.001 each; the run: 1840 ms, $0.004.
    let resp = resp(
        &r,
        vec![answer(0, "a/one", "x"), answer(1, "b/two", "y")],
        Some("Paris."),
    );
    let (html, md) = exports(&stored(&r, &resp, RunStatus::Completed));
    assert!(
        html.contains("<tr><td>openai/judge (summary)</td><td>ok</td><td class=\"n\" title=\"the run&#39;s time less its slowest model&#39;s\">~930 ms</td><td class=\"n\">900</td><td class=\"n\">200</td><td class=\"n\">$0.0020</td></tr>"),
        "{html}"
    );
    assert!(
        resolved_box(&html)
            .contains("By openai/judge (ok) · ~930 ms · 900 in / 200 out tokens · $0.0020"),
        "{html}"
    );
    assert!(
        md.contains("| openai/judge (summary) | ok | ~930 ms | 900 | 200 | $0.0020 |"),
        "{md}"
    );
    assert!(
        md.contains("_By openai/judge (ok) — ~930 ms · 900 in / 200 out tokens · $0.0020_"),
        "{md}"
    );
}

#[test]
fn markdown_has_token_counts_per_model_never_a_false_zero() {
    let r = req(
        vec![spec("a/one"), spec("b/two"), spec("c/three")],
        Resolution::Summary,
    );
    let mut results = vec![
        answer(0, "a/one", "x"),
        answer(1, "b/two", "y"),
        answer(2, "c/three", "z"),
    ];
    // A server that reports no usage: nothing counted.
    results[1].usage = Usage::default();
    // Counted by the app, marked as estimated.
    results[2].usage.input_tokens = 40;
    results[2].usage.output_tokens = 142;
    results[2]
        .usage
        .extra
        .insert("estimated".into(), serde_json::Value::Bool(true));
    let resp = resp(&r, results, Some("ok"));
    let (html, md) = exports(&stored(&r, &resp, RunStatus::Completed));
    assert!(
        md.contains(
            "### Per model\n\n| Model | Status | Time | Input tokens | Output tokens | Cost |"
        ),
        "{md}"
    );
    assert!(
        md.contains("| a/one | ok | 900 ms | 120 | 300 | $0.0010 |"),
        "{md}"
    );
    assert!(
        md.contains("| b/two | ok | 910 ms | — | — | $0.0010 |"),
        "{md}"
    );
    assert!(
        md.contains("| c/three | ok | 920 ms | ~40 | ~142 | $0.0010 |"),
        "{md}"
    );
    assert!(
        md.contains("#### b/two — 910 ms · tokens not reported · $0.0010"),
        "{md}"
    );
    assert!(
        md.contains("#### c/three — 920 ms · ~40 in / ~142 out tokens · $0.0010"),
        "{md}"
    );
    assert!(
        html.contains("910 ms · tokens not reported · $0.0010"),
        "{html}"
    );
    assert!(html.contains("<td class=\"n\">~142</td>"), "{html}");
    assert!(!html.contains("0 in / 0 out"));
}

#[test]
fn the_same_model_three_times_is_told_apart_by_label_and_options() {
    let m = "ollama/smollm2";
    let r = req(
        vec![
            ModelSpec {
                temperature: Some(0.2),
                top_p: Some(0.9),
                ..spec(m)
            },
            ModelSpec {
                max_tokens: Some(512),
                reasoning: Some("high".into()),
                ..spec(m)
            },
            ModelSpec {
                temperature: Some(1.0),
                ..spec(m)
            },
            ModelSpec {
                temperature: Some(0.5),
                ..spec("<i>x</i>/y")
            },
        ],
        Resolution::Summary,
    );
    let resp = resp(
        &r,
        vec![
            answer(0, m, "a"),
            answer(1, m, "b"),
            answer(2, m, "c"),
            answer(3, "<i>x</i>/y", "d"),
        ],
        Some("ok"),
    );
    let (html, md) = exports(&stored(&r, &resp, RunStatus::Completed));
    for n in 1..=3 {
        assert!(
            html.contains(&format!("<h4>{m} <span class=\"badge\">#{n}</span></h4>")),
            "{html}"
        );
        assert!(md.contains(&format!("#### {m} #{n} — ")), "{md}");
    }
    assert!(
        html.contains("<p class=\"opts\">temperature 0.2 · top p 0.9</p>"),
        "{html}"
    );
    assert!(html.contains("<p class=\"opts\">max 512 tokens · reasoning high</p>"));
    assert!(
        html.contains(&format!("<td>{m} #3 (temperature 1)</td>")),
        "{html}"
    );
    // A model that appears once has no number; its name stays escaped.
    assert!(
        html.contains("<h4>&lt;i&gt;x&lt;/i&gt;/y</h4>\n<p class=\"opts\">temperature 0.5</p>"),
        "{html}"
    );
    assert!(
        md.contains("**Options:** temperature 0.2, top p 0.9"),
        "{md}"
    );
    assert!(
        md.contains(&format!("| {m} #2 (max 512 tokens, reasoning high) | ok |")),
        "{md}"
    );
    assert!(md.contains("#### &lt;i&gt;x&lt;/i&gt;/y — "), "{md}");
    no_live_markup(&html);
}

#[test]
fn a_model_that_waited_for_a_slot_shows_its_wait_and_the_summary_time_allows_for_it() {
    let r = req(vec![spec("local/m"), spec("local/m")], Resolution::Summary);
    let mut results = vec![answer(0, "local/m", "x"), answer(1, "local/m", "y")];
    // One slot: the second waited for the first (900 ms), then took 910 ms.
    results[1].queued_ms = Some(900);
    let mut resp = resp(&r, results, Some("ok"));
    resp.meta.total_duration_ms = 2500;
    let (html, md) = exports(&stored(&r, &resp, RunStatus::Completed));
    assert!(
        html.contains("<p class=\"stats\">910 ms (after 900 ms queued) · "),
        "{html}"
    );
    assert!(
        md.contains("#### local/m #2 — 910 ms (after 900 ms queued) · "),
        "{md}"
    );
    assert!(
        md.contains("| local/m #2 | ok | 910 ms (after 900 ms queued) |"),
        "{md}"
    );
    // 2500 ms in all, less the 1810 ms the second model took from the start.
    assert!(
        md.contains("| openai/judge (summary) | ok | ~690 ms |"),
        "{md}"
    );
}
