//! Export of stored runs: pure functions over `&[StoredRun]`.
//!
//! Model output (and anything pasted into a prompt) is untrusted: every format
//! leaves it inert. HTML is rendered from Markdown and sanitised (no script, no
//! event handler, no `javascript:` link, nothing loaded from the network); the
//! Markdown export escapes HTML outside code and defangs script URL schemes; the
//! CSV export guards cells against formula injection.

mod agreement;
mod claims;
mod csv_export;
mod facts;
mod html;
mod inert;
mod json;
mod markdown;

pub use csv_export::to_csv;
pub use facts::{Label, model_labels};
pub use html::to_html;
pub use json::{import_json, import_runs_json, to_json};
pub use markdown::to_markdown;

/// `$0.0123`; small costs keep four significant decimals.
pub(crate) fn fmt_cost(usd: f64) -> String {
    if usd == 0.0 {
        "$0".to_string()
    } else if usd.abs() >= 1.0 {
        format!("${usd:.2}")
    } else {
        format!("${usd:.4}")
    }
}

/// `912 ms`, `1.8 s`, `2 min 5 s`.
pub(crate) fn fmt_duration(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else {
        format!("{} min {} s", ms / 60_000, ms % 60_000 / 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(fmt_cost(0.0), "$0");
        assert_eq!(fmt_cost(0.01234), "$0.0123");
        assert_eq!(fmt_cost(2.5), "$2.50");
        assert_eq!(fmt_duration(912), "912 ms");
        assert_eq!(fmt_duration(1840), "1.8 s");
        assert_eq!(fmt_duration(125_000), "2 min 5 s");
    }
}
