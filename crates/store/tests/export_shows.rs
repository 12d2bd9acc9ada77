//! The Markdown and HTML exports show what the window shows (issue 13, items 5
//! and 7): votes, schema marks, why there is no resolved answer, the summary's
//! time and cost, token counts, each model's options and `#n` label, partial
//! answers of failed models, and a fallback summary's note.

use roundtable_store::export::{to_html, to_markdown};
use roundtable_store::{
    Meta, ModelResult, ModelSpec, Resolution, RoundtableRequest, RoundtableResponse, RunStatus,
    Store, StoredRun, Usage,
};

fn spec(name: &str) -> ModelSpec {
    ModelSpec::named(name)
}

fn req(models: Vec<ModelSpec>, resolution: Resolution) -> RoundtableRequest {
    RoundtableRequest {
        input: "Capital of France?".into(),
        models,
        resolution: Some(resolution),
        summary_model: Some("openai/judge".into()),
        ..RoundtableRequest::default()
    }
}

fn answer(index: usize, model: &str, data: &str) -> ModelResult {
    ModelResult {
        index,
        model: model.into(),
        data: data.into(),
        duration_ms: 900 + index as u64 * 10,
        cost: 0.001,
        usage: Usage {
            input_tokens: 120,
            output_tokens: 300 + index as u64,
            ..Usage::default()
        },
        ..ModelResult::default()
    }
}

fn failure(index: usize, model: &str, error: &str) -> ModelResult {
    ModelResult {
        index,
        model: model.into(),
        duration_ms: 30_000,
        error: Some(error.into()),
        ..ModelResult::default()
    }
}

/// A response whose meta is built the way the engine builds it: every model's
/// cost plus the summary's 0.002 in `total_cost`, 1840 ms in all.
fn resp(
    req: &RoundtableRequest,
    results: Vec<ModelResult>,
    data: Option<&str>,
) -> RoundtableResponse {
    let summary = req.resolution() == Resolution::Summary;
    let total_cost =
        results.iter().map(|r| r.cost).sum::<f64>() + if summary { 0.002 } else { 0.0 };
    RoundtableResponse {
        id: "rt_show".into(),
        data: data.map(str::to_string),
        meta: Meta {
            resolution: req.resolution(),
            models_used: results
                .iter()
                .filter(|r| r.error.is_none())
                .map(|r| r.model.clone())
                .collect(),
            total_cost,
            total_duration_ms: 1840,
            summary_model: summary.then(|| "openai/judge".to_string()),
            summary_usage: summary.then(|| Usage {
                input_tokens: 900,
                output_tokens: 200,
                ..Usage::default()
            }),
            ..Meta::default()
        },
        model_results: results,
    }
}

fn stored(req: &RoundtableRequest, resp: &RoundtableResponse, status: RunStatus) -> StoredRun {
    let store = Store::open_in_memory().unwrap();
    store
        .import_response(Some(req), resp, status, Some(0))
        .unwrap();
    store.get_run(&resp.id).unwrap().unwrap()
}

/// Both exports of one run.
fn exports(run: &StoredRun) -> (String, String) {
    let runs = [run.clone()];
    (to_html(&runs), to_markdown(&runs))
}

/// The resolved box of the HTML export.
fn resolved_box(html: &str) -> &str {
    let start = html
        .find("<div class=\"resolved\">")
        .expect("a resolved box");
    let end = start + html[start..].find("</div>\n").unwrap();
    &html[start..end]
}

fn no_live_markup(html: &str) {
    let lower = html.to_ascii_lowercase();
    // Text `<` is always escaped, so an event handler could only sit in a tag
    // named here.
    for bad in ["<script", "<img", "<svg", "<iframe", "<i>", "<b>"] {
        assert!(!lower.contains(bad), "{bad} is live");
    }
}

