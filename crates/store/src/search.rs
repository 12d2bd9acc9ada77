//! Full-text search: turning what a person types into a safe FTS5 query
//! ([`fts_query`]), keeping each run's row of the index (`runs_fts`) in step with
//! its text ([`reindex`]), and ranking matches ([`Store::search`]).

use crate::store::{SUMMARY_COLS, filter_sql, to_i64};
use crate::{ListQuery, Result, RunSummary, Store};
use rusqlite::OptionalExtension;
use rusqlite::Transaction;
use rusqlite::types::Value as Sql;

/// The FTS5 `MATCH` expression for a user's search text, or `None` when it has no
/// searchable term.
///
/// Every term is quoted, so no input is an FTS5 syntax error (`rust "async`,
/// `foo-bar`, `c++`, `NEAR(`, `col:x` are all plain text). Terms are ANDed.
/// Supported syntax: `"a phrase"` (an unclosed quote runs to the end), a trailing
/// `*` for a prefix (`tok*`), and a bare `OR` between two terms. Unquoted English
/// stop words (`the`, `how`, `to`, …) are dropped when the text has other terms.
pub fn fts_query(text: &str) -> Option<String> {
    parse(text).map(|q| q.expr)
}

/// A parsed search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Search {
    /// The FTS5 expression.
    pub expr: String,
    /// `false` when every term is a stop word: bm25 cannot tell such runs apart,
    /// so they are listed newest first.
    pub ranked: bool,
}

/// Words so common that they find nearly every run (compared lowercased).
const STOP_WORDS: &[&str] = &[
    "a", "about", "an", "and", "are", "as", "at", "be", "but", "by", "can", "do", "does", "for",
    "from", "has", "have", "how", "i", "if", "in", "is", "it", "its", "me", "my", "of", "on", "or",
    "so", "than", "that", "the", "their", "then", "there", "these", "this", "to", "was", "we",
    "what", "when", "where", "which", "who", "why", "will", "with", "you", "your",
];

fn is_stop_word(term: &str) -> bool {
    let lower = term
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    STOP_WORDS.binary_search(&lower.as_str()).is_ok()
}

/// A phrase without the stop words at its edges (`"the invoice"` is `invoice`),
/// unless nothing else would remain. The last word of a prefix phrase stays.
fn trim_stop_words(phrase: &str, trim_end: bool) -> String {
    let words: Vec<&str> = phrase.split_whitespace().collect();
    if words.iter().all(|w| is_stop_word(w)) {
        return phrase.to_string();
    }
    let start = words.iter().position(|w| !is_stop_word(w)).unwrap_or(0);
    let end = if trim_end {
        words
            .iter()
            .rposition(|w| !is_stop_word(w))
            .map_or(words.len(), |e| e + 1)
    } else {
        words.len()
    };
    words[start..end].join(" ")
}

pub(crate) fn parse(text: &str) -> Option<Search> {
    // (quoted term, is a droppable stop word, is OR)
    let mut parts: Vec<(String, bool, bool)> = Vec::new();
    let mut pending_or = false;
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&first) = chars.peek() else { break };
        let (term, is_phrase) = if first == '"' {
            chars.next();
            let mut s = String::new();
            for c in chars.by_ref() {
                if c == '"' {
                    break;
                }
                s.push(c);
            }
            (s, true)
        } else {
            let mut s = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                s.push(c);
                chars.next();
            }
            (s, false)
        };
        // A `*` right after a closing quote or at the end of a word: prefix search.
        let mut prefix = false;
        let mut term = term;
        if is_phrase && chars.peek() == Some(&'*') {
            chars.next();
            prefix = true;
        } else if !is_phrase {
            if term == "OR" {
                pending_or = !parts.is_empty();
                continue;
            }
            if term.ends_with('*') {
                term = term.trim_end_matches('*').to_string();
                prefix = true;
            }
        }
        if !term.chars().any(char::is_alphanumeric) {
            continue;
        }
        if is_phrase {
            term = trim_stop_words(&term, !prefix);
        }
        let stop = !is_phrase && !prefix && is_stop_word(&term);
        let quoted = format!(
            "\"{}\"{}",
            term.replace('"', "\"\""),
            if prefix { "*" } else { "" }
        );
        if pending_or {
            parts.push(("OR".to_string(), false, true));
            pending_or = false;
        }
        parts.push((quoted, stop, false));
    }
    let ranked = parts.iter().any(|(_, stop, or)| !stop && !or);
    if ranked {
        // Drop stop words, and any OR left dangling by that.
        let kept: Vec<&(String, bool, bool)> = parts.iter().filter(|p| !p.1).collect();
        let mut out: Vec<&str> = Vec::new();
        for (i, p) in kept.iter().enumerate() {
            if p.2 {
                let prev_term = out.last().is_some_and(|l| *l != "OR");
                let next_term = kept.get(i + 1).is_some_and(|n| !n.2);
                if !(prev_term && next_term) {
                    continue;
                }
            }
            out.push(&p.0);
        }
        Some(Search {
            expr: out.join(" "),
            ranked,
        })
    } else if parts.iter().any(|p| !p.2) {
        let expr: Vec<&str> = parts.iter().map(|p| p.0.as_str()).collect();
        Some(Search {
            expr: expr.join(" "),
            ranked,
        })
    } else {
        None
    }
}

