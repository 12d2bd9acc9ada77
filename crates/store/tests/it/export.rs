//! Export formats, the XSS corpus, and the JSON import round trip.

use crate::common::*;
use roundtable_store::export::{
    import_json, import_runs_json, to_csv, to_html, to_json, to_markdown,
};
use roundtable_store::{ListQuery, Resolution, RunStatus, Store, StoredRun};

const XSS: &[&str] = &[
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](java\tscript:alert(1))",
    "[x](javascript&#58;alert(1))",
    "[x](javascript\\:alert(1))",
    "[ref][r]\n\n[r]: javascript:alert(1)",
    "<svg onload=alert(1)><script>alert(2)</script></svg>",
    "<a href=\"data:text/html,<script>alert(1)</script>\">d</a>",
    "<iframe src=\"https://evil.example\"></iframe>",
    "<style>body{background:url(https://evil.example/x)}</style>",
    "<javascript:alert(1)>",
    "<vbscript:msgbox(1)>",
    "![i](javascript:alert(1))",
    "![pixel](https://evil.example/track.png)",
    "<object data=x></object><embed src=x>",
    "<form action=https://evil.example><input></form>",
    "<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example\">",
    "<link rel=stylesheet href=https://evil.example/x.css>",
    "<div onclick=\"alert(1)\" style=\"background:url(x)\">click</div>",
    "<a title=\"`\">x</a> then `<img src=x onerror=alert(1)>` end",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "```\n<script>alert('in code')</script>",
];

fn xss_runs() -> Vec<StoredRun> {
    let store = Store::open_in_memory().unwrap();
    let mut runs = Vec::new();
    for (i, payload) in XSS.iter().enumerate() {
        let id = format!("rt_xss{i:02}");
        let mut req = request(payload, &["evil/<script>alert(1)</script>", "ok/model"]);
        req.instructions = Some(payload.to_string());
        // Everything the window shows beside the answers carries the payload too:
        // options, schema errors, a fallback summary's note, choices and votes.
        req.models[0].reasoning = Some(payload.to_string());
        if i % 2 == 1 {
            req.resolution = Some(Resolution::MultipleChoice);
            req.choices = Some(vec![payload.to_string(), "ok".into()]);
        }
        let mut resp = response(&id, &req, &[payload, "fine **answer**"], Some(payload));
        resp.model_results[1].error = Some(payload.to_string());
        resp.model_results[0].schema_valid = Some(false);
        resp.model_results[0].schema_error = Some(payload.to_string());
        resp.meta.summary_error = Some(payload.to_string());
        if i % 2 == 1 {
            resp.model_results[0].vote = Some(payload.to_string());
            resp.meta.votes = Some(
                [(payload.to_string(), 1), ("ok".to_string(), 0)]
                    .into_iter()
                    .collect(),
            );
        }
        store
            .import_response(Some(&req), &resp, RunStatus::Completed, Some(i as i64))
            .unwrap();
        store.add_tag(&id, "<b>tag</b>").unwrap();
        runs.push(store.get_run(&id).unwrap().unwrap());
    }
    runs
}

/// The tags of an HTML text as a browser would see them: (name, [(attr, value)]),
/// lowercased. Text `<` is always escaped in our output, so every `<` opens markup.
fn tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    let b = html.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'<' {
            i += 1;
            continue;
        }
        i += 1;
        if i < b.len() && (b[i] == b'!' || b[i] == b'/' || b[i] == b'?') {
            while i < b.len() && b[i] != b'>' {
                i += 1;
            }
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_alphanumeric() {
            i += 1;
        }
        let name = html[start..i].to_ascii_lowercase();
        let mut attrs = Vec::new();
        loop {
            while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
                i += 1;
            }
            if i >= b.len() || b[i] == b'>' {
                break;
            }
            let a = i;
            while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'=' | b'>' | b'/')
            {
                i += 1;
            }
            let attr = html[a..i].to_ascii_lowercase();
            let mut value = String::new();
            if i < b.len() && b[i] == b'=' {
                i += 1;
                if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                    let q = b[i];
                    i += 1;
                    let v = i;
                    while i < b.len() && b[i] != q {
                        i += 1;
                    }
                    value = html[v..i].to_string();
                    i += 1;
                } else {
                    let v = i;
                    while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                        i += 1;
                    }
                    value = html[v..i].to_string();
                }
            }
            attrs.push((attr, value));
        }
        out.push((name, attrs));
    }
    out
}

