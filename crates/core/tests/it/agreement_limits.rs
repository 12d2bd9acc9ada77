//! The field-by-field agreement of hostile structured answers: the table and the
//! consensus stay within their limits whatever the answers (rows, depth,
//! pointer and value size, the rows' JSON in all), say what they left out, and
//! a numeric-looking key stays a key. Deterministic cases, then a property over
//! arbitrary answers (`--nocapture` shows the number of cases run).

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use roundtable_core::agreement::fields::{
    self, Answer, FieldTable, MAX_FIELD_DEPTH, MAX_FIELD_ROWS, MAX_POINTER_BYTES, MAX_TABLE_BYTES,
    MAX_VALUE_BYTES,
};
use roundtable_core::agreement::{Consensus, Truncated};
use serde_json::{Map, Number, Value, json};

fn agree(texts: &[String]) -> (FieldTable, Option<Consensus>) {
    let answers: Vec<Answer<'_>> = texts.iter().map(String::as_str).enumerate().collect();
    fields::agreement(&answers)
}

/// A value `depth` objects deep: `{"d":{"d":…"bottom"}}`.
fn nested(depth: usize) -> Value {
    (0..depth).fold(json!("bottom"), |inner, _| json!({ "d": inner }))
}

#[test]
fn a_big_structured_answer_gives_a_bounded_table_that_says_what_it_left_out() {
    let items: Vec<Value> = (0..1_500).map(|i| json!(i)).collect();
    let answer = json!({
        "items": items,
        "deep": nested(MAX_FIELD_DEPTH + 5),
        "long": "x".repeat(3 * MAX_VALUE_BYTES),
        "blob": [{"a": "y".repeat(MAX_VALUE_BYTES + 1)}],
    })
    .to_string();
    // First an answer in which `/blob` is a leaf, so that row's values include
    // the others' whole (long) array; then two copies of the big one.
    let flat = json!({"blob": 0, "long": "z"}).to_string();
    let (table, consensus) = agree(&[flat, answer.clone(), answer]);

    assert_eq!(table.fields.len(), MAX_FIELD_ROWS);
    let pointers: Vec<&str> = table.fields.iter().map(|f| f.pointer.as_str()).collect();
    assert!(
        !pointers.iter().any(|p| p.starts_with("/deep")),
        "{pointers:?}"
    );
    // Keys in order (serde_json's map): blob, deep, items, long. The rows are
    // /blob, /long, /blob/0/a, then /items/0 … /items/996: 1,500 − 997 items
    // are left out in each of the two big answers.
    assert_eq!(pointers[..4], ["/blob", "/long", "/blob/0/a", "/items/0"]);
    assert_eq!(pointers[MAX_FIELD_ROWS - 1], "/items/996");
    let t = table.truncated.clone().expect("says what was left out");
    assert_eq!(
        t,
        Truncated {
            leaves: 2 * (1_500 - 997),
            // `/deep` past MAX_FIELD_DEPTH, in each big answer.
            subtrees: 2,
            // /blob's array, /long's and /blob/0/a's strings: a value is cut
            // once however many answers give it.
            values: 3,
        }
    );
    let blob = table.fields.iter().find(|f| f.pointer == "/blob").unwrap();
    let cut = blob
        .values
        .iter()
        .find(|v| v.cut)
        .expect("the array is cut");
    assert_eq!(cut.results, vec![1, 2], "grouped by the whole value");
    let text = cut.value.as_str().unwrap();
    assert!(
        text.starts_with(r#"[{"a":"yyy"#) && text.ends_with('…'),
        "{text}"
    );
    assert!(text.len() <= MAX_VALUE_BYTES + '…'.len_utf8());
    assert!(serde_json::to_string(&table).unwrap().len() < MAX_TABLE_BYTES);
    // The consensus holds the cut majority values it could place (`/blob/0/a`
    // falls under `/blob`, which the majority gives as a whole).
    let consensus = consensus.unwrap();
    assert_eq!(consensus.cut, ["/blob", "/long"]);
    assert_eq!(consensus.object["items"].as_array().unwrap().len(), 997);
}

#[test]
fn rows_stop_at_the_tables_byte_limit() {
    // 300 fields of 4 KiB, a different value in each of three answers: 3.6 MB.
    let answer = |n: u8| {
        let m: Map<String, Value> = (0..300)
            .map(|i| {
                (
                    format!("f{i:03}"),
                    json!(format!("{n}").repeat(MAX_VALUE_BYTES)),
                )
            })
            .collect();
        Value::Object(m).to_string()
    };
    let (table, _) = agree(&[answer(1), answer(2), answer(3)]);
    let json = serde_json::to_string(&table).unwrap();
    assert!(json.len() <= MAX_TABLE_BYTES + 1024, "{}", json.len());
    let kept = table.fields.len();
    assert!((50..300).contains(&kept), "{kept}");
    let t = table.truncated.unwrap();
    assert_eq!(t.leaves, 3 * (300 - kept as u64));
    assert_eq!((t.subtrees, t.values), (0, 0));
}

#[test]
fn a_pointer_past_its_limit_is_not_walked() {
    let key = "k".repeat(MAX_POINTER_BYTES);
    let answer = json!({ key: {"a": 1}, "b": 2 }).to_string();
    let (table, consensus) = agree(&[answer.clone(), answer]);
    let pointers: Vec<&str> = table.fields.iter().map(|f| f.pointer.as_str()).collect();
    assert_eq!(pointers, ["/b"]);
    assert_eq!(table.truncated.unwrap().subtrees, 2);
    assert_eq!(consensus.unwrap().object, json!({"b": 2}));
}

// ---- Property: arbitrary answers ----

/// Cases per property: each builds answers of up to a few thousand leaves.
const CASES: u32 = 48;

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-c]{0,2}",
        // Numeric-looking: small, huge, usize::MAX and past it, leading zeros.
        "[0-9]{1,3}",
        "[1-9][0-9]{10,22}",
        Just("18446744073709551615".to_string()),
        Just("00".to_string()),
        "[~/0-9]{1,3}",
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        "[a-b]{0,3}".prop_map(Value::String),
        (1usize..3).prop_map(|n| Value::String("s".repeat(n * MAX_VALUE_BYTES))),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        8 => scalar(),
        // A big array.
        1 => prop::collection::vec(any::<i32>().prop_map(Value::from), 900..1_300)
            .prop_map(Value::Array),
    ];
    let tree = leaf.prop_recursive(8, 400, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    });
    // Sometimes deeper than MAX_FIELD_DEPTH, under numeric-looking keys.
    (tree, 0..MAX_FIELD_DEPTH + 8, key()).prop_map(|(v, depth, k)| {
        let depth = if depth < 20 { 0 } else { depth };
        (0..depth).fold(v, |inner, _| json!({ k.clone(): inner }))
    })
}

