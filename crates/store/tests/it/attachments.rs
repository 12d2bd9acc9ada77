//! Attached files: kept once each under their SHA-256 beside the database (real
//! files in a temporary folder), named by the stored request without their
//! bytes, read back and checked, found by search, removed with the last run
//! that names them.

use crate::common::*;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use roundtable_store::{
    Attachment, Error, ListQuery, RoundtableRequest, RunStatus, RunWrite, Store,
};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

pub const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

pub fn attachment(name: &str, media_type: &str, bytes: &[u8]) -> Attachment {
    Attachment {
        name: name.into(),
        media_type: media_type.into(),
        data: STANDARD.encode(bytes),
        ..Attachment::default()
    }
}

pub fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A request with a chart, notes, and the notes' bytes again under another name.
pub fn request_with_files(input: &str) -> RoundtableRequest {
    RoundtableRequest {
        attachments: vec![
            attachment("chart.png", "image/png", PNG),
            attachment("quarterly-notes.md", "text/markdown", b"# Q3\nrevenue up\n"),
            attachment("copy.txt", "text/plain", b"# Q3\nrevenue up\n"),
        ],
        ..request(input, &["a/one", "b/two"])
    }
}

pub fn open(dir: &Path) -> Store {
    Store::open(&dir.join("history.db")).unwrap()
}

/// Every file under `<dir>/attachments`, relative to it.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, at: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(at) else {
            return;
        };
        for e in entries {
            let path = e.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    let root = dir.join("attachments");
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    out.sort();
    out
}

