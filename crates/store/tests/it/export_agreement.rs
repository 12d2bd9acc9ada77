//! Every export carries where the answers agree (`meta.agreement`): Markdown,
//! HTML and CSV compute it for a run stored before it existed; JSON carries it
//! as stored (the history's export fills it first).

use crate::common::{request, response};
use roundtable_core::agreement;
use roundtable_store::export::{to_csv, to_html, to_json, to_markdown};
use roundtable_store::{Resolution, RunStatus, Store, StoredRun};
use serde_json::{Value, json};

const ANSWERS: [&str; 3] = [
    r#"{"city":"Paris","pop":2}"#,
    r#"{"city":"Paris","pop":2.0}"#,
    r#"{"city":"<b>Lyon</b>","pop":2}"#,
];

/// A schema run of three models, imported without an agreement.
fn schema_run(store: &Store) -> StoredRun {
    let mut req = request(
        "Largest city?",
        &["openai/gpt-4.1-mini", "anthropic/claude", "gemini/flash"],
    );
    req.output_schema = Some(json!({"type": "object"}));
    let resp = response("rt_agree", &req, &ANSWERS, Some(ANSWERS[0]));
    assert!(resp.meta.agreement.is_none());
    store
        .import_response(Some(&req), &resp, RunStatus::Completed, Some(0))
        .unwrap();
    store.get_run("rt_agree").unwrap().unwrap()
}

#[test]
fn a_stored_agreement_round_trips() {
    let store = Store::open_in_memory().unwrap();
    let req = request("Say hi", &["a/x", "b/y"]);
    let mut resp = response("rt_rt", &req, &["hello there", "hi there"], Some("hi"));
    agreement::fill(&req, &mut resp);
    assert!(resp.meta.agreement.is_some());
    store
        .import_response(Some(&req), &resp, RunStatus::Completed, Some(0))
        .unwrap();
    let stored = store.get_run("rt_rt").unwrap().unwrap();
    assert_eq!(stored.response.meta.agreement, resp.meta.agreement);
}

#[test]
fn json_carries_the_majority_and_the_consensus() {
    let store = Store::open_in_memory().unwrap();
    let mut run = schema_run(&store);
    let v: Value = serde_json::from_str(&to_json(std::slice::from_ref(&run), &[])).unwrap();
    assert_eq!(
        v[0]["meta"].get("agreement"),
        None,
        "JSON carries it as stored"
    );
    // As the history's export reads the run (App::view_run).
    agreement::fill(&run.request, &mut run.response);
    let v: Value = serde_json::from_str(&to_json(&[run], &[])).unwrap();
    let a = &v[0]["meta"]["agreement"];
    let fields = a["fields"]["fields"].as_array().unwrap();
    let city = fields.iter().find(|f| f["pointer"] == "/city").unwrap();
    assert_eq!(city["majority"], "Paris");
    let pop = fields.iter().find(|f| f["pointer"] == "/pop").unwrap();
    assert_eq!(pop["share"], 1.0, "2 and 2.0 are one value");
    assert_eq!(a["consensus"]["object"], json!({"city": "Paris", "pop": 2}));
}

#[test]
fn markdown_html_and_csv_show_it_inert() {
    let store = Store::open_in_memory().unwrap();
    let run = schema_run(&store);
    let md = to_markdown(std::slice::from_ref(&run));
    assert!(md.contains("### Agreement"), "{md}");
    assert!(md.contains("| /city | \"Paris\" | 2/3 (67 %) |"), "{md}");
    assert!(
        md.contains("gemini/flash: \"&lt;b&gt;Lyon&lt;/b&gt;\""),
        "{md}"
    );
    assert!(md.contains("**Consensus object**"), "{md}");

    let html = to_html(std::slice::from_ref(&run));
    assert!(html.contains("<h3>Agreement</h3>"), "{html}");
    assert!(html.contains("<td><code>/city</code></td><td>&quot;Paris&quot;</td>"));
    // The answer cards render <b> (sanitised Markdown); the table shows the value.
    assert!(
        html.contains("gemini/flash: &quot;&lt;b&gt;Lyon&lt;/b&gt;&quot;"),
        "{html}"
    );

    let csv_text = to_csv(std::slice::from_ref(&run));
    let mut rd = csv::Reader::from_reader(csv_text.as_bytes());
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    // fields_agreeing, fields: the first two give both majority values, the
    // third only the population.
    assert_eq!((&rows[0][11], &rows[0][12]), ("2", "2"));
    assert_eq!((&rows[2][11], &rows[2][12]), ("1", "2"));
    assert_eq!(&rows[0][10], "", "no similarity for structured answers");
}

#[test]
fn free_text_and_multiple_choice_views() {
    let store = Store::open_in_memory().unwrap();
    let req = request("Capital of France?", &["a/x", "b/y", "c/z"]);
    let resp = response(
        "rt_free",
        &req,
        &["Paris is the capital.", "The capital is Paris.", "Bananas."],
        Some("Paris"),
    );
    store
        .import_response(Some(&req), &resp, RunStatus::Completed, Some(0))
        .unwrap();
    let free = store.get_run("rt_free").unwrap().unwrap();
    let md = to_markdown(std::slice::from_ref(&free));
    assert!(md.contains("Similarity of the answers"), "{md}");
    assert!(to_html(std::slice::from_ref(&free)).contains("class=\"similarity\""));
    let csv_text = to_csv(std::slice::from_ref(&free));
    let mut rd = csv::Reader::from_reader(csv_text.as_bytes());
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    let mean: f64 = rows[0][10].parse().unwrap();
    assert!((0.0..=1.0).contains(&mean));

    let mut req = request("Capital?", &["a/x", "b/y", "c/z", "d/w"]);
    req.resolution = Some(Resolution::MultipleChoice);
    req.choices = Some(vec!["Paris".into(), "London".into()]);
    let mut resp = response(
        "rt_mc",
        &req,
        &["Paris", "Paris", "Paris", "London"],
        Some("Paris"),
    );
    resp.meta.votes = Some([("Paris".to_string(), 3), ("London".to_string(), 1)].into());
    store
        .import_response(Some(&req), &resp, RunStatus::Completed, Some(0))
        .unwrap();
    let mc = store.get_run("rt_mc").unwrap().unwrap();
    let md = to_markdown(std::slice::from_ref(&mc));
    assert!(
        md.contains("**Winner's share:** Paris: 3 of 4 answers (75 %)"),
        "{md}"
    );
    let csv_text = to_csv(&[mc]);
    assert!(csv_text.contains(",0.750,,,\r\n"), "{csv_text}");
}

#[test]
fn markdown_and_html_say_what_the_tables_limits_left_out() {
    let store = Store::open_in_memory().unwrap();
    let mut req = request("List them", &["a/x", "b/y"]);
    req.output_schema = Some(json!({"type": "object"}));
    let items: Vec<u32> = (0..1_200).collect();
    let answer = json!({ "items": items }).to_string();
    let resp = response("rt_big", &req, &[&answer, &answer], None);
    store
        .import_response(Some(&req), &resp, RunStatus::Completed, Some(0))
        .unwrap();
    let run = store.get_run("rt_big").unwrap().unwrap();
    let note = "The table's limits left out 400 values (past 1000 rows or 1 MiB).";
    let md = to_markdown(std::slice::from_ref(&run));
    assert!(md.contains(&format!("_{note}_")), "{md}");
    let html = to_html(&[run]);
    assert!(
        html.contains(&format!("<p class=\"note\">{note}</p>")),
        "{html}"
    );
}