/// How many of the newest matching runs [`Store::search`] ranks first.
pub const SEARCH_TIER: usize = 1000;

impl Store {
    /// Full-text search over prompts, instructions, answers and resolved answers,
    /// with `q`'s filters and page (`limit`, `offset`; `after` is the list's,
    /// not used: the order is by rank). See [`crate::fts_query`] for the accepted
    /// syntax; text with no searchable term finds nothing.
    ///
    /// Ranking: bm25 (a hit in the prompt weighs most, then the resolved answer),
    /// over the newest [`SEARCH_TIER`] matching runs first, then over the next
    /// 2×, 4×, … older ones: a search that matches up to 1,000 runs is ranked
    /// purely by bm25, and one that matches most of a large history stays fast and
    /// favours recent runs. Text made only of stop words lists its runs newest
    /// first.
    pub fn search(&self, query: &str, q: &ListQuery) -> Result<Vec<RunSummary>> {
        let Some(parsed) = parse(query) else {
            return Ok(Vec::new());
        };
        let limit = q.limit() as usize;
        let need = q.offset.saturating_add(limit);
        let mut filter_args: Vec<Sql> = Vec::new();
        let filter = filter_sql(q, &mut filter_args);

        if !parsed.ranked {
            let mut args = vec![Sql::Text(parsed.expr)];
            args.extend(filter_args);
            args.push(Sql::Integer(q.limit()));
            args.push(Sql::Integer(to_i64(q.offset as u64)));
            let sql = format!(
                "SELECT {SUMMARY_COLS} FROM runs_fts f JOIN runs r ON r.seq = f.rowid \
                 WHERE runs_fts MATCH ? AND {filter} ORDER BY f.rowid DESC LIMIT ? OFFSET ?"
            );
            return self.summaries(&sql, args);
        }

        // Tiers of the match stream, newest first: [lower, upper) in rowids.
        let mut out: Vec<RunSummary> = Vec::new();
        let mut seen = 0usize;
        let mut upper: Option<i64> = None;
        let mut tier = SEARCH_TIER;
        loop {
            let lower: Option<i64> = {
                let sql = format!(
                    "SELECT rowid FROM runs_fts WHERE runs_fts MATCH ?1 {} \
                     ORDER BY rowid DESC LIMIT 1 OFFSET ?2",
                    if upper.is_some() {
                        "AND rowid < ?3"
                    } else {
                        ""
                    }
                );
                let mut stmt = self.conn.prepare_cached(&sql)?;
                let mut args = vec![
                    Sql::Text(parsed.expr.clone()),
                    Sql::Integer(to_i64(tier as u64 - 1)),
                ];
                args.extend(upper.map(Sql::Integer));
                stmt.query_row(rusqlite::params_from_iter(args), |r| r.get(0))
                    .optional()?
            };
            let mut bounds = String::new();
            let mut args = vec![Sql::Text(parsed.expr.clone())];
            if let Some(l) = lower {
                bounds.push_str(" AND rowid >= ?");
                args.push(Sql::Integer(l));
            }
            if let Some(u) = upper {
                bounds.push_str(" AND rowid < ?");
                args.push(Sql::Integer(u));
            }
            let wanted = need - seen;
            let inner_limit = if filter_args.is_empty() {
                args.push(Sql::Integer(to_i64(wanted as u64)));
                " LIMIT ?"
            } else {
                ""
            };
            args.extend(filter_args.iter().cloned());
            args.push(Sql::Integer(to_i64(wanted as u64)));
            let sql = format!(
                "SELECT {SUMMARY_COLS} FROM \
                   (SELECT rowid AS seq, rank FROM runs_fts \
                     WHERE runs_fts MATCH ?{bounds} ORDER BY rank{inner_limit}) h \
                 JOIN runs r ON r.seq = h.seq WHERE {filter} \
                 ORDER BY h.rank, r.seq LIMIT ?"
            );
            for s in self.summaries(&sql, args)? {
                if seen >= q.offset {
                    out.push(s);
                }
                seen += 1;
            }
            if seen >= need {
                break;
            }
            match lower {
                Some(l) => upper = Some(l),
                None => break,
            }
            tier = tier.saturating_mul(2);
        }
        Ok(out)
    }
}

