//! Attached files no run names are not left behind: a recording or an import
//! that fails removes the files it wrote, and opening the history puts back
//! the files a delete killed part-way had renamed aside (its runs still
//! there) and removes what dead processes left (temporary files, files
//! renamed aside for runs that are gone, files written for a run never
//! recorded). Real files in a temporary folder; the half-done states are
//! made on disk as a killed process leaves them.

use crate::attachments::{PNG, attachment, files, open, request_with_files, sha};
use crate::common::*;
use roundtable_store::export::{import_runs_json, to_json};
use roundtable_store::{Error, RoundtableRequest, RunStatus, RunWrite, Store};
use std::path::{Path, PathBuf};

/// An owner id whose process is gone (it never took a lock).
const DEAD: &str = "0123456789abcdef0123456789abcdef";

/// `<sha>` relative to the attachments folder.
fn stored(sha: &str) -> PathBuf {
    Path::new(&sha[..2]).join(sha)
}

/// A request attaching `bytes` alone.
fn with_file(input: &str, bytes: &[u8]) -> RoundtableRequest {
    RoundtableRequest {
        attachments: vec![attachment("file.txt", "text/plain", bytes)],
        ..request(input, &["a/one"])
    }
}

#[test]
fn opening_the_history_undoes_a_delete_killed_part_way_and_sweeps_what_the_dead_left() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("attachments");
    let store = open(dir.path());
    let req = request_with_files("kept");
    store.begin_run(&new_run("rt_kept", 1, &req)).unwrap();
    let resp = response("rt_kept", &req, &["a", "b"], Some("r"));
    store.finish_run(&resp, RunStatus::Completed).unwrap();
    let (png, notes) = (sha(PNG), sha(b"# Q3\nrevenue up\n"));
    drop(store);

    // A delete killed before its transaction committed: the run's files are
    // renamed aside, the run is still there.
    for s in [&png, &notes] {
        let path = root.join(stored(s));
        std::fs::rename(&path, path.with_extension(format!("{DEAD}.deleted"))).unwrap();
    }
    // A delete killed after it committed: the file of a run that is gone.
    let gone = sha(b"gone");
    std::fs::create_dir_all(root.join(&gone[..2])).unwrap();
    std::fs::write(
        root.join(&gone[..2]).join(format!("{gone}.{DEAD}.deleted")),
        "x",
    )
    .unwrap();
    // A file being written when its process died, and one written for a run
    // never recorded (killed between the two).
    let tmp = root
        .join(&png[..2])
        .join(format!(".{png}.{DEAD}.{DEAD}.tmp"));
    std::fs::write(&tmp, "half").unwrap();
    let orphan = sha(b"orphan");
    std::fs::create_dir_all(root.join(&orphan[..2])).unwrap();
    std::fs::write(root.join(stored(&orphan)), "orphan").unwrap();
    // Something that is not the history's.
    std::fs::write(root.join("README"), "mine").unwrap();

    // A live process's delete in flight is left alone.
    let live = open(dir.path());
    let theirs = sha(b"theirs");
    std::fs::create_dir_all(root.join(&theirs[..2])).unwrap();
    let their_aside = root
        .join(&theirs[..2])
        .join(format!("{theirs}.{}.deleted", live.owner()));
    std::fs::write(&their_aside, "theirs").unwrap();

    let store = open(dir.path());
    let mut want = vec![
        stored(&png),
        stored(&notes),
        their_aside.strip_prefix(&root).unwrap().to_path_buf(),
        PathBuf::from("README"),
    ];
    want.sort();
    assert_eq!(files(dir.path()), want);
    // The run can be re-run again: its files are back, and whole.
    let mut back = store.get_run("rt_kept").unwrap().unwrap().request;
    store.hydrate(&mut back).unwrap();
    let data = |r: &RoundtableRequest| -> Vec<String> {
        r.attachments.iter().map(|a| a.data.clone()).collect()
    };
    assert_eq!(data(&back), data(&req));
    // Tidied once: a second open finds nothing to do.
    assert_eq!(store.tidy_attachments().unwrap(), 0);
}

#[test]
fn a_failed_import_leaves_none_of_the_files_it_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let old = with_file("already here", b"old bytes");
    store.begin_run(&new_run("rt_old", 1, &old)).unwrap();
    let before = files(dir.path());

    // An export from elsewhere: a run with new files, then one whose id is
    // already in this history: the transaction fails after the files were
    // written.
    let src = Store::open_in_memory().unwrap();
    for (id, req) in [
        ("rt_new", request_with_files("new")),
        ("rt_old", with_file("clash", b"old bytes again")),
    ] {
        src.begin_run(&new_run(id, 2, &req)).unwrap();
    }
    let runs: Vec<_> = ["rt_new", "rt_old"]
        .iter()
        .map(|id| src.get_run(id).unwrap().unwrap())
        .collect();
    let json = to_json(&runs, &[]);
    let err = store
        .bulk_import(&import_runs_json(&json).unwrap())
        .unwrap_err();
    assert!(
        matches!(err, Error::AlreadyExists(ref id) if id == "rt_old"),
        "{err}"
    );
    assert_eq!(files(dir.path()), before, "nothing left behind");

    // One whose second run's bytes are not base64: the first's files were
    // written already.
    let mut bad = import_runs_json(&json).unwrap();
    bad[1].response.id = "rt_other".into();
    bad[1].request.as_mut().unwrap().attachments[0].data = "not base64!".into();
    let err = store.bulk_import(&bad).unwrap_err();
    assert!(matches!(err, Error::InvalidAttachment { .. }), "{err}");
    assert_eq!(files(dir.path()), before, "nothing left behind");
    // The file a run names stays whatever fails.
    let mut back = store.get_run("rt_old").unwrap().unwrap().request;
    store.hydrate(&mut back).unwrap();
}

#[test]
fn a_recording_that_fails_leaves_none_of_the_files_it_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store
        .begin_run(&new_run("rt_1", 1, &with_file("first", b"first")))
        .unwrap();
    let before = files(dir.path());
    // The same id again, with a new file: refused in the transaction.
    let err = store
        .begin_run(&new_run("rt_1", 2, &with_file("again", b"second")))
        .unwrap_err();
    assert!(matches!(err, Error::AlreadyExists(_)), "{err}");
    assert_eq!(files(dir.path()), before);

    // In a batch, the group that fails loses its new file; the other keeps its.
    let out = store
        .record_batch(&[
            vec![RunWrite::Begin(new_run(
                "rt_1",
                3,
                &with_file("x", b"third"),
            ))],
            vec![RunWrite::Begin(new_run(
                "rt_2",
                4,
                &with_file("y", b"fourth"),
            ))],
        ])
        .unwrap();
    assert!(matches!(out[0], Err(Error::AlreadyExists(_))));
    assert!(out[1].is_ok());
    let mut want = before.clone();
    want.push(stored(&sha(b"fourth")));
    want.sort();
    assert_eq!(files(dir.path()), want);
}
