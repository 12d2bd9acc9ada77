//! `roundtable run -a FILE` as a process against the fake provider: the files
//! reach the provider (its recorded request body), `history show` lists them,
//! `--estimate` counts them, and a file that cannot be attached exits 2
//! naming it, before any provider is called.

use crate::common::{Home, script};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use roundtable_testkit::FakeProvider;

/// A 1×1 PNG.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\0\0\0\0IEND\xaeB`\x82";

/// `chart.png` and `notes.md` in a folder of their own; their paths.
fn files(dir: &tempfile::TempDir) -> (String, String) {
    let chart = dir.path().join("chart.png");
    let notes = dir.path().join("notes.md");
    std::fs::write(&chart, PNG).unwrap();
    std::fs::write(&notes, "# Notes\nRevenue rose.\n").unwrap();
    (
        chart.to_string_lossy().into_owned(),
        notes.to_string_lossy().into_owned(),
    )
}

#[tokio::test]
async fn attached_files_reach_the_provider_and_history_show_lists_them() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let home = Home::new(&fake);
    let picked = tempfile::tempdir().unwrap();
    let (chart, notes) = files(&picked);

    let estimate = home
        .run(&[
            "run",
            "What is this?",
            "-a",
            &chart,
            "-a",
            &notes,
            "-m",
            "fake/a",
            "--estimate",
        ])
        .await;
    assert_eq!(estimate.code, 0, "{}", estimate.stderr);
    assert!(fake.requests().is_empty(), "an estimate calls no one");

    let out = home
        .json(&[
            "run",
            "What is this?",
            "--attach",
            &chart,
            "-a",
            &notes,
            "-m",
            "fake/a",
            "--resolution",
            "fast",
            "--json",
        ])
        .await;
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let body = requests[0].body.to_string();
    let image = format!("data:image/png;base64,{}", STANDARD.encode(PNG));
    assert!(body.contains(&image), "{body}");
    assert!(body.contains("\"image_url\""), "{body}");
    assert!(body.contains("Revenue rose."), "{body}");

    let id = out["id"].as_str().unwrap();
    let show = home.run(&["history", "show", id]).await;
    assert_eq!(show.code, 0, "{}", show.stderr);
    assert!(show.stdout.contains("Attachments:"), "{}", show.stdout);
    assert!(
        show.stdout
            .contains(&format!("  chart.png (image/png, {} B)", PNG.len())),
        "{}",
        show.stdout
    );
    assert!(
        show.stdout.contains("  notes.md (text/markdown, 22 B)"),
        "{}",
        show.stdout
    );
    // Kept beside the history, not in it; found by a file's name.
    assert!(home.path().join("attachments").is_dir());
    let found = home.json(&["history", "search", "notes", "--json"]).await;
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
}

#[tokio::test]
async fn a_file_that_cannot_be_attached_exits_2_naming_it() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let home = Home::with_config(&fake, "[limits]\nmax_attachment_bytes = 64\n");
    let picked = tempfile::tempdir().unwrap();

    let missing = picked.path().join("nowhere.png");
    let out = home
        .run(&["run", "q", "-a", &missing.to_string_lossy(), "-m", "fake/a"])
        .await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("nowhere.png"), "{}", out.stderr);

    let big = picked.path().join("big.txt");
    std::fs::write(&big, [b'a'; 65]).unwrap();
    let out = home
        .run(&["run", "q", "-a", &big.to_string_lossy(), "-m", "fake/a"])
        .await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("big.txt"), "{}", out.stderr);
    assert!(
        out.stderr.contains("max_attachment_bytes"),
        "{}",
        out.stderr
    );

    // Not the image its name says: refused by the run's checks, named.
    let fake_png = picked.path().join("photo.png");
    std::fs::write(&fake_png, "just text").unwrap();
    let out = home
        .run(&[
            "run",
            "q",
            "-a",
            &fake_png.to_string_lossy(),
            "-m",
            "fake/a",
            "--json",
        ])
        .await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    let error: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(error["error"]["details"]["field"], "attachments[0].data");
    let message = error["error"]["message"].as_str().unwrap();
    assert!(message.contains("(photo.png)"), "{message}");
    assert!(message.contains("image/png"), "{message}");

    assert!(fake.requests().is_empty(), "no provider was called");
}
