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
//!
//! **Limits**: the table is stored with the run and sent to the window, so it
//! has at most [`MAX_FIELD_ROWS`] rows and [`MAX_TABLE_BYTES`] of rows' JSON in
//! all; answers are walked [`MAX_FIELD_DEPTH`] deep, under pointers of at most
//! [`MAX_POINTER_BYTES`]; a value longer than [`MAX_VALUE_BYTES`] is given as
//! its beginning (`cut`). What they leave out is counted in
//! [`FieldTable::truncated`]. A row's values are grouped by hash, so its time
//! grows with the answers, not their square.

use super::consensus::{self, Consensus, Token};
use super::values::{bounded, hash_value};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{HashMap, HashSet, hash_map::RandomState};
use std::hash::{BuildHasher, Hasher};

pub use super::values::same;

/// The most rows a field table has; leaves past them are counted as left out.
pub const MAX_FIELD_ROWS: usize = 1_000;
/// The rows' JSON text in all at most, in bytes; the rows after the one that
/// would pass it are left out.
pub const MAX_TABLE_BYTES: usize = 1024 * 1024;
/// How deep answers are walked: a non-empty object or array at this depth is
/// not walked (counted in `truncated.subtrees`).
pub const MAX_FIELD_DEPTH: usize = 32;
/// The longest pointer a row has, in bytes: what lies under a longer one is
/// not walked (counted in `truncated.subtrees`).
pub const MAX_POINTER_BYTES: usize = 512;
/// The longest value a row gives, in bytes of its JSON text (a string: of its
/// text): a longer one is its beginning followed by `…`, marked `cut`.
pub const MAX_VALUE_BYTES: usize = 4 * 1024;

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
    /// What the limits left out, when they left out anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated: Option<Truncated>,
}

/// What a field table's limits left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Truncated {
    /// Leaf fields given no row (past [`MAX_FIELD_ROWS`] rows or
    /// [`MAX_TABLE_BYTES`]), counted once for each answer giving one.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub leaves: u64,
    /// Parts of answers not walked: an object or array nested deeper than
    /// [`MAX_FIELD_DEPTH`], or under a pointer longer than
    /// [`MAX_POINTER_BYTES`].
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub subtrees: u64,
    /// Values given as their beginning ([`MAX_VALUE_BYTES`]).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub values: u64,
}

impl std::fmt::Display for Truncated {
    /// What the exports and the CLI say under the table, e.g. "The table's
    /// limits left out 1006 values (past 1000 rows or 1 MiB); 2 parts nested
    /// too deep or under too long a pointer; 3 long values are cut."
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if self.leaves > 0 {
            parts.push(format!(
                "{} values (past {MAX_FIELD_ROWS} rows or {} MiB)",
                self.leaves,
                MAX_TABLE_BYTES >> 20
            ));
        }
        if self.subtrees > 0 {
            parts.push(format!(
                "{} parts nested too deep or under too long a pointer",
                self.subtrees
            ));
        }
        if self.values > 0 {
            parts.push(format!("{} long values are cut", self.values));
        }
        write!(f, "The table's limits left out {}.", parts.join("; "))
    }
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
    /// The value was longer than [`MAX_VALUE_BYTES`]: `value` is a string, its
    /// beginning (of a string's text, or of an object's or array's JSON) and
    /// `…`. Answers are still grouped by the whole value.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cut: bool,
}

/// One answer to compare: its position in `model_results` and its text.
pub type Answer<'a> = (usize, &'a str);

