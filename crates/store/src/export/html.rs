//! One self-contained, script-free HTML page.

use super::{fmt_cost, fmt_duration};
use crate::StoredRun;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use std::fmt::Write as _;

const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

const STYLE: &str = r#"
:root{--bg:#fff;--fg:#1d1f23;--muted:#5b6270;--card:#f6f7f9;--line:#dde1e6;--accent:#2457c5;--bad:#b42318;--code:#eef0f3}
@media (prefers-color-scheme:dark){:root{--bg:#15171b;--fg:#e4e6ea;--muted:#9aa2af;--card:#1e2127;--line:#333842;--accent:#7aa5ff;--bad:#ff8a7a;--code:#262a31}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1400px;padding:1.5rem;background:var(--bg);color:var(--fg);font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
h1{font-size:1.5rem;margin:0 0 .25rem}
h2{font-size:1.2rem;margin:0 0 .25rem;word-break:break-all}
h3{font-size:1rem;margin:1.25rem 0 .5rem;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
h4{font-size:1rem;margin:0 0 .25rem;word-break:break-all}
a{color:var(--accent)}
.run{border-top:2px solid var(--line);padding:1.5rem 0}
.facts,.stats{color:var(--muted);font-size:.85rem;margin:0 0 .5rem}
.text{white-space:pre-wrap;word-wrap:break-word;background:var(--card);border:1px solid var(--line);border-radius:6px;padding:.75rem;margin:0}
.answers{display:grid;grid-template-columns:repeat(auto-fit,minmax(20rem,1fr));gap:1rem}
.answer,.resolved{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:1rem;min-width:0;overflow-wrap:anywhere}
.answer.failed{border-color:var(--bad)}
.error{color:var(--bad);white-space:pre-wrap}
.md>:first-child{margin-top:0}.md>:last-child{margin-bottom:0}
pre{background:var(--code);padding:.6rem;border-radius:6px;overflow-x:auto}
code{background:var(--code);border-radius:4px;padding:0 .2em;font:.9em ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre code{padding:0;background:none}
table{border-collapse:collapse;font-size:.9rem}
th,td{border:1px solid var(--line);padding:.3rem .6rem;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
blockquote{margin:0;padding-left:1rem;border-left:3px solid var(--line);color:var(--muted)}
.empty{color:var(--muted);font-style:italic}
"#;

/// The runs as ONE self-contained HTML page: inline CSS only, no script, nothing
/// fetched (a Content-Security-Policy says so too), light and dark themes. Per run:
/// the prompt, the answers side by side rendered from Markdown and sanitised, the
/// resolved answer, and a table of time, tokens and cost per model.
pub fn to_html(runs: &[StoredRun]) -> String {
    let sanitizer = sanitizer();
    let mut out = String::with_capacity(4096 + runs.len() * 4096);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"color-scheme\" content=\"light dark\">\n\
         <title>Roundtable export</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <header><h1>Roundtable export</h1><p class=\"facts\">{} run{}</p></header>\n",
        runs.len(),
        if runs.len() == 1 { "" } else { "s" }
    );
    for run in runs {
        write_run(&mut out, run, &sanitizer);
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn sanitizer() -> ammonia::Builder<'static> {
    let mut b = ammonia::Builder::default();
    // Nothing is loaded: images become links (see `markdown_html`), and relative
    // URLs mean nothing in a file that was moved.
    b.rm_tags(["img"])
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some("noopener noreferrer nofollow"));
    b
}

fn write_run(out: &mut String, run: &StoredRun, sanitizer: &ammonia::Builder<'_>) {
    let s = &run.summary;
    let r = &run.response;
    let _ = write!(
        out,
        "<article class=\"run\" id=\"{}\">\n<h2>{}</h2>\n<p class=\"facts\">",
        esc(&s.id),
        esc(&s.id)
    );
    let mut facts = vec![
        esc(&s.created_at),
        esc(s.status.as_str()),
        esc(s.resolution.as_str()),
        fmt_cost(s.total_cost),
    ];
    if let Some(ms) = s.duration_ms {
        facts.push(fmt_duration(ms));
    }
    if !s.tags.is_empty() {
        facts.push(format!("tags: {}", esc(&s.tags.join(", "))));
    }
    if let Some(p) = &s.parent_id {
        let kind = s.parent_kind.map(|k| k.as_str()).unwrap_or("from");
        facts.push(format!("{kind} of {}", esc(p)));
    }
    out.push_str(&facts.join(" · "));
    out.push_str("</p>\n<h3>Prompt</h3>\n");
    text_block(out, &run.request.input);
    if let Some(i) = run
        .request
        .instructions
        .as_deref()
        .filter(|i| !i.is_empty())
    {
        out.push_str("<h3>Instructions</h3>\n");
        text_block(out, i);
    }

    out.push_str("<h3>Answers</h3>\n<div class=\"answers\">\n");
    if r.model_results.is_empty() {
        out.push_str("<p class=\"empty\">No answer was recorded.</p>\n");
    }
    for m in &r.model_results {
        let failed = m.error.is_some();
        let _ = write!(
            out,
            "<section class=\"answer{}\">\n<h4>{}</h4>\n<p class=\"stats\">{} · {} in / {} out tokens · {}</p>\n",
            if failed { " failed" } else { "" },
            esc(&m.model),
            fmt_duration(m.duration_ms),
            m.usage.input_tokens,
            m.usage.output_tokens,
            fmt_cost(m.cost)
        );
        if let Some(e) = &m.error {
            let _ = writeln!(out, "<p class=\"error\">Failed: {}</p>", esc(e));
        }
        if !m.data.trim().is_empty() {
            out.push_str("<div class=\"md\">");
            markdown_html(out, &m.data, sanitizer);
            out.push_str("</div>\n");
        } else if !failed {
            out.push_str("<p class=\"empty\">(empty)</p>\n");
        }
        out.push_str("</section>\n");
    }
    out.push_str("</div>\n<h3>Resolved answer</h3>\n<div class=\"resolved\">");
    match r.data.as_deref() {
        Some(d) if looks_like_json(d) || run.request.output_schema.is_some() => {
            let pretty = serde_json::from_str::<serde_json::Value>(d)
                .ok()
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .unwrap_or_else(|| d.to_string());
            let _ = write!(out, "<pre><code>{}</code></pre>", esc(&pretty));
        }
        Some(d) if !d.trim().is_empty() => {
            out.push_str("<div class=\"md\">");
            markdown_html(out, d, sanitizer);
            out.push_str("</div>");
        }
        _ => match &r.meta.summary_error {
            Some(e) => {
                let _ = write!(out, "<p class=\"error\">None: {}</p>", esc(e));
            }
            None => out.push_str("<p class=\"empty\">None (each answer stands on its own).</p>"),
        },
    }
    out.push_str("</div>\n");

    out.push_str(
        "<h3>Per model</h3>\n<table>\n<thead><tr><th>Model</th><th>Status</th>\
         <th class=\"n\">Time</th><th class=\"n\">Input tokens</th>\
         <th class=\"n\">Output tokens</th><th class=\"n\">Cost</th></tr></thead>\n<tbody>\n",
    );
    for m in &r.model_results {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&m.model),
            if m.error.is_some() { "failed" } else { "ok" },
            fmt_duration(m.duration_ms),
            m.usage.input_tokens,
            m.usage.output_tokens,
            fmt_cost(m.cost)
        );
    }
    if let Some(u) = &r.meta.summary_usage {
        let _ = writeln!(
            out,
            "<tr><td>{} (summary)</td><td>ok</td><td class=\"n\"></td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\"></td></tr>",
            esc(r.meta.summary_model.as_deref().unwrap_or("summary")),
            u.input_tokens,
            u.output_tokens
        );
    }
    let _ = writeln!(
        out,
        "</tbody>\n<tfoot><tr><th colspan=\"2\">Total</th><th class=\"n\">{}</th>\
         <th class=\"n\"></th><th class=\"n\"></th><th class=\"n\">{}</th></tr></tfoot>\n</table>\n</article>",
        s.duration_ms.map(fmt_duration).unwrap_or_default(),
        fmt_cost(s.total_cost)
    );
}

fn looks_like_json(s: &str) -> bool {
    let t = s.trim_start();
    (t.starts_with('{') || t.starts_with('['))
        && serde_json::from_str::<serde::de::IgnoredAny>(s).is_ok()
}

/// Untrusted plain text (a prompt), kept as typed.
fn text_block(out: &mut String, text: &str) {
    let _ = writeln!(out, "<pre class=\"text\">{}</pre>", esc(text));
}

/// Untrusted Markdown → sanitised HTML. Images become plain links.
fn markdown_html(out: &mut String, md: &str, sanitizer: &ammonia::Builder<'_>) {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events = Parser::new_ext(md, options).map(|event| match event {
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }),
        Event::End(TagEnd::Image) => Event::End(TagEnd::Link),
        other => other,
    });
    let mut raw = String::with_capacity(md.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut raw, events);
    out.push_str(&sanitizer.clean(&raw).to_string());
}

/// HTML-escape text for element content and quoted attributes.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(md: &str) -> String {
        let mut out = String::new();
        markdown_html(&mut out, md, &sanitizer());
        out
    }

    #[test]
    fn markdown_is_rendered_and_sanitised() {
        let html = clean("**bold** <b>ok</b> <script>alert(1)</script> [x](javascript:alert(1))");
        assert!(html.contains("<strong>bold</strong>"));
        assert!(html.contains("<b>ok</b>"));
        assert!(!html.contains("<script"));
        assert!(!html.contains("javascript:"));
    }

    #[test]
    fn images_become_links() {
        let html = clean("![a cat](https://example.com/cat.png)");
        assert!(!html.contains("<img"));
        assert!(html.contains("href=\"https://example.com/cat.png\""));
        assert!(html.contains("a cat"));
    }

    #[test]
    fn escapes() {
        assert_eq!(
            esc("<a href='x'>&\""),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;"
        );
    }
}
