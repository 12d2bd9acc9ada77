//! The values of a field table's rows: when two are one value ([`same`]), a
//! hash that agrees with it (so a row groups its values in time proportional
//! to the answers), and a value bounded to [`MAX_VALUE_BYTES`] ([`bounded`]).

use super::fields::MAX_VALUE_BYTES;
use serde_json::Value;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hash, Hasher};

/// `v` as a row gives it: a copy, or its beginning when longer than
/// [`MAX_VALUE_BYTES`] (then `true`). Reads at most that much of `v`'s JSON.
pub(super) fn bounded(v: &Value) -> (Value, bool) {
    let head = match v {
        Value::String(s) if s.len() > MAX_VALUE_BYTES => {
            s[..s.floor_char_boundary(MAX_VALUE_BYTES)].to_string()
        }
        Value::Array(_) | Value::Object(_) => {
            let mut out = Head(Vec::new());
            if serde_json::to_writer(&mut out, v).is_ok() {
                return (v.clone(), false);
            }
            let bytes = out.0;
            match std::str::from_utf8(&bytes) {
                Ok(s) => s.to_string(),
                Err(e) => String::from_utf8_lossy(&bytes[..e.valid_up_to()]).into_owned(),
            }
        }
        _ => return (v.clone(), false),
    };
    (Value::String(head + "…"), true)
}

/// A writer keeping the first [`MAX_VALUE_BYTES`] bytes, failing past them.
struct Head(Vec<u8>);

impl std::io::Write for Head {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let room = MAX_VALUE_BYTES - self.0.len();
        self.0.extend_from_slice(&buf[..buf.len().min(room)]);
        if buf.len() > room {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A hash under which values [`same`] treats as equal are equal: numbers by
/// their `f64` value, an object's members in any order.
pub(super) fn hash_value(v: &Value, hashing: &RandomState, h: &mut impl Hasher) {
    match v {
        Value::Null => 0u8.hash(h),
        Value::Bool(b) => (1u8, b).hash(h),
        Value::Number(n) => {
            // `same` equal implies `as_f64` equal; 0.0 and -0.0 are one.
            let f = n.as_f64().unwrap_or(0.0);
            (2u8, if f == 0.0 { 0 } else { f.to_bits() }).hash(h);
        }
        Value::String(s) => (3u8, s).hash(h),
        Value::Array(a) => {
            (4u8, a.len()).hash(h);
            for x in a {
                hash_value(x, hashing, h);
            }
        }
        Value::Object(m) => {
            let mut sum = 0u64;
            for (k, x) in m {
                let mut member = hashing.build_hasher();
                k.hash(&mut member);
                hash_value(x, hashing, &mut member);
                sum = sum.wrapping_add(member.finish());
            }
            (5u8, m.len(), sum).hash(h);
        }
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