/// Two to four answers: an arbitrary one repeated, plus arbitrary others.
fn answers() -> impl Strategy<Value = (Value, usize, Vec<Value>)> {
    (value(), 1usize..3, prop::collection::vec(value(), 0..2))
}

#[test]
fn any_answers_give_a_bounded_table_and_a_consensus() {
    let mut runner = runner();
    // Cases whose consensus was compared with the answer itself.
    let identical = std::cell::Cell::new(0);
    runner
        .run(&answers(), |(common, copies, others)| {
            let mut texts: Vec<String> = vec![common.to_string(); copies + 1];
            texts.extend(others.iter().map(Value::to_string));
            let (table, consensus) = agree(&texts);
            prop_assert!(table.fields.len() <= MAX_FIELD_ROWS);
            let json = serde_json::to_vec(&table).unwrap();
            // The rows' budget, plus the envelope (`answers`, `truncated`).
            prop_assert!(json.len() <= MAX_TABLE_BYTES + 1024, "{}", json.len());
            for f in &table.fields {
                prop_assert!(f.pointer.len() <= MAX_POINTER_BYTES);
                prop_assert!(f.pointer.matches('/').count() <= MAX_FIELD_DEPTH);
                // Each answer holds one value or is missing.
                let held: usize = f.values.iter().map(|v| v.results.len()).sum();
                prop_assert_eq!(held + f.missing.len(), texts.len());
                for v in &f.values {
                    // A string's text, else the JSON's; a cut one ends in `…`.
                    let len = match &v.value {
                        Value::String(s) => s.len(),
                        other => serde_json::to_vec(other).unwrap().len(),
                    };
                    prop_assert!(len <= MAX_VALUE_BYTES + '…'.len_utf8(), "{}", len);
                }
            }
            let Some(consensus) = consensus else {
                // Only when no leaf was within the limits.
                prop_assert!(table.fields.is_empty());
                prop_assert!(table.truncated.is_some());
                return Ok(());
            };
            let size = serde_json::to_vec(&consensus.object).unwrap().len();
            prop_assert!(size <= MAX_TABLE_BYTES + 1024, "{}", size);
            // Identical answers, nothing left out: the consensus is the answer,
            // keys that look like numbers included.
            if others.is_empty() && table.truncated.is_none() {
                identical.set(identical.get() + 1);
                prop_assert_eq!(&consensus.object, &common);
                prop_assert!(consensus.no_majority.is_empty());
            }
            Ok(())
        })
        .unwrap();
    println!("{CASES} cases, {} of identical answers", identical.get());
}
