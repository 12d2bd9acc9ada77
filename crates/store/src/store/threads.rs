//! Conversations: the runs of a thread (every turn of every branch, one
//! indexed query), the path from its first turn to one of them (what a
//! follow-up is sent), and deleting a turn with what follows it or a whole
//! thread.
//!
//! A run's thread is the id of the first run of its conversation
//! (`runs.thread_id`, set when it is recorded from the request's
//! `previous_id`); two runs following the same run are two branches.

use super::Store;
use super::query::StoredRun;
use crate::Result;
use std::collections::{HashMap, HashSet};

impl Store {
    /// Every run of the conversation `id` is a turn of, oldest first: its
    /// turns on every branch. Empty when there is no such run.
    pub fn thread(&self, id: &str) -> Result<Vec<StoredRun>> {
        self.load_runs(
            "r.thread_id = (SELECT thread_id FROM runs WHERE id = ?1)",
            id,
        )
    }

    /// Delete `id` and every run that follows it, on every branch; how many
    /// runs were deleted (0 when there was no such run). What follows is found
    /// by the thread's links (`previous_id`), whatever the runs' times say: a
    /// clock set back, or an imported turn, can date a follower before what it
    /// follows.
    pub fn delete_turn_and_after(&self, id: &str) -> Result<usize> {
        let thread = self.thread(id)?;
        let mut followers: HashMap<&str, Vec<&str>> = HashMap::new();
        for run in &thread {
            if let Some(previous) = run.summary.previous_id.as_deref() {
                followers
                    .entry(previous)
                    .or_default()
                    .push(run.summary.id.as_str());
            }
        }
        let mut doomed = vec![id.to_string()];
        let mut seen: HashSet<&str> = HashSet::from([id]);
        let mut next = 0;
        while let Some(run) = doomed.get(next) {
            let after = followers.get(run.as_str()).map(Vec::as_slice);
            for &f in after.unwrap_or_default() {
                // A hand-edited database is not trusted with a loop.
                if seen.insert(f) {
                    doomed.push(f.to_string());
                }
            }
            next += 1;
        }
        self.delete_runs(&doomed)
    }

    /// Delete every run of the conversation `id` is a turn of; how many.
    pub fn delete_thread(&self, id: &str) -> Result<usize> {
        let ids: Vec<String> = self.thread(id)?.into_iter().map(|r| r.summary.id).collect();
        self.delete_runs(&ids)
    }
}

/// The turns from the first run of `thread` to `id`, following `previous_id`
/// back (a branch: the runs `id` follows, not its siblings). Empty when `id`
/// is not in `thread`.
pub fn path_to<'a>(thread: &'a [StoredRun], id: &str) -> Vec<&'a StoredRun> {
    let find = |id: &str| thread.iter().find(|r| r.summary.id == id);
    let mut path = Vec::new();
    let mut next = find(id);
    while let Some(run) = next {
        // A thread's links go back in time; a cycle is not possible, but a
        // hand-edited database is not trusted with a loop.
        if path.len() > thread.len() {
            break;
        }
        path.push(run);
        next = run.summary.previous_id.as_deref().and_then(find);
    }
    path.reverse();
    path
}
