//! One self-contained, script-free HTML page.

use super::facts::{self, Ending, Label};
use super::{fmt_cost, fmt_duration};
use crate::{Attachment, ModelResult, StoredRun};
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use roundtable_core::attachments::IMAGE_TYPES;
use std::fmt::Write as _;

const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

const STYLE: &str = r#"
:root{--bg:#fff;--fg:#1d1f23;--muted:#5b6270;--card:#f6f7f9;--line:#dde1e6;--accent:#2457c5;--bad:#b42318;--ok:#1a7f37;--warn:#9a6700;--code:#eef0f3}
@media (prefers-color-scheme:dark){:root{--bg:#15171b;--fg:#e4e6ea;--muted:#9aa2af;--card:#1e2127;--line:#333842;--accent:#7aa5ff;--bad:#ff8a7a;--ok:#6fd08c;--warn:#e3b341;--code:#262a31}}
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
.opts,.note{color:var(--muted);font-size:.85rem;margin:0 0 .5rem}
.note{font-style:italic}
.marks{margin:0 0 .5rem;font-size:.85rem}
.badge{display:inline-block;border:1px solid var(--line);border-radius:999px;padding:0 .5rem;font-size:.8rem;font-weight:normal;color:var(--muted)}
.badge.ok{color:var(--ok);border-color:var(--ok)}
.badge.bad{color:var(--bad);border-color:var(--bad)}
.badge.warn{color:var(--warn);border-color:var(--warn)}
.answer.partial{border-style:dashed}
tr.won td{font-weight:600}
tr.split td,tr.split th{color:var(--warn)}
.attachments{margin:0;padding-left:1.25rem;color:var(--muted);font-size:.9rem}
.attachments figure{margin:.25rem 0}
.attachments img{display:block;max-width:min(100%,24rem);max-height:16rem;border:1px solid var(--line);border-radius:6px;background:var(--card)}
td.sim1{background:rgba(36,87,197,.1)}td.sim2{background:rgba(36,87,197,.2)}td.sim3{background:rgba(36,87,197,.32)}td.sim4{background:rgba(36,87,197,.45)}
"#;

/// The runs as ONE self-contained HTML page: inline CSS only, no script, nothing
/// fetched (a Content-Security-Policy says so too), light and dark themes. Per run:
/// the prompt, its attached files (images shown inline from their bytes, when
/// the run carries them), the answers side by side rendered from Markdown and sanitised, the
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
    write_attachments(out, run);

    let labels = facts::labels(run);
    out.push_str("<h3>Answers</h3>\n<div class=\"answers\">\n");
    if r.model_results.is_empty() {
        out.push_str("<p class=\"empty\">No answer was recorded.</p>\n");
    }
    for (m, label) in r.model_results.iter().zip(&labels) {
        write_answer(out, run, m, label, sanitizer);
    }
    out.push_str("</div>\n");
    write_votes(out, run);
    write_resolved(out, run, sanitizer);
    super::agreement::html(out, run, &labels);
    super::claims::html(out, run, &labels);
    write_table(out, run, &labels);
    out.push_str("</article>\n");
}

fn write_answer(
    out: &mut String,
    run: &StoredRun,
    m: &ModelResult,
    label: &Label,
    sanitizer: &ammonia::Builder<'_>,
) {
    let ending = facts::ending(m);
    let class = match ending {
        Ending::Answered => "",
        Ending::Partial => " failed partial",
        Ending::Failed => " failed",
    };
    let _ = write!(
        out,
        "<section class=\"answer{class}\">\n<h4>{}",
        esc(&label.name)
    );
    if let Some(n) = label.sample {
        let _ = write!(out, " <span class=\"badge\">#{n}</span>");
    }
    out.push_str("</h4>\n");
    if !label.options.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"opts\">{}</p>",
            esc(&label.options.join(" · "))
        );
    }
    let mut stats = vec![facts::time(m)];
    stats.extend(facts::tokens(&m.usage, ending != Ending::Failed));
    stats.push(fmt_cost(m.cost));
    let _ = writeln!(out, "<p class=\"stats\">{}</p>", esc(&stats.join(" · ")));
    let mut marks = Vec::new();
    match facts::ballot(run, m) {
        Some(Ok(v)) => marks.push(format!("<span class=\"badge\">Vote: {}</span>", esc(&v))),
        Some(Err(why)) => marks.push(format!(
            "<span class=\"badge warn\">Vote: none ({why})</span>"
        )),
        None => {}
    }
    match facts::schema_mark(m) {
        Some(Ok(())) => marks.push("<span class=\"badge ok\">Schema ✓ valid</span>".to_string()),
        Some(Err(e)) => marks.push(format!(
            "<span class=\"badge bad\">Schema ✗ invalid</span> <span class=\"error\">{}</span>",
            esc(&e)
        )),
        None => {}
    }
    if !marks.is_empty() {
        let _ = writeln!(out, "<p class=\"marks\">{}</p>", marks.join(" "));
    }
    if let Some(e) = &m.error {
        let _ = writeln!(out, "<p class=\"error\">Failed: {}</p>", esc(e));
    }
    if ending == Ending::Partial {
        let _ = writeln!(out, "<p class=\"note\">{}</p>", facts::partial_note(m));
    }
    if ending != Ending::Failed && !m.data.trim().is_empty() {
        out.push_str("<div class=\"md\">");
        markdown_html(out, &m.data, sanitizer);
        out.push_str("</div>\n");
    } else if ending == Ending::Answered {
        out.push_str("<p class=\"empty\">(empty)</p>\n");
    }
    out.push_str("</section>\n");
}