/// The field table of `answers` (those of the models that answered) and the
/// consensus of its majority values (`None` when the table has no row: no
/// answer was valid JSON, or none had a leaf within the limits).
pub fn agreement(answers: &[Answer<'_>]) -> (FieldTable, Option<Consensus>) {
    let (table, tokens) = table_and_tokens(answers);
    let consensus = consensus::consensus(&table, &tokens);
    (table, consensus)
}

/// The field table of `answers` (those of the models that answered).
pub fn table(answers: &[Answer<'_>]) -> FieldTable {
    table_and_tokens(answers).0
}

/// The table, and the kinds of each row's pointer tokens.
fn table_and_tokens(answers: &[Answer<'_>]) -> (FieldTable, Vec<Vec<Token>>) {
    let mut parsed: Vec<(usize, Value)> = Vec::new();
    let mut invalid = Vec::new();
    for &(at, text) in answers {
        match serde_json::from_str::<Value>(crate::resolution::strip_code_fence(text)) {
            Ok(v) => parsed.push((at, v)),
            Err(_) => invalid.push(at),
        }
    }
    let mut walk = Walk::default();
    for (_, v) in &parsed {
        walk.visit(v, &mut String::new(), &mut Vec::new());
    }
    let mut left = Truncated {
        leaves: walk.leaves,
        subtrees: walk.subtrees,
        values: 0,
    };
    let counted = answers.len();
    let hashing = RandomState::new();
    let mut budget = Budget(MAX_TABLE_BYTES);
    let mut fields = Vec::new();
    let mut tokens = Vec::new();
    let mut rows = walk.rows.into_iter();
    for (pointer, kinds) in rows.by_ref() {
        let (row, cut) = field(pointer, &parsed, counted, &hashing);
        if serde_json::to_writer(&mut budget, &row).is_err() {
            left.leaves += given(&row.pointer, &parsed);
            break;
        }
        left.values += cut;
        fields.push(row);
        tokens.push(kinds);
    }
    for (pointer, _) in rows {
        left.leaves += given(&pointer, &parsed);
    }
    let table = FieldTable {
        answers: answers.iter().map(|&(at, _)| at).collect(),
        invalid,
        fields,
        truncated: (left != Truncated::default()).then_some(left),
    };
    (table, tokens)
}

/// How many of the answers give `pointer`.
fn given(pointer: &str, parsed: &[(usize, Value)]) -> u64 {
    parsed
        .iter()
        .filter(|(_, v)| v.pointer(pointer).is_some())
        .count() as u64
}

/// The row of `pointer`, and how many of its values were cut.
fn field(
    pointer: String,
    parsed: &[(usize, Value)],
    counted: usize,
    hashing: &RandomState,
) -> (FieldAgreement, u64) {
    let mut values: Vec<FieldValue> = Vec::new();
    // The whole first value of each group, and the groups by its hash.
    let mut whole: Vec<&Value> = Vec::new();
    let mut by_hash: HashMap<u64, Vec<usize>> = HashMap::new();
    let mut missing = Vec::new();
    let mut cut = 0;
    for (at, v) in parsed {
        let Some(value) = v.pointer(&pointer) else {
            missing.push(*at);
            continue;
        };
        let mut h = hashing.build_hasher();
        hash_value(value, hashing, &mut h);
        let groups = by_hash.entry(h.finish()).or_default();
        match groups.iter().find(|&&g| same(whole[g], value)) {
            Some(&g) => values[g].results.push(*at),
            None => {
                groups.push(values.len());
                whole.push(value);
                let (value, was_cut) = bounded(value);
                cut += u64::from(was_cut);
                values.push(FieldValue {
                    value,
                    results: vec![*at],
                    cut: was_cut,
                });
            }
        }
    }
    // Stable: among equally held values the first given stays first.
    values.sort_by_key(|g| std::cmp::Reverse(g.results.len()));
    let top = values.first().map_or(0, |g| g.results.len());
    let majority = (top * 2 > counted).then(|| values[0].value.clone());
    let row = FieldAgreement {
        pointer,
        values,
        missing,
        majority,
        share: if counted == 0 {
            0.0
        } else {
            top as f64 / counted as f64
        },
    };
    (row, cut)
}

/// The leaves of the answers, walked within the limits.
#[derive(Default)]
struct Walk {
    /// Each row's pointer and its tokens' kinds, in the order first given.
    rows: Vec<(String, Vec<Token>)>,
    seen: HashSet<String>,
    leaves: u64,
    subtrees: u64,
}

impl Walk {
    fn visit(&mut self, v: &Value, pointer: &mut String, kinds: &mut Vec<Token>) {
        let len = pointer.len();
        let nested = match v {
            Value::Object(m) => !m.is_empty(),
            Value::Array(a) => !a.is_empty(),
            _ => false,
        };
        if !nested {
            self.leaf(pointer, kinds);
        } else if kinds.len() >= MAX_FIELD_DEPTH {
            self.subtrees += 1;
        } else if let Value::Object(m) = v {
            for (k, child) in m {
                pointer.push('/');
                pointer.push_str(&k.replace('~', "~0").replace('/', "~1"));
                self.enter(child, pointer, kinds, Token::Key);
                pointer.truncate(len);
            }
        } else if let Value::Array(a) = v {
            for (i, child) in a.iter().enumerate() {
                pointer.push('/');
                pointer.push_str(&i.to_string());
                self.enter(child, pointer, kinds, Token::Index);
                pointer.truncate(len);
            }
        }
    }

    fn enter(&mut self, child: &Value, pointer: &mut String, kinds: &mut Vec<Token>, kind: Token) {
        if pointer.len() > MAX_POINTER_BYTES {
            self.subtrees += 1;
            return;
        }
        kinds.push(kind);
        self.visit(child, pointer, kinds);
        kinds.pop();
    }

    fn leaf(&mut self, pointer: &str, kinds: &[Token]) {
        if self.seen.contains(pointer) {
            return;
        }
        if self.rows.len() >= MAX_FIELD_ROWS {
            self.leaves += 1;
            return;
        }
        self.seen.insert(pointer.to_string());
        self.rows.push((pointer.to_string(), kinds.to_vec()));
    }
}

/// A writer that takes `.0` bytes more at most, then fails.
struct Budget(usize);

impl std::io::Write for Budget {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.len() > self.0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        self.0 -= buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
#[path = "fields_tests.rs"]
mod tests;