/// Rewrite a run's full-text row from its current text (same transaction). The
/// names of its attachments are indexed with its prompt.
pub(crate) fn reindex(tx: &Transaction<'_>, run_id: &str) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO runs_fts (rowid, input, instructions, answers, resolved) \
         SELECT r.seq, \
                r.input || coalesce(char(10) || (SELECT group_concat(a.name, char(10)) \
                  FROM run_attachments a WHERE a.run_id = r.id), ''), \
                r.instructions, \
                (SELECT group_concat(m.data, char(10)) FROM model_results m \
                  WHERE m.run_id = r.id), \
                r.data \
         FROM runs r WHERE r.id = ?1",
    )?
    .execute([run_id])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{STOP_WORDS, fts_query, parse};

    #[test]
    fn quotes_every_term() {
        assert_eq!(fts_query("rust async").unwrap(), r#""rust" "async""#);
        assert_eq!(fts_query(r#"rust "async"#).unwrap(), r#""rust" "async""#);
        assert_eq!(fts_query("foo-bar").unwrap(), r#""foo-bar""#);
        assert_eq!(fts_query("c++").unwrap(), r#""c++""#);
        assert_eq!(fts_query(r#"say"hi"#).unwrap(), r#""say""hi""#);
        assert_eq!(fts_query("NEAR(a b)").unwrap(), r#""NEAR(a" "b)""#);
    }

    #[test]
    fn phrases_prefixes_and_or() {
        assert_eq!(fts_query(r#""x y" c"#).unwrap(), r#""x y" "c""#);
        assert_eq!(fts_query("tok* x").unwrap(), r#""tok"* "x""#);
        assert_eq!(fts_query(r#""x y"*"#).unwrap(), r#""x y"*"#);
        assert_eq!(fts_query("x OR y").unwrap(), r#""x" OR "y""#);
        assert_eq!(fts_query("OR x OR").unwrap(), r#""x""#);
        assert_eq!(fts_query("x or y").unwrap(), r#""x" "y""#);
    }

    #[test]
    fn stop_words_are_dropped_unless_alone_or_quoted() {
        assert_eq!(fts_query("how to use tokio?").unwrap(), r#""use" "tokio?""#);
        assert_eq!(fts_query("The Rust book").unwrap(), r#""Rust" "book""#);
        assert_eq!(fts_query(r#""the rust" book"#).unwrap(), r#""rust" "book""#);
        assert_eq!(
            fts_query(r#""cost of living in""#).unwrap(),
            r#""cost of living""#
        );
        assert_eq!(fts_query(r#""the who""#).unwrap(), r#""the who""#);
        assert_eq!(fts_query(r#""rust in"*"#).unwrap(), r#""rust in"*"#);
        assert_eq!(fts_query("the OR rust").unwrap(), r#""rust""#);
        assert_eq!(fts_query("a OR b").unwrap(), r#""b""#);
        assert_eq!(fts_query("x OR the OR y").unwrap(), r#""x" OR "y""#);
        let all_stop = parse("the in").unwrap();
        assert_eq!(all_stop.expr, r#""the" "in""#);
        assert!(!all_stop.ranked);
        assert!(parse("rust").unwrap().ranked);
        assert!(parse("th*").unwrap().ranked);
        let mut sorted = STOP_WORDS.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, STOP_WORDS, "binary search needs them sorted");
    }

    #[test]
    fn nothing_searchable() {
        assert_eq!(fts_query(""), None);
        assert_eq!(fts_query("   "), None);
        assert_eq!(fts_query(r#"" * ++ -- ""#), None);
        assert_eq!(fts_query("OR"), None);
    }
}
