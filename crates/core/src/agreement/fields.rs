//! Field-by-field agreement of structured answers (runs with `output_schema`):
//! every leaf field by JSON Pointer, the values the answers give it grouped, the
//! majority value and its share, and a consensus object rebuilt from the
//! majority values.
//!
//! **Leaves**: scalars (strings, numbers, booleans, `null`) and empty objects or
//! arrays; nested objects are walked by key, arrays by index (`/tags/0`).
//!
//! **Equal values**: numbers are equal when numerically equal (`1` and `1.0`),
//! strings only when exactly equal, objects and arrays when equal member by
//! member under the same rule.
//!
//! **Majority**: the value held by more than half of the answers counted, every
//! model that answered. An answer that is not valid JSON, or that lacks the
//! field, holds no value for it and so counts against every value: with four
//! answers a value needs three. A tie is never a majority.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Each leaf field of the structured answers and the values the answers give it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FieldTable {
    /// The answers counted: positions in `model_results` of the models that
    /// answered.
    pub answers: Vec<usize>,
    /// Those of them whose answer is not valid JSON (they hold no field).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invalid: Vec<usize>,
    /// One row per leaf field, in the order the answers first give them.
    pub fields: Vec<FieldAgreement>,
}

/// One leaf field across the answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FieldAgreement {
    /// The field's JSON Pointer (RFC 6901), e.g. `/address/city` or `/tags/0`.
    pub pointer: String,
    /// The distinct values given, the most held first (ties in the order first
    /// given).
    pub values: Vec<FieldValue>,
    /// Answers that are valid JSON but lack the field (positions in
    /// `model_results`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<usize>,
    /// The value more than half of the answers give, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub majority: Option<Value>,
    /// The share of the answers giving the most held value, 0 to 1.
    pub share: f64,
}

/// One value of a field and the answers that give it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FieldValue {
    /// As the first answer to give it wrote it (`1` and `1.0` are one value).
    pub value: Value,
    /// Positions in `model_results`.
    pub results: Vec<usize>,
}

/// The answer the majority gives, field by field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Consensus {
    /// Every field with a majority, at its place; an array position without a
    /// majority of its own is `null` when a later one has one.
    pub object: Value,
    /// The pointers of the fields without a majority, left out of `object`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub no_majority: Vec<String>,
}

/// One answer to compare: its position in `model_results` and its text.
pub type Answer<'a> = (usize, &'a str);

/// The field table of `answers` (those of the models that answered).
pub fn table(answers: &[Answer<'_>]) -> FieldTable {
    let mut parsed: Vec<(usize, Value)> = Vec::new();
    let mut invalid = Vec::new();
    for &(at, text) in answers {
        match serde_json::from_str::<Value>(crate::resolution::strip_code_fence(text)) {
            Ok(v) => parsed.push((at, v)),
            Err(_) => invalid.push(at),
        }
    }
    let mut pointers: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (_, v) in &parsed {
        let mut found = Vec::new();
        leaves(v, &mut String::new(), &mut found);
        for p in found {
            if seen.insert(p.clone()) {
                pointers.push(p);
            }
        }
    }
    let counted = answers.len();
    let fields = pointers
        .into_iter()
        .map(|pointer| field(pointer, &parsed, counted))
        .collect();
    FieldTable {
        answers: answers.iter().map(|&(at, _)| at).collect(),
        invalid,
        fields,
    }
}

fn field(pointer: String, parsed: &[(usize, Value)], counted: usize) -> FieldAgreement {
    let mut values: Vec<FieldValue> = Vec::new();
    let mut missing = Vec::new();
    for (at, v) in parsed {
        let Some(value) = v.pointer(&pointer) else {
            missing.push(*at);
            continue;
        };
        match values.iter_mut().find(|g| same(&g.value, value)) {
            Some(g) => g.results.push(*at),
            None => values.push(FieldValue {
                value: value.clone(),
                results: vec![*at],
            }),
        }
    }
    // Stable: among equally held values the first given stays first.
    values.sort_by_key(|g| std::cmp::Reverse(g.results.len()));
    let top = values.first().map_or(0, |g| g.results.len());
    let majority = (top * 2 > counted).then(|| values[0].value.clone());
    FieldAgreement {
        pointer,
        values,
        missing,
        majority,
        share: if counted == 0 {
            0.0
        } else {
            top as f64 / counted as f64
        },
    }
}

/// The pointers of `v`'s leaves, in document order.
fn leaves(v: &Value, prefix: &mut String, out: &mut Vec<String>) {
    let len = prefix.len();
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, child) in m {
                prefix.push('/');
                prefix.push_str(&k.replace('~', "~0").replace('/', "~1"));
                leaves(child, prefix, out);
                prefix.truncate(len);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for (i, child) in a.iter().enumerate() {
                prefix.push('/');
                prefix.push_str(&i.to_string());
                leaves(child, prefix, out);
                prefix.truncate(len);
            }
        }
        _ => out.push(prefix.clone()),
    }
}

/// Equal as the table groups values: numbers numerically, the rest exactly.
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            match (x.as_i64(), y.as_i64(), x.as_u64(), y.as_u64()) {
                (Some(x), Some(y), _, _) => x == y,
                (_, _, Some(x), Some(y)) => x == y,
                _ => x.as_f64() == y.as_f64(),
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, a)| y.get(k).is_some_and(|b| same(a, b)))
        }
        _ => a == b,
    }
}

