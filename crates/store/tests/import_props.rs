//! Property tests of `roundtable import`'s format: a real export (a
//! conversation, a multiple-choice vote, an agreement and a claims matrix, a
//! file, a vote, judgements, tags) mutated at arbitrary places, and arbitrary
//! text, imported into a real history file. The import refuses or accepts;
//! nothing panics; what it accepts is read back and exported in every format;
//! and memory stays bounded: the most this process holds at once, and all it
//! allocates in a case (a proxy for its work), are counted by the allocator
//! and checked against fixed bounds. A number out of its field's range is
//! refused naming the run and the field.
//!
//! Its own test binary, for the counting allocator.

use proptest::prelude::*;
use roundtable_store::export::{import_runs_json, to_csv, to_html, to_json, to_markdown};
use roundtable_store::{
    Attachment, Ballot, Judgement, ListQuery, MAX_IMPORTED_COUNT, MAX_IMPORTED_TIME_MS, Meta,
    ModelOutcome, ModelResult, ModelSpec, NewRun, Resolution, RoundtableRequest,
    RoundtableResponse, RunStatus, Store, Usage, VoteKind,
};
use serde_json::{Value, json};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// The system allocator, counting what is held (and its peak) and what is
/// allocated in all; an allocation past [`REFUSED`] fails (the process
/// aborts, naming its size) rather than taking the machine's memory.
struct Counting;

static HELD: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static ALLOCATED: AtomicUsize = AtomicUsize::new(0);
const REFUSED: usize = 1 << 30;

