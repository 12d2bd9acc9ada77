//! The consensus object of a field table: each field's majority value put back
//! at its place.
//!
//! A JSON Pointer alone cannot say whether `/7` is the eighth element of an
//! array or the key `"7"` of an object, so each row comes with the kinds of its
//! tokens as the answers had them ([`super::fields`] records them while walking
//! the answers): a token makes an array only where an answer had an array. An
//! object key that looks like a number (`"99999999999"`) stays a key, and an
//! array is never longer than one an answer gave.

use super::fields::FieldTable;
use serde::{Deserialize, Serialize};
use serde_json::Value;

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
    /// The pointers of the fields whose majority value is cut (longer than
    /// `MAX_VALUE_BYTES`): `object` holds its beginning, as the table does.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cut: Vec<String>,
}

/// What one token of a row's pointer was in the answer that first gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Token {
    /// An object's key (whatever it looks like).
    Key,
    /// An array's index.
    Index,
}

/// The consensus object: each field's majority value at its place, the fields
/// without one listed. `tokens[i]` are the kinds of the tokens of
/// `table.fields[i].pointer`. `None` when the table has no row.
pub(super) fn consensus(table: &FieldTable, tokens: &[Vec<Token>]) -> Option<Consensus> {
    if table.fields.is_empty() {
        return None;
    }
    let mut object: Option<Value> = None;
    let mut no_majority = Vec::new();
    let mut cut = Vec::new();
    for (f, kinds) in table.fields.iter().zip(tokens) {
        match &f.majority {
            Some(v) => {
                if place(&mut object, &f.pointer, kinds, v.clone())
                    && f.values.first().is_some_and(|g| g.cut)
                {
                    cut.push(f.pointer.clone());
                }
            }
            None => no_majority.push(f.pointer.clone()),
        }
    }
    Some(Consensus {
        object: object.unwrap_or(Value::Null),
        no_majority,
        cut,
    })
}

/// Sets `value` at `pointer` in `root`, making the objects and arrays on the
/// way as `kinds` says. A place already taken by a scalar, or a key where an
/// earlier field made an array, is left as it is (then `false`); an index
/// where an earlier field made an object is that object's key.
fn place(root: &mut Option<Value>, pointer: &str, kinds: &[Token], value: Value) -> bool {
    let segments: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    let Some((last, path)) = segments.split_last() else {
        *root = Some(value);
        return true;
    };
    if kinds.len() != segments.len() {
        return false;
    }
    let container = |kind: Token| match kind {
        Token::Index => Value::Array(Vec::new()),
        Token::Key => Value::Object(Default::default()),
    };
    let mut node = root.get_or_insert_with(|| container(kinds[0]));
    for (i, seg) in path.iter().enumerate() {
        let Some(child) = slot(node, seg, kinds[i], || container(kinds[i + 1])) else {
            return false;
        };
        node = child;
    }
    let Some(leaf) = slot(node, last, kinds[path.len()], || Value::Null) else {
        return false;
    };
    *leaf = value;
    true
}

/// The child `seg` of `node`, made with `make` when absent; `None` when `node`
/// cannot hold it.
fn slot<'a>(
    node: &'a mut Value,
    seg: &str,
    kind: Token,
    make: impl FnOnce() -> Value,
) -> Option<&'a mut Value> {
    match (node, kind) {
        (Value::Object(m), _) => Some(m.entry(seg.to_string()).or_insert_with(make)),
        (Value::Array(a), Token::Index) => {
            // An index some answer's array had: no longer than that array.
            let i: usize = seg.parse().ok()?;
            if a.len() <= i {
                a.resize(i.checked_add(1)?, Value::Null);
            }
            if a[i].is_null() {
                a[i] = make();
            }
            Some(&mut a[i])
        }
        _ => None,
    }
}
