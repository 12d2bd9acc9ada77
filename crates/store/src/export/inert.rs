//! Making untrusted Markdown inert: raw HTML escaped outside code, script URL
//! schemes defanged, images turned into links, an open fence closed.

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag};
use std::ops::Range;

/// A block of untrusted Markdown, made inert, followed by a blank line.
/// It always starts a line after a blank one, so it parses as it did alone.
pub(super) fn push_block(out: &mut String, text: &str, escape_all: bool) {
    if text.trim().is_empty() {
        out.push_str("_(empty)_\n\n");
        return;
    }
    let inert = if escape_all {
        let mut s = String::new();
        escape_into(&mut s, text);
        s.replace('`', "\\`")
            .replace('~', "\\~")
            .replace("![", "\\![")
    } else {
        inert_markdown(text)
    };
    out.push_str(inert.trim_end());
    out.push_str("\n\n");
}

/// Untrusted text on one line, inert (for headings and list items).
pub(super) fn one_line(text: &str) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut out = String::new();
    escape_into(&mut out, &flat);
    out.replace('`', "\\`").replace("![", "\\![")
}

fn md_options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}

/// Make untrusted Markdown inert while keeping its formatting: outside code spans
/// and code blocks, `&`, `<` and `>` become entities (so no raw HTML, autolink or
/// entity trick survives) and `javascript:`/`vbscript:`/`data:` URL schemes are
/// broken with a zero-width space; code is kept verbatim (it renders as text).
/// A fenced code block left open at the end is closed, so it cannot swallow what
/// follows in the document.
pub(crate) fn inert_markdown(src: &str) -> String {
    let mut code: Vec<Range<usize>> = Vec::new();
    let mut bangs: Vec<usize> = Vec::new();
    for (event, range) in Parser::new_ext(src, md_options()).into_offset_iter() {
        match event {
            Event::Code(_) | Event::Start(Tag::CodeBlock(_)) => code.push(range),
            Event::Start(Tag::Image { .. }) if src[range.start..].starts_with('!') => {
                bangs.push(range.start)
            }
            _ => {}
        }
    }
    // Code block ranges contain the spans inside them; keep the outermost, in order.
    code.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
    bangs.sort_unstable();
    let mut out = String::with_capacity(src.len() + src.len() / 8);
    let mut pos = 0;
    for r in code {
        if r.start < pos {
            continue;
        }
        escape_text(&mut out, src, pos..r.start, &bangs);
        out.push_str(&src[r.clone()]);
        pos = r.end;
    }
    escape_text(&mut out, src, pos..src.len(), &bangs);
    if !is_inert(&out) {
        // Escaping changed how the text parses (e.g. a backtick freed from an HTML
        // attribute now opens a code span elsewhere): escape everything instead.
        out.clear();
        escape_into(&mut out, src);
    }
    if let Some(fence) = open_fence(&out) {
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&fence);
        out.push('\n');
    }
    out
}

/// Escape `src[range]` as text; the `!` of an image (at the offsets in `bangs`)
/// is escaped too, so it is a plain link that loads nothing.
fn escape_text(out: &mut String, src: &str, range: Range<usize>, bangs: &[usize]) {
    let mut pos = range.start;
    for &b in bangs.iter().filter(|&&b| range.contains(&b)) {
        escape_into(out, &src[pos..b]);
        out.push_str("\\!");
        pos = b + 1;
    }
    escape_into(out, &src[pos..range.end]);
}

/// No raw HTML, no image (it would be fetched) and no link to a script URL scheme.
pub(super) fn is_inert(md: &str) -> bool {
    Parser::new_ext(md, md_options()).all(|event| match event {
        Event::Html(_) | Event::InlineHtml(_) | Event::Start(Tag::Image { .. }) => false,
        Event::Start(Tag::Link { dest_url, .. }) => !is_script_url(&dest_url),
        _ => true,
    })
}

/// Whether a browser would take `url` for a `javascript:`, `vbscript:` or `data:`
/// URL (it drops whitespace and control characters in the scheme).
pub(crate) fn is_script_url(url: &str) -> bool {
    let scheme: String = url
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .take_while(|&c| c != ':')
        .collect::<String>()
        .to_ascii_lowercase();
    url.contains(':') && matches!(scheme.as_str(), "javascript" | "vbscript" | "data")
}

/// Escape HTML-significant characters and defang script URL schemes.
fn escape_into(out: &mut String, text: &str) {
    let start = out.len();
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    let escaped = defang_schemes(&out[start..]);
    if let Some(d) = escaped {
        out.truncate(start);
        out.push_str(&d);
    }
}