// The one unsafe code of the store's tests: an allocator has to be, and this
// one only counts before handing each call to the system's.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > REFUSED {
            return std::ptr::null_mut();
        }
        let held = HELD.fetch_add(layout.size(), Relaxed) + layout.size();
        PEAK.fetch_max(held, Relaxed);
        ALLOCATED.fetch_add(layout.size(), Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        HELD.fetch_sub(layout.size(), Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// What one case may hold at once beyond what was held when it began, and
/// allocate in all: the documents are a few KB.
const MAX_CASE_PEAK: usize = 64 << 20;
const MAX_CASE_ALLOCATED: usize = 512 << 20;

/// Runs `f`, then checks the memory it took against the bounds.
fn bounded<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let start = HELD.load(Relaxed);
    PEAK.store(start, Relaxed);
    let allocated = ALLOCATED.load(Relaxed);
    let out = f();
    let peak = PEAK.load(Relaxed).saturating_sub(start);
    let all = ALLOCATED.load(Relaxed) - allocated;
    assert!(peak < MAX_CASE_PEAK, "{what}: held {peak} bytes at once");
    assert!(all < MAX_CASE_ALLOCATED, "{what}: allocated {all} bytes");
    out
}

fn result(index: usize, model: &str, data: &str) -> ModelResult {
    ModelResult {
        index,
        model: model.into(),
        data: data.into(),
        duration_ms: 900,
        cost: 0.001,
        usage: Usage {
            input_tokens: 120,
            output_tokens: 300,
            ..Usage::default()
        },
        attempts: Some(1),
        outcome: Some(ModelOutcome::Answered),
        vote: Some(data.into()),
        ..ModelResult::default()
    }
}

/// A history worth exporting, as its JSON export's value.
fn document() -> Value {
    let store = Store::open_in_memory().unwrap();
    let models = ["a/x", "b/y", "c/z"];
    let mut previous = None;
    for (i, (id, answers)) in [("rt_1", ["A", "A", "B"]), ("rt_2", ["B", "B", "B"])]
        .into_iter()
        .enumerate()
    {
        let req = RoundtableRequest {
            input: format!("question {i}"),
            models: models.iter().map(|m| ModelSpec::named(*m)).collect(),
            resolution: Some(Resolution::MultipleChoice),
            choices: Some(vec!["A".into(), "B".into()]),
            previous_id: previous.take(),
            attachments: vec![Attachment {
                name: "notes.txt".into(),
                media_type: "text/plain".into(),
                data: "bm90ZXM=".into(),
                ..Attachment::default()
            }],
            ..RoundtableRequest::default()
        };
        store.begin_run(&NewRun::new(id, req.clone())).unwrap();
        let results: Vec<ModelResult> = models
            .iter()
            .zip(answers)
            .enumerate()
            .map(|(k, (m, a))| result(k, m, a))
            .collect();
        let mut response = RoundtableResponse {
            id: id.into(),
            data: Some(answers[0].into()),
            meta: Meta {
                resolution: Resolution::MultipleChoice,
                models_used: models.iter().map(|m| m.to_string()).collect(),
                total_cost: 0.003,
                total_duration_ms: 1000,
                votes: Some(
                    [("A", 0), ("B", 0)]
                        .into_iter()
                        .map(|(c, _)| {
                            (
                                c.to_string(),
                                answers.iter().filter(|a| **a == c).count() as u32,
                            )
                        })
                        .collect(),
                ),
                ..Meta::default()
            },
            model_results: results,
        };
        roundtable_core::agreement::fill(&req, &mut response);
        response.meta.claims = serde_json::from_value(json!({
            "results": [0, 1, 2],
            "claims": [{"text": "it is A", "stances": ["supports", "supports", "contradicts"],
                        "kind": "majority"}],
            "agreement_rate": 0.0
        }))
        .ok();
        store.finish_run(&response, RunStatus::Completed).unwrap();
        previous = Some(id.to_string());
    }
    // Free text: a similarity matrix.
    let req = RoundtableRequest {
        input: "free text".into(),
        models: models.iter().map(|m| ModelSpec::named(*m)).collect(),
        resolution: Some(Resolution::Summary),
        ..RoundtableRequest::default()
    };
    store.begin_run(&NewRun::new("rt_3", req.clone())).unwrap();
    let answers = ["the sky is blue", "the sky is grey", "grass is green"];
    let mut response = RoundtableResponse {
        id: "rt_3".into(),
        data: Some("blue".into()),
        meta: Meta {
            resolution: Resolution::Summary,
            ..Meta::default()
        },
        model_results: (0..3).map(|k| result(k, models[k], answers[k])).collect(),
    };
    roundtable_core::agreement::fill(&req, &mut response);
    assert!(
        response
            .meta
            .agreement
            .as_ref()
            .unwrap()
            .similarity
            .is_some()
    );
    store.finish_run(&response, RunStatus::Completed).unwrap();
    store.add_tag("rt_2", "work").unwrap();
    store.set_starred("rt_1", true).unwrap();
    let ballot = Ballot {
        kind: VoteKind::Ranking,
        ranking: vec![vec![2], vec![0, 1]],
        blind: false,
    };
    store.set_vote("rt_1", &ballot).unwrap();
    let judgement = Judgement {
        judge_model: "j/one".into(),
        ranking: vec![1, 0, 2],
        reasons: vec!["a".into(), "b".into(), "c".into()],
        cost: 0.01,
        judged_at_ms: 1_700_000_000_000,
    };
    store.record_judgement("rt_1", &judgement).unwrap();
    let runs: Vec<_> = ["rt_2", "rt_1", "rt_3"]
        .iter()
        .map(|id| store.get_run(id).unwrap().unwrap())
        .collect();
    let verdicts: Vec<_> = ["rt_2", "rt_1", "rt_3"]
        .iter()
        .map(|id| store.run_verdicts(id).unwrap())
        .collect();
    serde_json::from_str(&to_json(&runs, &verdicts)).unwrap()
}

/// Every JSON pointer in `v`.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                pointers(
                    x,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                pointers(x, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

/// A value a hostile document might put anywhere.
fn hostile_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(u64::MAX)),
        Just(json!(u32::MAX)),
        Just(json!(4_000_000_000u64)),
        Just(json!(i64::MIN)),
        Just(json!(-1)),
        Just(json!(0)),
        Just(json!(1e308)),
        Just(json!(-0.5)),
        Just(json!(99_999_999_999u64)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<i64>().prop_map(|n| json!(n)),
        Just(Value::Null),
        Just(json!("")),
        Just(json!("rt_1")),
        Just(json!([])),
        Just(json!({})),
        Just(json!([[0, 0], [1]])),
        Just(json!({"99999999999": "A"})),
        ".{0,20}".prop_map(Value::String),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(prop::sample::Index, Value),
    Remove(prop::sample::Index),
    Duplicate(prop::sample::Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<prop::sample::Index>(), hostile_value())
            .prop_map(|(i, v)| Mutation::Replace(i, v)),
        1 => any::<prop::sample::Index>().prop_map(Mutation::Remove),
        1 => any::<prop::sample::Index>().prop_map(Mutation::Duplicate),
    ]
}

fn apply(doc: &mut Value, m: &Mutation) {
    let mut all = Vec::new();
    pointers(doc, String::new(), &mut all);
    let (Mutation::Replace(i, _) | Mutation::Remove(i) | Mutation::Duplicate(i)) = m;
    let pointer = i.get(&all).clone();
    let Some((parent, key)) = pointer.rsplit_once('/') else {
        if let Mutation::Replace(_, v) = m {
            *doc = v.clone();
        }
        return;
    };
    let key = key.replace("~1", "/").replace("~0", "~");
    let Some(parent) = doc.pointer_mut(parent) else {
        return;
    };
    match (parent, m) {
        (Value::Object(o), Mutation::Replace(_, v)) => {
            o.insert(key, v.clone());
        }
        (Value::Object(o), Mutation::Remove(_)) => {
            o.remove(&key);
        }
        (Value::Array(a), m) => {
            let Ok(k) = key.parse::<usize>() else { return };
            match m {
                Mutation::Replace(_, v) => a[k] = v.clone(),
                Mutation::Remove(_) => {
                    a.remove(k);
                }
                Mutation::Duplicate(_) => a.insert(k, a[k].clone()),
            }
        }
        _ => {}
    }
}

