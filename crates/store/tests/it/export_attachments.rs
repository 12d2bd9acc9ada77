//! Attached files in the exports: JSON carries their bytes and imports them back
//! (files written, rows recorded), Markdown and CSV name them, HTML shows an
//! image inline from its bytes (the only `data:` the page's CSP allows, for
//! images) and names the rest.

use crate::attachments::{PNG, attachment, request_with_files};
use crate::common::*;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use roundtable_store::export::{import_runs_json, to_csv, to_html, to_json, to_markdown};
use roundtable_store::{RunStatus, Store, StoredRun};

/// A finished run with files, read back and filled with its bytes (as the app's
/// export does).
fn run_with_files(store: &Store) -> StoredRun {
    let req = request_with_files("What does the chart say?");
    store.begin_run(&new_run("rt_files", 1_000, &req)).unwrap();
    store
        .finish_run(
            &response("rt_files", &req, &["Up.", "Up 4%."], Some("Up.")),
            RunStatus::Completed,
        )
        .unwrap();
    let mut run = store.get_run("rt_files").unwrap().unwrap();
    store.hydrate(&mut run.request).unwrap();
    run
}

#[test]
fn json_carries_the_bytes_and_imports_them_back() {
    let a = tempfile::tempdir().unwrap();
    let src = Store::open(&a.path().join("history.db")).unwrap();
    let run = run_with_files(&src);
    let json = to_json(std::slice::from_ref(&run), &[]);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let sent = &value[0]["request"]["attachments"];
    assert_eq!(sent[0]["name"], "chart.png");
    assert_eq!(sent[0]["media_type"], "image/png");
    assert_eq!(sent[0]["data"], STANDARD.encode(PNG));
    assert_eq!(sent[0]["size"], PNG.len());

    // Into another history: its own files, its own rows.
    let b = tempfile::tempdir().unwrap();
    let dst = Store::open(&b.path().join("history.db")).unwrap();
    dst.bulk_import(&import_runs_json(&json).unwrap()).unwrap();
    let mut back = dst.get_run("rt_files").unwrap().unwrap();
    assert!(back.request.attachments.iter().all(|a| a.data.is_empty()));
    dst.hydrate(&mut back.request).unwrap();
    assert_eq!(back.request.attachments, run.request.attachments);
    let sha = run.request.attachments[0].sha256.clone().unwrap();
    assert!(
        b.path()
            .join("attachments")
            .join(&sha[..2])
            .join(&sha)
            .is_file()
    );
    assert_eq!(
        dst.search("quarterly", &Default::default()).unwrap().len(),
        1
    );
    // And they go with the imported run.
    assert!(dst.delete_run("rt_files").unwrap());
    assert!(dst.read_attachment(&sha).is_err());
}

#[test]
fn markdown_and_csv_name_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("history.db")).unwrap();
    let mut run = run_with_files(&store);
    run.request.attachments[2].name = "<b>x</b>.txt".into();
    let md = to_markdown(std::slice::from_ref(&run));
    assert!(
        md.contains(
            "### Attachments\n\n- chart.png (image/png, 33 B)\n\
             - quarterly-notes.md (text/markdown, 16 B)\n\
             - &lt;b&gt;x&lt;/b&gt;.txt (text/plain, 16 B)\n"
        ),
        "{md}"
    );
    // The stored run, without bytes, names them the same.
    let stored = store.get_run("rt_files").unwrap().unwrap();
    assert!(to_markdown(std::slice::from_ref(&stored)).contains("- chart.png (image/png, 33 B)"));

    let csv_text = to_csv(&[stored]);
    let mut rd = csv::Reader::from_reader(csv_text.as_bytes());
    let at = rd
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "attachments");
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    for row in rows {
        assert_eq!(&row[at.unwrap()], "chart.png; quarterly-notes.md; copy.txt");
    }
}

#[test]
fn html_shows_images_inline_and_names_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("history.db")).unwrap();
    let mut run = run_with_files(&store);
    // Neither an SVG nor data that is not plain base64 is ever a source.
    let mut svg = attachment("x.svg", "image/svg+xml", b"<svg onload=alert(1)/>");
    svg.name = "\"><script>alert(1)</script>.svg".into();
    run.request.attachments.push(svg);
    let mut odd = attachment("odd.png", "image/png", PNG);
    odd.data.push_str("\" onerror=\"alert(1)");
    run.request.attachments.push(odd);
    let html = to_html(std::slice::from_ref(&run));

    assert!(html.contains(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; img-src data:\">"
    ));
    let img = format!(
        "<img src=\"data:image/png;base64,{}\" alt=\"chart.png\"><figcaption>chart.png \
         (image/png, 33 B)</figcaption>",
        STANDARD.encode(PNG)
    );
    assert!(html.contains(&img), "{html}");
    assert_eq!(html.matches("<img").count(), 1, "{html}");
    assert!(html.contains("<li>quarterly-notes.md (text/markdown, 16 B)</li>"));
    assert!(html.contains("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;.svg (image/svg+xml"));
    assert!(!html.contains("<script"));
    assert!(!html.contains("onerror=\""));

    // A stored run without its bytes names its image instead.
    let stored = store.get_run("rt_files").unwrap().unwrap();
    let html = to_html(&[stored]);
    assert!(!html.contains("<img"));
    assert!(html.contains("<li>chart.png (image/png, 33 B)</li>"));
}
