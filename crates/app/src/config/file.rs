//! Replacing `config.toml` safely: the new text is written to a temp file of a
//! unique name in the same directory, given the old file's permissions, synced,
//! renamed over the file, and the directory synced, so a crash leaves either
//! the old file or the new one, never a mix, and a 0600 file stays 0600.
//!
//! When `config.toml` is a symlink (dotfiles kept in a repository), the file it
//! points to is replaced and the link is kept.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Most symlinks followed from `config.toml` to the file (Linux's own limit).
pub const MAX_SYMLINK_HOPS: usize = 40;

/// The file `path` names, following symlinks (a relative link is relative to
/// its own directory); `path` itself when it is not a link or does not exist.
pub fn follow_links(path: &Path) -> std::io::Result<PathBuf> {
    let mut at = path.to_path_buf();
    for _ in 0..MAX_SYMLINK_HOPS {
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = std::fs::read_link(&at)?;
                at = match at.parent() {
                    Some(dir) => dir.join(target),
                    None => target,
                };
            }
            _ => return Ok(at),
        }
    }
    Err(std::io::Error::other(format!(
        "{}: more than {MAX_SYMLINK_HOPS} symlinks",
        path.display()
    )))
}

/// Replaces the file at `path` (or the one it links to) with `contents`,
/// keeping its permissions; a new file is readable by its owner only, as a
/// config that can hold a gateway's credentials in its headers should be.
pub fn replace(path: &Path, contents: &str) -> std::io::Result<()> {
    let target = follow_links(path)?;
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let permissions = match std::fs::metadata(&target) {
        Ok(m) => Some(m.permissions()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned());
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{}.", name.as_deref().unwrap_or("config")))
        .suffix(".saving")
        .tempfile_in(&dir)?;
    tmp.write_all(contents.as_bytes())?;
    if let Some(p) = permissions {
        tmp.as_file().set_permissions(p)?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(&target).map_err(|e| e.error)?;
    sync_dir(&dir)
}

/// Makes a rename in `dir` durable (a no-op where directories cannot be opened).
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::{PermissionsExt, symlink};

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn the_mode_is_kept_and_a_new_file_is_the_owners_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "old").unwrap();
        for kept in [0o600, 0o640, 0o644] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(kept)).unwrap();
            replace(&path, "new").unwrap();
            assert_eq!(mode(&path), kept);
        }
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        let fresh = dir.path().join("fresh.toml");
        replace(&fresh, "x").unwrap();
        assert_eq!(mode(&fresh), 0o600);
        // Nothing is left beside it.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn a_symlink_stays_a_link_and_its_target_is_written() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("dotfiles")).unwrap();
        let real = dir.path().join("dotfiles/roundtable.toml");
        std::fs::write(&real, "old").unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o600)).unwrap();
        let link = dir.path().join("config.toml");
        symlink("dotfiles/roundtable.toml", &link).unwrap();
        replace(&link, "new").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
        assert_eq!(mode(&real), 0o600);
        // A loop of links is an error, not a hang.
        let a = dir.path().join("a.toml");
        symlink("b.toml", &a).unwrap();
        symlink("a.toml", dir.path().join("b.toml")).unwrap();
        let e = replace(&a, "x").unwrap_err();
        assert!(e.to_string().contains("symlinks"), "{e}");
    }

    #[test]
    fn the_temp_file_has_a_name_of_its_own() {
        // The old fixed name `config.toml.saving`, taken by something else
        // (another save in flight, a directory), neither blocks the save nor is
        // touched by it.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::create_dir(dir.path().join("config.toml.saving")).unwrap();
        std::fs::write(dir.path().join(".config.toml.saving"), "other").unwrap();
        replace(&path, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert!(dir.path().join("config.toml.saving").is_dir());
        assert_eq!(
            std::fs::read_to_string(dir.path().join(".config.toml.saving")).unwrap(),
            "other"
        );
    }
}