/// A browser's reading of an href: character references decoded once (the ones
/// that matter here), tabs, newlines and spaces dropped, lowercased.
fn href_scheme(href: &str) -> String {
    const REFS: [(&str, char); 7] = [
        ("&amp;", '&'),
        ("&#58;", ':'),
        ("&#x3a;", ':'),
        ("&colon;", ':'),
        ("&#9;", '\t'),
        ("&tab;", '\t'),
        ("&newline;", '\n'),
    ];
    let lower = href.to_ascii_lowercase();
    let mut out = String::new();
    let mut rest = lower.as_str();
    'outer: while let Some(c) = rest.chars().next() {
        for (r, ch) in REFS {
            if let Some(after) = rest.strip_prefix(r) {
                out.push(ch);
                rest = after;
                continue 'outer;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out.chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect()
}

fn assert_inert(html: &str, what: &str) {
    let allowed = [
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "header",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "p",
        "article",
        "section",
        "div",
        "pre",
        "code",
        "table",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "th",
        "td",
        "a",
        "strong",
        "em",
        "b",
        "i",
        "ul",
        "ol",
        "li",
        "blockquote",
        "hr",
        "br",
        "del",
        "s",
        "span",
        "sup",
        "sub",
        "kbd",
        "q",
        "ins",
        "dl",
        "dt",
        "dd",
        "abbr",
        "cite",
        "small",
        "mark",
    ];
    for (name, attrs) in tags(html) {
        assert!(
            allowed.contains(&name.as_str()),
            "{what}: tag <{name}> is live"
        );
        for (attr, value) in attrs {
            assert!(
                !attr.starts_with("on"),
                "{what}: <{name} {attr}=...> is live"
            );
            assert!(
                !matches!(
                    attr.as_str(),
                    "src" | "srcset" | "style" | "action" | "formaction" | "background"
                ),
                "{what}: <{name} {attr}={value}>"
            );
            if attr == "href" {
                let h = href_scheme(&value);
                assert!(
                    !(h.starts_with("javascript:")
                        || h.starts_with("vbscript:")
                        || h.starts_with("data:")),
                    "{what}: href {value}"
                );
            }
        }
    }
}

#[test]
fn html_export_of_the_xss_corpus_is_inert() {
    let runs = xss_runs();
    let html = to_html(&runs);
    let lower = html.to_ascii_lowercase();
    assert!(lower.starts_with("<!doctype html>"));
    assert!(html.contains(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
    ));
    assert_inert(&html, "HTML export");
    for bad in [
        "<script", "<iframe", "<svg", "<img", "<object", "<embed", "<form", "<math", "<link",
    ] {
        assert!(!lower.contains(bad), "{bad} survived");
    }
    let all = tags(&html);
    assert_eq!(
        all.iter().filter(|(n, _)| n == "style").count(),
        1,
        "only our own stylesheet"
    );
    assert_eq!(
        all.iter()
            .filter(|(n, a)| n == "meta" && a.iter().any(|(k, _)| k == "http-equiv"))
            .count(),
        1,
        "only our CSP"
    );
    let style = &lower[lower.find("<style>").unwrap()..lower.find("</style>").unwrap()];
    assert!(
        !style.contains("url(") && !style.contains("@import"),
        "the page loads nothing"
    );
    // The corpus is shown as text, and real formatting survives.
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("<strong>answer</strong>"));
    assert!(html.contains("class=\"answers\""));
}

#[test]
fn markdown_export_of_the_xss_corpus_has_no_live_html() {
    let runs = xss_runs();
    let md = to_markdown(&runs);
    // Rendered as any Markdown viewer would, raw HTML passing through.
    let mut html = String::new();
    let opts = pulldown_cmark::Options::ENABLE_TABLES
        | pulldown_cmark::Options::ENABLE_STRIKETHROUGH
        | pulldown_cmark::Options::ENABLE_TASKLISTS;
    pulldown_cmark::html::push_html(&mut html, pulldown_cmark::Parser::new_ext(&md, opts));
    let lower = html.to_ascii_lowercase();
    for bad in [
        "<script", "<iframe", "<svg", "<img", "<style", "<object", "<meta", "<form",
    ] {
        if let Some(i) = lower.find(bad) {
            panic!(
                "{bad} is live in the rendered Markdown: {}",
                lower
                    .chars()
                    .skip(lower[..i].chars().count().saturating_sub(100))
                    .take(900)
                    .collect::<String>()
            );
        }
    }
    assert_inert(&html, "rendered Markdown");
    // Code is kept verbatim (it renders as text): the careful mode was used, not
    // the escape-everything fallback.
    assert!(md.contains("```\n<script>alert('in code')</script>"));
    // Outside code, the raw file itself holds no tag either.
    assert!(!md.contains("<script>alert(1)</script>\n"));
    // Every run is there, in order, with its sections.
    assert_eq!(md.matches("### Resolved answer").count(), XSS.len());
    assert!(md.find("rt_xss00").unwrap() < md.find("rt_xss01").unwrap());
}

#[test]
fn markdown_export_shows_answers_with_their_figures() {
    let store = Store::open_in_memory().unwrap();
    let req = request(
        "Compare `Vec<T>` and arrays",
        &["openai/gpt-4.1", "anthropic/claude"],
    );
    let mut resp = response(
        "rt_md",
        &req,
        &[
            "Use `Vec<T>`:\n\n```rust\nlet v: Vec<u8> = vec![];\n```",
            "",
        ],
        Some("**Vec** grows."),
    );
    resp.model_results[1] = failed(1, "anthropic/claude", "timeout after 30 s");
    store
        .import_response(Some(&req), &resp, RunStatus::Completed, Some(0))
        .unwrap();
    let md = to_markdown(&[store.get_run("rt_md").unwrap().unwrap()]);
    assert!(md.contains("## Run rt_md"));
    assert!(md.contains("### Prompt\n\nCompare `Vec<T>` and arrays"));
    assert!(
        md.contains("#### openai/gpt-4.1 — 900 ms · 120 in / 300 out tokens · $0.0010"),
        "{md}"
    );
    assert!(
        md.contains("let v: Vec<u8> = vec![];"),
        "code stays verbatim"
    );
    assert!(
        md.contains("#### anthropic/claude (failed) — 30.0 s · $0"),
        "{md}"
    );
    assert!(md.contains("**Error:** timeout after 30 s"));
    assert!(
        md.contains("### Resolved answer\n\n_By openai/gpt-4.1-mini (ok) — "),
        "{md}"
    );
    assert!(
        md.contains(" out tokens · $0.0040_\n\n**Vec** grows."),
        "{md}"
    );
    assert!(md.find("openai/gpt-4.1 —").unwrap() < md.find("### Resolved answer").unwrap());
}

#[test]
fn csv_export_has_one_row_per_result_and_guards_formulas() {
    let store = Store::open_in_memory().unwrap();
    let req = request("=cmd|' /C calc'!A0", &["a/b", "c/d"]);
    let mut resp = response(
        "rt_csv",
        &req,
        &["+1, \"quoted\"\nnext line", "@SUM(A1)"],
        Some("x"),
    );
    resp.model_results[1].error = Some("-boom".into());
    store
        .import_response(Some(&req), &resp, RunStatus::Completed, Some(0))
        .unwrap();
    let csv_text = to_csv(&[store.get_run("rt_csv").unwrap().unwrap()]);
    let mut rd = csv::Reader::from_reader(csv_text.as_bytes());
    let header: Vec<String> = rd.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "run_id",
            "created_at",
            "prompt",
            "model",
            "answer",
            "error",
            "input_tokens",
            "output_tokens",
            "cost",
            "duration_ms",
            "mean_similarity",
            "fields_agreeing",
            "fields",
            "winner_share",
            "claims_supported",
            "claims_contradicted",
            "attachments"
        ]
    );
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(&rows[0][0], "rt_csv");
    assert_eq!(&rows[0][1], "1970-01-01T00:00:00.000Z");
    assert_eq!(&rows[0][2], "'=cmd|' /C calc'!A0");
    assert_eq!(&rows[0][3], "a/b");
    assert_eq!(&rows[0][4], "'+1, \"quoted\"\nnext line");
    assert_eq!(&rows[0][6], "120");
    assert_eq!(&rows[0][7], "300");
    assert_eq!(&rows[0][8], "0.001");
    assert_eq!(&rows[0][9], "900");
    assert_eq!(&rows[1][4], "'@SUM(A1)");
    assert_eq!(&rows[1][5], "'-boom");
    for row in &rows {
        for cell in row.iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@']),
                "unguarded cell {cell:?}"
            );
        }
    }
}

