//! Attached files through the app: read from disk, sent, kept in the history's
//! folder (not in SQLite), sent again by a re-run, named only by a re-resolve
//! (which reads no bytes), exported with their bytes and imported back, and
//! removed with the last run that names them.

use crate::common::{Fixture, open, request, script};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use roundtable_app::core::{Resolution, RoundtableRequest, RunStatus};
use roundtable_app::{Code, ExportFormat, Reresolve};
use tokio_util::sync::CancellationToken;

/// A 1×1 PNG.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\0\0\0\0IEND\xaeB`\x82";

/// "What is this?" with `chart.png` and `notes.md`, read from disk by the app.
fn with_files(fx: &Fixture) -> RoundtableRequest {
    let dir = fx.home.path().join("picked");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("chart.png"), PNG).unwrap();
    std::fs::write(dir.join("notes.md"), "# Notes\nRevenue rose.\n").unwrap();
    let attachments = fx
        .app
        .attach_files(&[dir.join("chart.png"), dir.join("notes.md")])
        .unwrap();
    RoundtableRequest {
        attachments,
        ..request("What is this?", &["fake/a"], Resolution::Fast)
    }
}

/// How many of the fake's requests carried the PNG as a data URL.
fn sent_the_image(fx: &Fixture) -> usize {
    let url = format!("data:image/png;base64,{}", STANDARD.encode(PNG));
    fx.fake
        .requests()
        .iter()
        .filter(|r| r.body.to_string().contains(&url))
        .count()
}

fn file_of(fx: &Fixture, sha: &str) -> std::path::PathBuf {
    fx.home.path().join("attachments").join(&sha[..2]).join(sha)
}

#[tokio::test]
async fn a_run_sends_its_files_and_the_history_keeps_them_apart() {
    let fx = Fixture::start(script()).await;
    let (out, _) = fx.run(with_files(&fx)).await;
    let out = out.unwrap();
    assert_eq!(out.status, RunStatus::Completed);
    assert_eq!(sent_the_image(&fx), 1);
    let body = fx.fake.requests()[0].body.to_string();
    assert!(body.contains("Revenue rose."), "{body}");

    let stored = fx.app.get_run(&out.response.id).unwrap().request;
    let chart = &stored.attachments[0];
    assert!(chart.data.is_empty());
    let sha = chart.sha256.clone().unwrap();
    assert_eq!(std::fs::read(file_of(&fx, &sha)).unwrap(), PNG);
    // The desktop's thumbnail of a stored run.
    let back = fx.app.attachment(&sha).unwrap();
    assert_eq!(back.name, "chart.png");
    assert_eq!(back.data, STANDARD.encode(PNG));
    let e = fx.app.attachment(&"0".repeat(64)).unwrap_err();
    assert_eq!(e.code, Code::NotFound);

    // Searchable by a file's name.
    let found = fx.app.search_runs("notes", &Default::default()).unwrap();
    assert_eq!(found.len(), 1);
}

#[tokio::test]
async fn a_rerun_sends_the_files_again_and_a_reresolve_reads_none() {
    let fx = Fixture::start(script()).await;
    let first = fx.run(with_files(&fx)).await.0.unwrap();
    let id = first.response.id.clone();
    let again = fx
        .app
        .rerun(&id, &(), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(again.status, RunStatus::Completed);
    assert_eq!(sent_the_image(&fx), 2, "the re-run sent the image again");

    // With the files gone from disk, a re-resolve still works (it names them
    // to the summary model) and a re-run says which file is missing.
    let sha = fx.app.get_run(&id).unwrap().request.attachments[0]
        .sha256
        .clone()
        .unwrap();
    std::fs::remove_file(file_of(&fx, &sha)).unwrap();
    let how = Reresolve {
        resolution: Resolution::Summary,
        summary_model: Some("fake/b".into()),
        ..Default::default()
    };
    let resolved = fx
        .app
        .reresolve(&id, how, &(), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(resolved.status, RunStatus::Completed);
    let summary_call = fx.fake.requests().last().unwrap().body.to_string();
    assert!(summary_call.contains("chart.png"), "{summary_call}");
    assert!(!summary_call.contains("data:image/png"), "{summary_call}");
    let child = fx.app.get_run(&resolved.response.id).unwrap().request;
    assert_eq!(child.attachments[0].sha256.as_deref(), Some(sha.as_str()));

    let e = fx
        .app
        .rerun(&id, &(), CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(e.code, Code::NotFound);
    assert!(e.message.contains("chart.png"), "{e}");
    assert_eq!(sent_the_image(&fx), 2, "no provider was called");
}

#[tokio::test]
async fn exports_carry_the_files_and_an_import_restores_them() {
    let fx = Fixture::start(script()).await;
    let first = fx.run(with_files(&fx)).await.0.unwrap();
    let id = first.response.id.clone();
    let json = fx
        .app
        .export(std::slice::from_ref(&id), ExportFormat::Json)
        .unwrap();
    assert!(json.contains(&STANDARD.encode(PNG)));
    let html = fx
        .app
        .export(std::slice::from_ref(&id), ExportFormat::Html)
        .unwrap();
    assert!(html.contains("<img src=\"data:image/png;base64,"));
    let md = fx
        .app
        .export(std::slice::from_ref(&id), ExportFormat::Md)
        .unwrap();
    assert!(md.contains("- notes.md (text/markdown, 22 B)"), "{md}");

    let elsewhere = tempfile::tempdir().unwrap();
    let other = open(elsewhere.path());
    assert_eq!(other.import(&json).unwrap(), vec![id.clone()]);
    let sha = other.get_run(&id).unwrap().request.attachments[0]
        .sha256
        .clone()
        .unwrap();
    assert_eq!(other.attachment(&sha).unwrap().data, STANDARD.encode(PNG));

    // Deleted with the run, here and there.
    fx.app.delete_run(&id).unwrap();
    assert!(!file_of(&fx, &sha).exists());
    other.delete_run(&id).unwrap();
    assert_eq!(other.attachment(&sha).unwrap_err().code, Code::NotFound);
}