/// The run's attached files: an image that carries its bytes shown inline (a
/// `data:` URL, the one source the page's CSP allows, and only for `<img>`),
/// every file named with its type and size.
fn write_attachments(out: &mut String, run: &StoredRun) {
    let attached = &run.request.attachments;
    if attached.is_empty() {
        return;
    }
    out.push_str("<h3>Attachments</h3>\n<ul class=\"attachments\">\n");
    for a in attached {
        let named = esc(&facts::attachment(a));
        match inline_image(a) {
            Some(src) => {
                let _ = writeln!(
                    out,
                    "<li><figure><img src=\"{src}\" alt=\"{}\"><figcaption>{named}</figcaption></figure></li>",
                    esc(&a.name)
                );
            }
            None => {
                let _ = writeln!(out, "<li>{named}</li>");
            }
        }
    }
    out.push_str("</ul>\n");
}

/// `data:image/png;base64,…` for an image of a type every browser shows (never
/// SVG, which can hold script) whose data is plain base64.
fn inline_image(a: &Attachment) -> Option<String> {
    let media_type = a.media_type.trim().to_ascii_lowercase();
    let shown = IMAGE_TYPES.contains(&media_type.as_str());
    let base64 = !a.data.is_empty()
        && a.data
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
    (shown && base64).then(|| format!("data:{media_type};base64,{}", a.data))
}

/// The tally of a multiple-choice run: every choice with its votes.
fn write_votes(out: &mut String, run: &StoredRun) {
    let Some(votes) = facts::votes(run) else {
        return;
    };
    out.push_str(
        "<h3>Votes</h3>\n<table class=\"votes\">\n<thead><tr><th>Choice</th>\
         <th class=\"n\">Votes</th></tr></thead>\n<tbody>\n",
    );
    for (choice, n, won) in votes {
        let (class, mark) = if won {
            (" class=\"won\"", " <strong>(chosen)</strong>")
        } else {
            ("", "")
        };
        let _ = writeln!(
            out,
            "<tr{class}><td>{}{mark}</td><td class=\"n\">{n}</td></tr>",
            esc(&choice)
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

fn write_resolved(out: &mut String, run: &StoredRun, sanitizer: &ammonia::Builder<'_>) {
    let r = &run.response;
    out.push_str("<h3>Resolved answer</h3>\n<div class=\"resolved\">");
    if let Some(f) = facts::summary_figures(run) {
        let _ = write!(
            out,
            "<p class=\"stats\">By {} ({}) · {}</p>",
            esc(&f.model),
            f.status,
            esc(&facts::summary_stats(&f))
        );
    }
    if let Some(note) = facts::resolved_note(run) {
        let _ = write!(out, "<p class=\"note\">Note: {}</p>", esc(&note));
    }
    match r.meta.schema_valid {
        Some(true) => {
            out.push_str("<p class=\"marks\"><span class=\"badge ok\">Schema ✓ valid</span></p>")
        }
        Some(false) => {
            out.push_str("<p class=\"marks\"><span class=\"badge bad\">Schema ✗ invalid</span></p>")
        }
        None => {}
    }
    match (facts::no_resolved_answer(run), r.data.as_deref()) {
        (Some(why), _) => {
            let class = if r.meta.summary_error.is_some() {
                "error"
            } else {
                "empty"
            };
            let _ = write!(
                out,
                "<p class=\"{class}\">{}</p>",
                esc(&facts::none_because(&why))
            );
        }
        (None, Some(d)) if looks_like_json(d) || run.request.output_schema.is_some() => {
            let pretty = serde_json::from_str::<serde_json::Value>(d)
                .ok()
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .unwrap_or_else(|| d.to_string());
            let _ = write!(out, "<pre><code>{}</code></pre>", esc(&pretty));
        }
        (None, d) => {
            out.push_str("<div class=\"md\">");
            markdown_html(out, d.unwrap_or_default(), sanitizer);
            out.push_str("</div>");
        }
    }
    out.push_str("</div>\n");
}

/// Time, tokens and cost per model, and the summary's.
fn write_table(out: &mut String, run: &StoredRun, labels: &[Label]) {
    let r = &run.response;
    out.push_str(
        "<h3>Per model</h3>\n<table>\n<thead><tr><th>Model</th><th>Status</th>\
         <th class=\"n\">Time</th><th class=\"n\">Input tokens</th>\
         <th class=\"n\">Output tokens</th><th class=\"n\">Cost</th></tr></thead>\n<tbody>\n",
    );
    for (m, label) in r.model_results.iter().zip(labels) {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&label.full()),
            facts::status_word(m),
            facts::time(m),
            facts::token_cell(&m.usage, m.usage.input_tokens),
            facts::token_cell(&m.usage, m.usage.output_tokens),
            fmt_cost(m.cost)
        );
    }
    if let Some(f) = facts::summary_figures(run) {
        let time = f.approx_ms.map(|ms| format!("~{}", fmt_duration(ms)));
        let _ = writeln!(
            out,
            "<tr><td>{} (summary)</td><td>{}</td>\
             <td class=\"n\" title=\"the run&#39;s time less its slowest model&#39;s\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&f.model),
            f.status,
            time.unwrap_or_default(),
            facts::token_cell(&f.usage, f.usage.input_tokens),
            facts::token_cell(&f.usage, f.usage.output_tokens),
            fmt_cost(f.cost)
        );
    }
    let s = &run.summary;
    let _ = writeln!(
        out,
        "</tbody>\n<tfoot><tr><th colspan=\"2\">Total</th><th class=\"n\">{}</th>\
         <th class=\"n\"></th><th class=\"n\"></th><th class=\"n\">{}</th></tr></tfoot>\n</table>",
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
