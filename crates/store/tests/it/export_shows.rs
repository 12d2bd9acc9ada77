//! The Markdown and HTML exports show what the window shows (issue 13, item 7):
//! votes, schema marks, why there is no resolved answer, partial answers of
//! failed models, and a fallback summary's note.

use crate::export_fixtures::*;
use roundtable_store::{Resolution, RunStatus};

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
fn a_consensus_run_carries_its_claims_matrix_escaped_in_every_format() {
    use roundtable_store::export::to_csv;
    let r = req(vec![spec("a/one"), spec("b/two")], Resolution::Summary);
    let mut resp = resp(
        &r,
        vec![answer(0, "a/one", "x"), answer(1, "b/two", "y")],
        Some("Paris."),
    );
    let claims = r#"{"claims": [
        {"claim": "Paris is <b>the</b> capital", "stances": {"A": "supports", "B": "supports"}},
        {"claim": "It is | in Lyon", "stances": {"A": "contradicts", "B": "supports"}}]}"#;
    let matrix = roundtable_core::resolution::claims::read(claims, &[0, 1]).unwrap();
    resp.meta.claims = Some(Box::new(matrix));
    let run = stored(&r, &resp, RunStatus::Completed);
    let (html, md) = exports(&run);
    assert!(
        md.contains("### Claims: agreement 50 % (1 of 2 uncontested)"),
        "{md}"
    );
    assert!(md.contains("| Claim | Kind | a/one | b/two |"), "{md}");
    assert!(
        md.contains("| It is \\| in Lyon | contested | ✗ | ✓ |"),
        "{md}"
    );
    assert!(
        html.contains("<td>Paris is &lt;b&gt;the&lt;/b&gt; capital</td><td>unanimous</td>"),
        "{html}"
    );
    assert!(!html.contains("<b>the</b>"), "model text stays inert");
    let csv = to_csv(&[run]);
    let mut rd = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert_eq!((&rows[0][14], &rows[0][15]), ("1", "1"));
    assert_eq!((&rows[1][14], &rows[1][15]), ("2", "0"));

    let mut failed = resp.clone();
    failed.meta.claims = None;
    failed.meta.claims_error = Some("the claims reply is not the matrix asked for".into());
    let (html, md) = exports(&stored(&r, &failed, RunStatus::Completed));
    assert!(
        md.contains("_No claims matrix: the claims reply is not the matrix asked for_"),
        "{md}"
    );
    assert!(
        html.contains("No claims matrix: the claims reply"),
        "{html}"
    );
}