fn file_count(store: &Store) -> i64 {
    let conn = rusqlite::Connection::open(store.path().unwrap()).unwrap();
    conn.query_row("SELECT count(*) FROM attachment_files", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_run_keeps_its_files_apart_and_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let req = request_with_files("What does the chart say?");
    store.begin_run(&new_run("rt_a", 1000, &req)).unwrap();

    // The same bytes twice are one file, named by their hash under its first two digits.
    let png = sha(PNG);
    let notes = sha(b"# Q3\nrevenue up\n");
    let mut expected = vec![
        Path::new(&png[..2]).join(&png),
        Path::new(&notes[..2]).join(&notes),
    ];
    expected.sort();
    assert_eq!(files(dir.path()), expected);
    assert_eq!(
        std::fs::read(dir.path().join("attachments").join(&expected[0])).unwrap(),
        if expected[0].ends_with(&png) {
            PNG.to_vec()
        } else {
            b"# Q3\nrevenue up\n".to_vec()
        }
    );
    assert_eq!(file_count(&store), 2);

    // The stored request names them without their bytes.
    let stored = store.get_run("rt_a").unwrap().unwrap().request;
    let raw: String = rusqlite::Connection::open(store.path().unwrap())
        .unwrap()
        .query_row("SELECT request FROM runs WHERE id = 'rt_a'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(!raw.contains(&STANDARD.encode(PNG)), "{raw}");
    for (a, sent) in stored.attachments.iter().zip(&req.attachments) {
        assert_eq!(a.name, sent.name);
        assert_eq!(a.media_type, sent.media_type);
        assert!(a.data.is_empty());
        let bytes = STANDARD.decode(&sent.data).unwrap();
        assert_eq!(a.sha256.as_deref(), Some(sha(&bytes).as_str()));
        assert_eq!(a.size, Some(bytes.len() as u64));
    }

    // Read back, checked, and filled back into the request.
    assert_eq!(store.read_attachment(&png).unwrap(), PNG);
    let mut again = stored.clone();
    store.hydrate(&mut again).unwrap();
    for (a, sent) in again.attachments.iter().zip(&req.attachments) {
        assert_eq!(a.data, sent.data);
    }
    let one = store.attachment(&png).unwrap().unwrap();
    assert_eq!(
        (one.name.as_str(), one.media_type.as_str()),
        ("chart.png", "image/png")
    );
    assert_eq!(one.data, STANDARD.encode(PNG));
    assert_eq!(store.attachment(&sha(b"never")).unwrap(), None);
}

#[test]
fn the_recorders_batches_store_files_too() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let good = request_with_files("batched");
    let mut bad = request_with_files("broken");
    bad.attachments[1].data = "not base64!".into();
    let out = store
        .record_batch(&[
            vec![RunWrite::Begin(new_run("rt_good", 1, &good))],
            vec![RunWrite::Begin(new_run("rt_bad", 2, &bad))],
        ])
        .unwrap();
    assert!(out[0].is_ok());
    // A request whose bytes cannot be read fails alone, naming the field.
    match &out[1] {
        Err(Error::InvalidAttachment { field, message }) => {
            assert_eq!(field, "attachments[1].data");
            assert!(message.contains("base64"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(store.get_run("rt_bad").unwrap().is_none());
    let stored = store.get_run("rt_good").unwrap().unwrap().request;
    assert!(stored.attachments.iter().all(|a| a.data.is_empty()));
    assert_eq!(files(dir.path()).len(), 2);
}

#[test]
fn deleting_runs_removes_the_files_no_run_names() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store
        .begin_run(&new_run("rt_1", 1, &request_with_files("first")))
        .unwrap();
    let second = RoundtableRequest {
        attachments: vec![attachment("same.png", "image/png", PNG)],
        ..request("second", &["a/one"])
    };
    store.begin_run(&new_run("rt_2", 2, &second)).unwrap();
    assert_eq!(files(dir.path()).len(), 2);

    // The chart is still named by the second run; the notes by none.
    assert!(store.delete_run("rt_1").unwrap());
    let png = sha(PNG);
    assert_eq!(
        files(dir.path()),
        vec![Path::new(&png[..2]).join(&png)],
        "nothing else left behind"
    );
    assert_eq!(file_count(&store), 1);
    assert_eq!(store.read_attachment(&png).unwrap(), PNG);

    assert!(store.delete_run("rt_2").unwrap());
    assert!(files(dir.path()).is_empty());
    assert_eq!(file_count(&store), 0);
    assert!(matches!(
        store.read_attachment(&png),
        Err(Error::AttachmentMissing { .. })
    ));

    // The same bytes attached again are stored again.
    store.begin_run(&new_run("rt_3", 3, &second)).unwrap();
    assert_eq!(store.read_attachment(&png).unwrap(), PNG);
}

#[test]
fn a_missing_or_damaged_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store
        .begin_run(&new_run("rt_1", 1, &request_with_files("q")))
        .unwrap();
    let png = sha(PNG);
    let path = dir.path().join("attachments").join(&png[..2]).join(&png);

    std::fs::write(&path, b"not the chart").unwrap();
    let err = store.read_attachment(&png).unwrap_err();
    assert!(matches!(err, Error::AttachmentCorrupt { .. }), "{err}");

    std::fs::remove_file(&path).unwrap();
    let mut req = store.get_run("rt_1").unwrap().unwrap().request;
    let err = store.hydrate(&mut req).unwrap_err().to_string();
    assert!(err.contains("'chart.png'"), "{err}");
    assert!(err.contains("attachments folder"), "{err}");
    // An export still names it, without its bytes.
    let mut req = store.get_run("rt_1").unwrap().unwrap().request;
    assert_eq!(store.hydrate_available(&mut req), vec!["chart.png"]);
    assert!(!req.attachments[1].data.is_empty());

    // A hash is never taken as a path.
    let err = store.read_attachment("../../history.db").unwrap_err();
    assert!(matches!(err, Error::InvalidAttachment { .. }), "{err}");
}

#[test]
fn a_request_naming_stored_files_refers_to_them() {
    // A re-resolved run's request: the parent's attachments, without bytes.
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store
        .begin_run(&new_run("rt_parent", 1, &request_with_files("q")))
        .unwrap();
    let stored = store.get_run("rt_parent").unwrap().unwrap().request;
    store.begin_run(&new_run("rt_child", 2, &stored)).unwrap();
    let child = store.get_run("rt_child").unwrap().unwrap().request;
    assert_eq!(child.attachments, stored.attachments);

    // The files stay while either run names them.
    assert!(store.delete_run("rt_parent").unwrap());
    assert_eq!(files(dir.path()).len(), 2);
    let mut child = child;
    store.hydrate(&mut child).unwrap();
    assert_eq!(child.attachments[0].data, STANDARD.encode(PNG));
}

#[test]
fn search_finds_a_run_by_its_attachments_names() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store
        .begin_run(&new_run(
            "rt_files",
            1,
            &request_with_files("What changed?"),
        ))
        .unwrap();
    let req = request("Something else entirely", &["a/one"]);
    store.begin_run(&new_run("rt_plain", 2, &req)).unwrap();
    store
        .finish_run(
            &response(
                "rt_files",
                &request_with_files("x"),
                &["ok", "ok"],
                Some("ok"),
            ),
            RunStatus::Completed,
        )
        .unwrap();
    for q in ["quarterly", "chart.png", "notes"] {
        let found = store.search(q, &ListQuery::default()).unwrap();
        let ids: Vec<_> = found.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, vec!["rt_files"], "search {q}");
    }
}

#[test]
fn an_in_memory_history_keeps_the_bytes_in_the_request() {
    let store = Store::open_in_memory().unwrap();
    assert_eq!(store.attachments_dir(), None);
    let req = request_with_files("q");
    store.begin_run(&new_run("rt_m", 1, &req)).unwrap();
    let stored = store.get_run("rt_m").unwrap().unwrap().request;
    assert_eq!(stored.attachments[0].data, req.attachments[0].data);
    assert_eq!(
        stored.attachments[0].sha256.as_deref(),
        Some(sha(PNG).as_str())
    );
    assert_eq!(store.read_attachment(&sha(PNG)).unwrap(), PNG);
    assert!(store.delete_run("rt_m").unwrap());
}
