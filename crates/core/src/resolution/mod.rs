//! The resolutions, what makes one answer of the panel's: the summary's
//! consolidation prompt ([`consolidation`]) and the multiple-choice vote
//! ([`vote`]), with what both use. The engine's resolution step
//! (`engine/resolution.rs`) calls them; they call no provider.
//!
//! Extending it: a new resolution is a variant of [`crate::Resolution`], a
//! module here with its pure logic, and its arm in the engine's step.

pub mod consolidation;
pub mod vote;

/// `A`, `B`, …, `Z`, `AA`, `AB`, …
pub fn label(n: usize) -> String {
    let mut n = n;
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (n % 26) as u8);
        if n < 26 {
            break;
        }
        n = n / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).expect("ascii")
}

/// Models in JSON mode sometimes wrap their JSON in a Markdown code fence.
pub(crate) fn strip_code_fence(text: &str) -> &str {
    let t = text.trim();
    if let Some(rest) = t.strip_prefix("```")
        && let Some(body) = rest.strip_suffix("```")
    {
        let body = body.trim_start_matches(|c: char| c.is_ascii_alphanumeric());
        return body.trim();
    }
    t
}
