//! Turning what a person types into a safe FTS5 query.

/// The FTS5 `MATCH` expression for a user's search text, or `None` when it has no
/// searchable term.
///
/// Every term is quoted, so no input is an FTS5 syntax error (`rust "async`,
/// `foo-bar`, `c++`, `NEAR(`, `col:x` are all plain text). Terms are ANDed.
/// Supported syntax: `"a phrase"` (an unclosed quote runs to the end), a trailing
/// `*` for a prefix (`tok*`), and a bare `OR` between two terms.
pub fn fts_query(text: &str) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
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
        let quoted = format!(
            "\"{}\"{}",
            term.replace('"', "\"\""),
            if prefix { "*" } else { "" }
        );
        if pending_or {
            parts.push("OR".to_string());
            pending_or = false;
        }
        parts.push(quoted);
    }
    if parts.is_empty() {
        None
    } else {
        Some(parts.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::fts_query;

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
        assert_eq!(fts_query(r#""a b" c"#).unwrap(), r#""a b" "c""#);
        assert_eq!(fts_query("tok* x").unwrap(), r#""tok"* "x""#);
        assert_eq!(fts_query(r#""a b"*"#).unwrap(), r#""a b"*"#);
        assert_eq!(fts_query("a OR b").unwrap(), r#""a" OR "b""#);
        assert_eq!(fts_query("OR a OR").unwrap(), r#""a""#);
        assert_eq!(fts_query("a or b").unwrap(), r#""a" "or" "b""#);
    }

    #[test]
    fn nothing_searchable() {
        assert_eq!(fts_query(""), None);
        assert_eq!(fts_query("   "), None);
        assert_eq!(fts_query(r#"" * ++ -- ""#), None);
        assert_eq!(fts_query("OR"), None);
    }
}