/// Insert a zero-width space after `javascript`, `vbscript` or `data` where they
/// begin a URL scheme (`javascript:`, also `javascript\:`), so no renderer makes a
/// live link of them. `None` when there is nothing to change.
fn defang_schemes(text: &str) -> Option<String> {
    const SCHEMES: [&str; 3] = ["javascript", "vbscript", "data"];
    let lower = text.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut cuts: Vec<usize> = Vec::new();
    for scheme in SCHEMES {
        let mut from = 0;
        while let Some(i) = lower[from..].find(scheme) {
            let at = from + i;
            let end = at + scheme.len();
            from = end;
            let boundary = at == 0 || !bytes[at - 1].is_ascii_alphanumeric();
            let rest = &bytes[end..];
            let colon = rest.first() == Some(&b':')
                || (rest.first() == Some(&b'\\') && rest.get(1) == Some(&b':'));
            if boundary && colon {
                cuts.push(end);
            }
        }
    }
    if cuts.is_empty() {
        return None;
    }
    cuts.sort_unstable();
    let mut out = String::with_capacity(text.len() + cuts.len() * 3);
    let mut pos = 0;
    for c in cuts {
        out.push_str(&text[pos..c]);
        out.push('\u{200B}');
        pos = c;
    }
    out.push_str(&text[pos..]);
    Some(out)
}

/// When `md` ends inside a top-level fenced code block, the fence that closes it.
fn open_fence(md: &str) -> Option<String> {
    let mut depth = 0usize;
    let mut open = None;
    for (event, range) in Parser::new_ext(md, md_options()).into_offset_iter() {
        match event {
            Event::Start(tag) => {
                if depth == 0
                    && let Tag::CodeBlock(CodeBlockKind::Fenced(_)) = tag
                {
                    open = unclosed_fence(&md[range]);
                }
                depth += 1;
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    open
}

fn unclosed_fence(block: &str) -> Option<String> {
    let mut lines = block.trim_end_matches(['\n', '\r']).lines();
    let first = lines.next()?.trim_start();
    let ch = first.chars().next()?;
    if ch != '`' && ch != '~' {
        return None;
    }
    let n = first.chars().take_while(|&c| c == ch).count();
    let closed = lines.next_back().is_some_and(|last| {
        let last = last.trim();
        last.chars().count() >= n && last.chars().all(|c| c == ch)
    });
    if closed {
        None
    } else {
        Some(std::iter::repeat_n(ch, n).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(md: &str) -> String {
        let mut html = String::new();
        pulldown_cmark::html::push_html(&mut html, Parser::new_ext(md, md_options()));
        html
    }

    #[test]
    fn html_outside_code_is_escaped() {
        let md = inert_markdown("Hi <script>alert(1)</script> & <b>bold</b>");
        assert_eq!(
            md,
            "Hi &lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"
        );
        assert!(!rendered(&md).contains("<script"));
    }

    #[test]
    fn code_is_kept_verbatim() {
        let src =
            "Use `Vec<T>` here:\n\n```rust\nlet v: Vec<u8> = a && b;\n```\n\n    <indented>\n";
        let md = inert_markdown(src);
        assert_eq!(md, src);
        let html = rendered(&md);
        assert!(html.contains("Vec&lt;T&gt;"));
        assert!(!html.contains("<indented>"));
    }

    #[test]
    fn schemes_are_defanged() {
        let md = inert_markdown("[x](javascript:alert(1)) [y](JavaScript\\:alert(1)) metadata: ok");
        let html = rendered(&md);
        assert!(
            !html.to_lowercase().contains("href=\"javascript:"),
            "{html}"
        );
        assert!(md.contains("metadata: ok"));
    }

    #[test]
    fn a_backtick_freed_by_escaping_cannot_expose_html() {
        let src = "<a title=\"`\">x</a> then `<img src=x onerror=alert(1)>` end";
        let md = inert_markdown(src);
        let html = rendered(&md);
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<a "), "{html}");
    }

    #[test]
    fn images_become_links() {
        let md = inert_markdown("see ![pixel](https://evil.example/t.png) and `![code](x)`");
        assert_eq!(
            md,
            "see \\![pixel](https://evil.example/t.png) and `![code](x)`"
        );
        let html = rendered(&md);
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains("<a href=\"https://evil.example/t.png\">pixel</a>"),
            "{html}"
        );
    }

    #[test]
    fn script_urls() {
        assert!(is_script_url("javascript:alert(1)"));
        assert!(is_script_url(" Java\tScript:x"));
        assert!(is_script_url("data:text/html,x"));
        assert!(!is_script_url("https://example.com/javascript:"));
        assert!(!is_script_url("javascript"));
    }

    #[test]
    fn an_open_fence_is_closed() {
        let md = inert_markdown("text\n\n```\n<script>x");
        assert!(md.ends_with("\n```\n"), "{md:?}");
        let doc = format!("{md}\n## After\n");
        assert!(rendered(&doc).contains("<h2>After</h2>"));
        assert_eq!(inert_markdown("```\nok\n```"), "```\nok\n```");
        assert_eq!(inert_markdown("~~~~\nok\n~~~"), "~~~~\nok\n~~~\n~~~~\n");
    }
}