#[test]
fn multiple_choice_shows_the_tally_and_each_vote() {
    let mut req = req(
        vec![
            spec("a/one"),
            spec("b/two"),
            spec("c/three"),
            spec("d/four"),
        ],
        Resolution::MultipleChoice,
    );
    req.choices = Some(vec!["Paris".into(), "London".into(), "<b>Rome</b>".into()]);
    let mut results = vec![
        answer(0, "a/one", "Paris"),
        answer(1, "b/two", "paris."),
        answer(2, "c/three", "The capital of France is Paris."),
        failure(3, "d/four", "timeout"),
    ];
    results[0].vote = Some("Paris".into());
    results[1].vote = Some("Paris".into());
    let mut resp = resp(&req, results, Some("Paris"));
    resp.meta.votes = Some(
        [("Paris", 2), ("London", 0), ("<b>Rome</b>", 0)]
            .into_iter()
            .map(|(c, n)| (c.to_string(), n))
            .collect(),
    );
    let (html, md) = exports(&stored(&req, &resp, RunStatus::Completed));

    assert!(html.contains("<h3>Votes</h3>"), "{html}");
    assert!(
        html.contains(
            "<tr class=\"won\"><td>Paris <strong>(chosen)</strong></td><td class=\"n\">2</td></tr>"
        ),
        "{html}"
    );
    assert!(html.contains("<tr><td>London</td><td class=\"n\">0</td></tr>"));
    assert!(
        html.contains("<td>&lt;b&gt;Rome&lt;/b&gt;</td>"),
        "choices are escaped"
    );
    assert_eq!(
        html.matches("<span class=\"badge\">Vote: Paris</span>")
            .count(),
        2
    );
    assert!(html.contains("Vote: none (off-list: not counted)"));
    // A failed model casts no vote at all.
    assert_eq!(html.matches("Vote: none").count(), 1);

    assert!(
        md.contains(
            "### Votes\n\n- Paris: 2 **(chosen)**\n- London: 0\n- &lt;b&gt;Rome&lt;/b&gt;: 0\n"
        ),
        "{md}"
    );
    assert_eq!(md.matches("**Vote:** Paris").count(), 2);
    assert!(md.contains("**Vote:** none (off-list: not counted)"));
    no_live_markup(&html);
}

#[test]
fn schema_runs_mark_each_answer_valid_or_not() {
    let mut req = req(vec![spec("a/one"), spec("b/two")], Resolution::Summary);
    req.output_schema = Some(serde_json::json!({"type": "object"}));
    let mut results = vec![answer(0, "a/one", "{\"a\":1}"), answer(1, "b/two", "[1]")];
    results[0].schema_valid = Some(true);
    results[1].schema_valid = Some(false);
    results[1].schema_error =
        Some("[1] is not of type \"object\" <img src=x onerror=alert(1)>".into());
    let mut resp = resp(&req, results, Some("{\"a\":1}"));
    resp.meta.schema_valid = Some(true);
    let (html, md) = exports(&stored(&req, &resp, RunStatus::Completed));

    assert_eq!(
        html.matches("Schema ✓ valid").count(),
        2,
        "an answer and the resolved one"
    );
    assert!(html.contains(
        "<span class=\"badge bad\">Schema ✗ invalid</span> <span class=\"error\">[1] is not of type &quot;object&quot; &lt;img src=x onerror=alert(1)&gt;</span>"
    ), "{html}");
    assert!(resolved_box(&html).contains("Schema ✓ valid"));
    assert!(md.contains("**Schema:** valid"), "{md}");
    assert!(
        md.contains("**Schema:** invalid: [1] is not of type \"object\" &lt;img"),
        "{md}"
    );
    no_live_markup(&html);
}

