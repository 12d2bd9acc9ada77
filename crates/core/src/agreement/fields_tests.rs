//! The field-by-field table's own tests (see `fields.rs`).

use super::*;
use serde_json::json;

fn run(texts: &[&str]) -> FieldTable {
    run_both(texts).0
}

fn run_both(texts: &[&str]) -> (FieldTable, Option<Consensus>) {
    let answers: Vec<Answer<'_>> = texts.iter().copied().enumerate().collect();
    agreement(&answers)
}

fn consensus_of(texts: &[&str]) -> Option<Consensus> {
    run_both(texts).1
}

fn row<'a>(t: &'a FieldTable, pointer: &str) -> &'a FieldAgreement {
    t.fields
        .iter()
        .find(|f| f.pointer == pointer)
        .unwrap_or_else(|| panic!("no row {pointer} in {t:#?}"))
}

#[test]
fn nested_objects_and_arrays_by_index() {
    let t = run(&[
        r#"{"city":{"name":"Paris","pop":2.1},"tags":["a","b"]}"#,
        r#"{"city":{"name":"Paris","pop":2.2},"tags":["a","c"]}"#,
        r#"{"city":{"name":"Lyon","pop":2.1},"tags":["a","b"]}"#,
    ]);
    let pointers: Vec<&str> = t.fields.iter().map(|f| f.pointer.as_str()).collect();
    assert_eq!(pointers.len(), 4, "{pointers:?}");
    for p in ["/city/name", "/city/pop", "/tags/0", "/tags/1"] {
        assert!(pointers.contains(&p), "{p} in {pointers:?}");
    }
    let name = row(&t, "/city/name");
    assert_eq!(name.majority, Some(json!("Paris")));
    assert_eq!(name.values[0].results, vec![0, 1]);
    assert_eq!(name.values[1].results, vec![2]);
    assert!((name.share - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(row(&t, "/tags/0").share, 1.0);
    assert_eq!(row(&t, "/tags/1").majority, Some(json!("b")));
}

#[test]
fn numbers_equal_in_value_are_one_value_strings_are_exact() {
    let t = run(&[
        r#"{"n":1,"s":"Yes"}"#,
        r#"{"n":1.0,"s":"yes"}"#,
        r#"{"n":1e0,"s":"Yes"}"#,
    ]);
    let n = row(&t, "/n");
    assert_eq!(n.values.len(), 1);
    assert_eq!(n.values[0].value, json!(1), "the first spelling is kept");
    assert_eq!(n.share, 1.0);
    let s = row(&t, "/s");
    assert_eq!(s.values.len(), 2);
    assert_eq!(s.majority, Some(json!("Yes")));
    assert!(same(&json!({"a":[1, 2.0]}), &json!({"a":[1.0, 2]})));
    assert!(!same(&json!(1), &json!("1")));
    assert!(!same(&json!(u64::MAX), &json!(-1)));
}

#[test]
fn an_invalid_answer_holds_no_field_and_counts_against_the_majority() {
    let t = run(&[
        "{\"a\":1}",
        "```json\n{\"a\":1}\n```",
        "sorry, no JSON",
        "{\"a\":2}",
    ]);
    assert_eq!(t.answers, vec![0, 1, 2, 3]);
    assert_eq!(t.invalid, vec![2]);
    let a = row(&t, "/a");
    assert_eq!(a.values[0].results, vec![0, 1], "a fenced answer parses");
    assert_eq!(a.majority, None, "2 of 4 is not more than half");
    assert_eq!(a.share, 0.5);
}

#[test]
fn a_field_missing_in_some_answers() {
    let (t, c) = run_both(&[r#"{"a":1,"b":true}"#, r#"{"a":1}"#, r#"{"a":1,"b":true}"#]);
    let b = row(&t, "/b");
    assert_eq!(b.missing, vec![1]);
    assert_eq!(b.majority, Some(json!(true)));
    let c = c.unwrap();
    assert_eq!(c.object, json!({"a":1,"b":true}));
    assert!(c.no_majority.is_empty());
}

#[test]
fn a_tie_is_no_majority_and_the_first_given_leads() {
    let (t, c) = run_both(&[r#"{"x":"no","y":0}"#, r#"{"x":"yes","y":0}"#]);
    let x = row(&t, "/x");
    assert_eq!(x.majority, None);
    assert_eq!(x.values[0].value, json!("no"));
    assert_eq!(x.share, 0.5);
    let c = c.unwrap();
    assert_eq!(c.object, json!({"y":0}));
    assert_eq!(c.no_majority, vec!["/x".to_string()]);
}

#[test]
fn the_consensus_rebuilds_nesting_arrays_and_escaped_keys() {
    let (t, c) = run_both(&[
        r#"{"o":{"a/b":1,"t~":[1,2,{}]},"e":[]}"#,
        r#"{"o":{"a/b":1,"t~":[9,2,{}]},"e":[]}"#,
        r#"{"o":{"a/b":1,"t~":[8,2,{}]},"e":[]}"#,
    ]);
    assert!(t.fields.iter().any(|f| f.pointer == "/o/a~1b"));
    let c = c.unwrap();
    assert_eq!(c.object, json!({"o":{"a/b":1,"t~":[null,2,{}]},"e":[]}));
    assert_eq!(c.no_majority, vec!["/o/t~0/0".to_string()]);
}

#[test]
fn a_field_an_object_in_one_answer_and_a_scalar_in_another() {
    let (t, c) = run_both(&[r#"{"a":{"b":1}}"#, r#"{"a":{"b":1}}"#, r#"{"a":"flat"}"#]);
    assert_eq!(row(&t, "/a/b").missing, vec![2]);
    let a = row(&t, "/a");
    assert_eq!(a.values.len(), 2, "{a:?}");
    assert_eq!(a.majority, Some(json!({"b":1})));
    assert_eq!(c.unwrap().object, json!({"a":{"b":1}}));
}

#[test]
fn scalar_answers_and_no_valid_answer() {
    let (t, c) = run_both(&["42", "42.0", "41"]);
    assert_eq!(row(&t, "").majority, Some(json!(42)));
    assert_eq!(c.unwrap().object, json!(42));
    let none = run(&["nope", "nah"]);
    assert!(none.fields.is_empty());
    assert_eq!(none.invalid, vec![0, 1]);
    assert_eq!(consensus_of(&["nope", "nah"]), None);
}

#[test]
fn numeric_looking_keys_are_object_keys_never_array_indices() {
    for key in ["99999999999", "18446744073709551615", "0", "7"] {
        let a = format!(r#"{{"{key}":"A","list":[{{"{key}":1}}]}}"#);
        let c = consensus_of(&[&a, &a]).unwrap();
        assert_eq!(c.object, json!({key: "A", "list": [{key: 1}]}), "{key}");
    }
    // An index token is an array's where an answer had an array, a key's
    // where the first answer giving it had an object.
    let c = consensus_of(&[r#"{"a":[1,2]}"#, r#"{"a":{"1":2}}"#, r#"{"a":[0,2]}"#]).unwrap();
    assert_eq!(c.object, json!({"a":[null,2]}));
}