/// Imports `text` into a fresh history file; what it accepted is read back
/// and exported in every format. `Err` with the import's error.
fn import_and_show(text: &str) -> Result<usize, String> {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("history.db")).unwrap();
    let runs = import_runs_json(text).map_err(|e| e.to_string())?;
    let n = store.bulk_import(&runs).map_err(|e| e.to_string())?;
    let q = ListQuery {
        limit: 100,
        ..ListQuery::default()
    };
    let stored: Vec<_> = store
        .list_runs(&q)
        .unwrap()
        .iter()
        .map(|s| store.get_run(&s.id).unwrap().unwrap())
        .collect();
    for run in &stored {
        store.thread(&run.summary.id).unwrap();
        store.run_verdicts(&run.summary.id).unwrap();
    }
    to_markdown(&stored);
    to_html(&stored);
    to_csv(&stored);
    to_json(&stored, &[]);
    Ok(n)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn a_mutated_export_is_refused_or_imported_and_shown_in_bounded_memory(
        mutations in prop::collection::vec(mutation(), 1..6)
    ) {
        let mut doc = document();
        for m in &mutations {
            apply(&mut doc, m);
        }
        let text = doc.to_string();
        let _ = bounded("a mutated export", || import_and_show(&text));
    }

    #[test]
    fn arbitrary_text_is_refused_or_imported_without_a_panic(text in ".{0,200}") {
        let _ = bounded("arbitrary text", || import_and_show(&text));
    }

    #[test]
    fn a_number_out_of_its_fields_range_is_refused_naming_the_field(
        (pointer, value, field) in out_of_range()
    ) {
        let mut doc = document();
        set(&mut doc, pointer, value.clone());
        let err = bounded("a number out of range", || import_and_show(&doc.to_string()))
            .expect_err(&format!("{pointer} = {value} was taken"));
        prop_assert!(err.contains("run rt_"), "{pointer}: {err}");
        prop_assert!(err.contains(field), "{pointer}: {err}");
    }
}

/// `value` at `pointer`: a member added to an object if need be.
fn set(doc: &mut Value, pointer: &str, value: Value) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    match doc.pointer_mut(parent) {
        Some(Value::Object(o)) => {
            o.insert(key.to_string(), value);
        }
        Some(Value::Array(a)) => a[key.parse::<usize>().unwrap()] = value,
        _ => panic!("{pointer} is not in the document"),
    }
}

/// A numeric field, a value out of its range (within its type's), and how
/// the error names the field.
fn out_of_range() -> impl Strategy<Value = (&'static str, Value, &'static str)> {
    let big = (MAX_IMPORTED_COUNT + 1)..=u64::MAX;
    let late = (MAX_IMPORTED_TIME_MS + 1)..=i64::MAX;
    prop_oneof![
        (4u32..).prop_map(|n| ("/0/meta/votes/A", json!(n), r#"meta.votes["A"]"#)),
        (3u64..).prop_map(|n| (
            "/1/model_results/2/index",
            json!(n),
            "model_results[2].index"
        )),
        big.clone().prop_map(|n| (
            "/0/model_results/1/usage/output_tokens",
            json!(n),
            "model_results[1].usage.output_tokens"
        )),
        big.clone().prop_map(|n| (
            "/1/model_results/0/duration_ms",
            json!(n),
            "model_results[0].duration_ms"
        )),
        big.prop_map(|n| (
            "/0/meta/total_duration_ms",
            json!(n),
            "meta.total_duration_ms"
        )),
        late.clone()
            .prop_map(|n| ("/0/created_at_ms", json!(n), "created_at_ms")),
        (i64::MIN..0).prop_map(|n| ("/1/created_at_ms", json!(n), "created_at_ms")),
        late.prop_map(|n| ("/1/vote/cast_at_ms", json!(n), "vote.cast_at_ms")),
        (33u32..).prop_map(|n| (
            "/0/request/models/1/samples",
            json!(n),
            "request.models[1].samples"
        )),
        (33u32..).prop_map(|n| (
            "/0/model_results/0/sample",
            json!(n),
            "model_results[0].sample"
        )),
        (4u32..).prop_map(|n| (
            "/0/meta/agreement/choice/answers",
            json!(n),
            "meta.agreement.choice"
        )),
        (3usize..).prop_map(|n| ("/1/meta/claims/results/0", json!(n), "meta.claims.results")),
        (f64::MIN..-1e-9).prop_map(|c| (
            "/1/model_results/1/cost",
            json!(c),
            "model_results[1].cost"
        )),
        (3u32..).prop_map(|n| ("/1/judgements/0/ranking/0", json!(n), "judgements[0]")),
    ]
}