#[test]
fn a_run_without_a_resolved_answer_says_why() {
    // Every model failed (a schema run: the box held an empty code block).
    let mut r = req(vec![spec("a/one"), spec("b/two")], Resolution::Summary);
    r.output_schema = Some(serde_json::json!({"type": "object"}));
    let mut all_failed = resp(
        &r,
        vec![failure(0, "a/one", "boom"), failure(1, "b/two", "boom")],
        Some(""),
    );
    all_failed.meta.summary_model = None;
    all_failed.meta.summary_usage = None;
    let (html, md) = exports(&stored(&r, &all_failed, RunStatus::Failed));
    let why = "No resolved answer: every model failed, so there was nothing to resolve.";
    assert!(resolved_box(&html).contains(why), "{html}");
    assert!(!html.contains("<pre><code></code></pre>"), "no empty box");
    assert!(
        md.contains(&format!("### Resolved answer\n\n_{why}_")),
        "{md}"
    );
    assert!(!md.contains("_(empty)_"));

    // Fast mode.
    let r = req(vec![spec("a/one")], Resolution::Fast);
    let fast = resp(&r, vec![answer(0, "a/one", "Paris")], None);
    let (html, md) = exports(&stored(&r, &fast, RunStatus::Completed));
    let why = "No resolved answer: fast mode resolves nothing: each answer stands on its own.";
    assert!(resolved_box(&html).contains(why), "{html}");
    assert!(md.contains(why));

    // The consolidation failed.
    let r = req(vec![spec("a/one")], Resolution::Summary);
    let mut failed = resp(&r, vec![answer(0, "a/one", "Paris")], Some(""));
    failed.meta.summary_error = Some("HTTP 500 <script>x</script>".into());
    let (html, md) = exports(&stored(&r, &failed, RunStatus::Completed));
    assert!(
        resolved_box(&html).contains(
            "<p class=\"error\">No resolved answer: the consolidation failed: HTTP 500 &lt;script&gt;x&lt;/script&gt;</p>"
        ),
        "{html}"
    );
    assert!(
        md.contains("_No resolved answer: the consolidation failed: HTTP 500 &lt;script&gt;"),
        "{md}"
    );
    assert!(
        html.contains("<td>openai/judge (summary)</td><td>failed</td>"),
        "{html}"
    );

    // A vote nobody won.
    let mut r = req(vec![spec("a/one")], Resolution::MultipleChoice);
    r.choices = Some(vec!["Paris".into(), "London".into()]);
    let mut nobody = resp(&r, vec![answer(0, "a/one", "Lyon")], Some(""));
    nobody.meta.votes = Some(
        [("Paris".to_string(), 0), ("London".to_string(), 0)]
            .into_iter()
            .collect(),
    );
    let (html, md) = exports(&stored(&r, &nobody, RunStatus::Completed));
    let why = "No resolved answer: no answer picked one of the listed choices.";
    assert!(resolved_box(&html).contains(why), "{html}");
    assert!(md.contains(why));
    assert!(!html.contains("(chosen)"));
}

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
fn a_failed_model_keeps_its_partial_text_marked_as_partial() {
    let r = req(vec![spec("a/one"), spec("b/two")], Resolution::Summary);
    let mut broke = failure(1, "b/two", "the stream broke off: Transport error");
    broke.data = "The capital of **France** is".into();
    let resp = resp(
        &r,
        vec![answer(0, "a/one", "Paris."), broke],
        Some("Paris."),
    );
    let (html, md) = exports(&stored(&r, &resp, RunStatus::Completed));
    let section = &html[html
        .find("<section class=\"answer failed partial\">")
        .expect(&html)..];
    let section = &section[..section.find("</section>").unwrap()];
    assert!(section.contains("Failed: the stream broke off: Transport error"));
    assert!(section.contains("Partial answer: what had arrived before it failed."));
    assert!(
        section.contains("The capital of <strong>France</strong> is"),
        "{section}"
    );
    assert!(
        html.contains("<td>b/two</td><td>failed, partial</td>"),
        "{html}"
    );
    assert!(
        md.contains("#### b/two (failed, partial) — 30.0 s · tokens not reported · $0"),
        "{md}"
    );
    assert!(md.contains(
        "**Error:** the stream broke off: Transport error\\\n_Partial answer: what had arrived before it failed._\n\nThe capital of **France** is"
    ), "{md}");
}

#[test]
fn a_summary_written_by_a_fallback_model_carries_a_note_not_a_failure() {
    let r = req(vec![spec("a/one"), spec("b/two")], Resolution::Summary);
    let mut resp = resp(
        &r,
        vec![answer(0, "a/one", "x"), answer(1, "b/two", "y")],
        Some("Paris."),
    );
    let why = "the summary by openai/judge failed, so a/one wrote it: HTTP 503";
    resp.meta.summary_error = Some(why.into());
    resp.meta.summary_model = Some("a/one".into());
    let (html, md) = exports(&stored(&r, &resp, RunStatus::Completed));
    let b = resolved_box(&html);
    assert!(
        b.contains(&format!("<p class=\"note\">Note: {why}</p>")),
        "{b}"
    );
    assert!(b.contains("<p>Paris.</p>"), "{b}");
    assert!(
        !b.contains("class=\"error\""),
        "not shown as a failure: {b}"
    );
    assert!(
        html.contains("<td>a/one (summary)</td><td>ok (fallback)</td>"),
        "{html}"
    );
    assert!(md.contains(&format!("_Note: {why}_\n\nParis.")), "{md}");
    assert!(!md.contains("No resolved answer"));
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