#[test]
fn json_export_imports_back_identically() {
    let dir = tempfile::tempdir().unwrap();
    let src = Store::open(&dir.path().join("a.db")).unwrap();
    let req = request("round trip?", &["a/b", "c/d"]);
    let mut resp = response("rt_json1", &req, &["yes", "no"], Some("yes"));
    resp.model_results[0].schema_valid = Some(true);
    resp.model_results[1].vote = Some("B".into());
    resp.model_results[1]
        .usage
        .extra
        .insert("custom".into(), serde_json::json!({"n": 1}));
    src.begin_run(&new_run("rt_json1", 1_700_000_000_000, &req))
        .unwrap();
    src.finish_run(&resp, RunStatus::Completed).unwrap();
    let req2 = request("interrupted one", &["a/b"]);
    src.begin_run(&new_run("rt_json2", 1_700_000_001_000, &req2))
        .unwrap();
    src.record_model_result("rt_json2", &result(0, "a/b", "partial"))
        .unwrap();
    src.set_status("rt_json2", RunStatus::Interrupted).unwrap();

    let runs: Vec<StoredRun> = src
        .list_runs(&ListQuery::default())
        .unwrap()
        .iter()
        .map(|s| src.get_run(&s.id).unwrap().unwrap())
        .collect();
    let json = to_json(&runs, &[]);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(value.is_array());
    assert_eq!(value[0]["status"], "interrupted");
    assert_eq!(value[1]["id"], "rt_json1");
    assert_eq!(value[1]["meta"]["resolution"], "summary");
    assert_eq!(value[1]["request"]["input"], "round trip?");

    let parsed = import_json(&json).unwrap();
    assert_eq!(parsed.len(), 2);
    for ((req, resp, status), run) in parsed.iter().zip(&runs) {
        assert_eq!(req.as_ref(), Some(&run.request));
        assert_eq!(resp, &run.response);
        assert_eq!(*status, run.summary.status);
    }

    let dst = Store::open(&dir.path().join("b.db")).unwrap();
    let n = dst.bulk_import(&import_runs_json(&json).unwrap()).unwrap();
    assert_eq!(n, 2);
    for run in &runs {
        let back = dst.get_run(&run.summary.id).unwrap().unwrap();
        assert_eq!(back.request, run.request);
        assert_eq!(back.response.id, run.response.id);
        assert_eq!(back.response.model_results, run.response.model_results);
        assert_eq!(back.summary.status, run.summary.status);
        assert_eq!(back.summary.created_at_ms, run.summary.created_at_ms);
    }
    assert_eq!(dst.get_run("rt_json1").unwrap().unwrap().response, resp);
    // Importing again fails whole, naming the run.
    let err = dst
        .bulk_import(&import_runs_json(&json).unwrap())
        .unwrap_err();
    assert!(err.to_string().contains("rt_json"), "{err}");
    assert_eq!(dst.list_runs(&ListQuery::default()).unwrap().len(), 2);
    // A bare array of plain responses is accepted too.
    let plain = serde_json::to_string(&[&resp]).unwrap();
    let parsed = import_json(&plain).unwrap();
    assert_eq!(parsed[0].1, resp);
    assert_eq!(parsed[0].0, None);
    assert_eq!(parsed[0].2, RunStatus::Completed);
}

#[test]
fn exports_of_nothing_are_well_formed() {
    assert!(to_html(&[]).contains("0 runs"));
    assert_eq!(to_json(&[], &[]).trim(), "[]");
    assert!(import_json("[]").unwrap().is_empty());
    assert_eq!(to_csv(&[]).lines().count(), 1);
    assert!(to_markdown(&[]).starts_with("# Roundtable export"));
}