/// The consensus object: each field's majority value at its place, the fields
/// without one listed. `None` when no answer was valid JSON.
pub fn consensus(table: &FieldTable) -> Option<Consensus> {
    if table.fields.is_empty() {
        return None;
    }
    let mut object: Option<Value> = None;
    let mut no_majority = Vec::new();
    for f in &table.fields {
        match &f.majority {
            Some(v) => place(&mut object, &f.pointer, v.clone()),
            None => no_majority.push(f.pointer.clone()),
        }
    }
    Some(Consensus {
        object: object.unwrap_or(Value::Null),
        no_majority,
    })
}

/// Sets `value` at `pointer` in `root`, making the objects and arrays on the
/// way (an index segment makes an array when its container is new). A place
/// already taken by a scalar is left as it is.
fn place(root: &mut Option<Value>, pointer: &str, value: Value) {
    let segments: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    let Some((last, path)) = segments.split_last() else {
        *root = Some(value);
        return;
    };
    let container = |next: &str| {
        if next.parse::<usize>().is_ok() {
            Value::Array(Vec::new())
        } else {
            Value::Object(Default::default())
        }
    };
    let mut node = root.get_or_insert_with(|| container(&segments[0]));
    for (i, seg) in path.iter().enumerate() {
        let next = &segments[i + 1];
        let Some(child) = slot(node, seg, || container(next)) else {
            return;
        };
        node = child;
    }
    if let Some(leaf) = slot(node, last, || Value::Null) {
        *leaf = value;
    }
}

/// The child `seg` of `node`, made with `make` when absent; `None` when `node`
/// cannot hold it.
fn slot<'a>(node: &'a mut Value, seg: &str, make: impl FnOnce() -> Value) -> Option<&'a mut Value> {
    match node {
        Value::Object(m) => Some(m.entry(seg.to_string()).or_insert_with(make)),
        Value::Array(a) => {
            let i: usize = seg.parse().ok()?;
            if a.len() <= i {
                a.resize(i + 1, Value::Null);
            }
            if a[i].is_null() {
                a[i] = make();
            }
            Some(&mut a[i])
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(texts: &[&str]) -> FieldTable {
        let answers: Vec<Answer<'_>> = texts.iter().copied().enumerate().collect();
        table(&answers)
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
        let t = run(&[r#"{"a":1,"b":true}"#, r#"{"a":1}"#, r#"{"a":1,"b":true}"#]);
        let b = row(&t, "/b");
        assert_eq!(b.missing, vec![1]);
        assert_eq!(b.majority, Some(json!(true)));
        let c = consensus(&t).unwrap();
        assert_eq!(c.object, json!({"a":1,"b":true}));
        assert!(c.no_majority.is_empty());
    }

    #[test]
    fn a_tie_is_no_majority_and_the_first_given_leads() {
        let t = run(&[r#"{"x":"no","y":0}"#, r#"{"x":"yes","y":0}"#]);
        let x = row(&t, "/x");
        assert_eq!(x.majority, None);
        assert_eq!(x.values[0].value, json!("no"));
        assert_eq!(x.share, 0.5);
        let c = consensus(&t).unwrap();
        assert_eq!(c.object, json!({"y":0}));
        assert_eq!(c.no_majority, vec!["/x".to_string()]);
    }

    #[test]
    fn the_consensus_rebuilds_nesting_arrays_and_escaped_keys() {
        let t = run(&[
            r#"{"o":{"a/b":1,"t~":[1,2,{}]},"e":[]}"#,
            r#"{"o":{"a/b":1,"t~":[9,2,{}]},"e":[]}"#,
            r#"{"o":{"a/b":1,"t~":[8,2,{}]},"e":[]}"#,
        ]);
        assert!(t.fields.iter().any(|f| f.pointer == "/o/a~1b"));
        let c = consensus(&t).unwrap();
        assert_eq!(c.object, json!({"o":{"a/b":1,"t~":[null,2,{}]},"e":[]}));
        assert_eq!(c.no_majority, vec!["/o/t~0/0".to_string()]);
    }

    #[test]
    fn a_field_an_object_in_one_answer_and_a_scalar_in_another() {
        let t = run(&[r#"{"a":{"b":1}}"#, r#"{"a":{"b":1}}"#, r#"{"a":"flat"}"#]);
        assert_eq!(row(&t, "/a/b").missing, vec![2]);
        let a = row(&t, "/a");
        assert_eq!(a.values.len(), 2, "{a:?}");
        assert_eq!(a.majority, Some(json!({"b":1})));
        assert_eq!(consensus(&t).unwrap().object, json!({"a":{"b":1}}));
    }

    #[test]
    fn scalar_answers_and_no_valid_answer() {
        let t = run(&["42", "42.0", "41"]);
        assert_eq!(row(&t, "").majority, Some(json!(42)));
        assert_eq!(consensus(&t).unwrap().object, json!(42));
        let none = run(&["nope", "nah"]);
        assert!(none.fields.is_empty());
        assert_eq!(none.invalid, vec![0, 1]);
        assert_eq!(consensus(&none), None);
    }
}
