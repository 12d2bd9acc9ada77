//! Stars and tags: what a person marks runs with.

use super::{Store, run_exists};
use crate::{Error, Result};
use rusqlite::params;

impl Store {
    /// Star or unstar a run. `false` when there is no such run.
    pub fn set_starred(&self, id: &str, starred: bool) -> Result<bool> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE runs SET starred = ?2 WHERE id = ?1",
                params![id, starred],
            )?;
            Ok(n > 0)
        })
    }

    /// Tag a run (the tag is trimmed; tagging twice is a no-op). `false` when there
    /// is no such run.
    pub fn add_tag(&self, id: &str, tag: &str) -> Result<bool> {
        let tag = check_tag(tag)?;
        self.write(|tx| {
            if !run_exists(tx, id)? {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO tags (run_id, tag) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                params![id, tag],
            )?;
            Ok(true)
        })
    }

    /// Remove a tag. `false` when the run did not have it (or does not exist).
    pub fn remove_tag(&self, id: &str, tag: &str) -> Result<bool> {
        let tag = tag.trim();
        self.write(|tx| {
            let n = tx.execute(
                "DELETE FROM tags WHERE run_id = ?1 AND tag = ?2",
                params![id, tag],
            )?;
            Ok(n > 0)
        })
    }
}

pub(super) fn check_tag(tag: &str) -> Result<&str> {
    let t = tag.trim();
    if t.is_empty() || t.chars().count() > 64 {
        return Err(Error::InvalidTag(tag.to_string()));
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_trimmed_and_bounded() {
        assert_eq!(check_tag("  work ").unwrap(), "work");
        assert!(check_tag("   ").is_err());
        assert!(check_tag(&"x".repeat(65)).is_err());
    }
}
