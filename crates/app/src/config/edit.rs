//! The `toml_edit` writer of `config.toml`: every change Settings makes (the
//! preferences, a provider of the user's own, a provider's concurrency) is an
//! edit of the file's text with these, so the user's comments, layout and
//! every other entry are kept, and a value already there keeps the comment
//! beside it. `rewrite` reads the file, applies the edit and replaces the
//! file ([`super::file::replace`]); each edit checks its result as a whole
//! `config.toml` before it is written.

use crate::AppError;
use crate::Code;
use std::path::Path;
use toml_edit::{DocumentMut, Item, Table, Value};

/// Replaces the `config.toml` at `path` (created when missing) with what
/// `change` makes of its text (see [`super::file::replace`]: its mode
/// and a symlink kept, a unique temp file, synced).
pub(crate) fn rewrite(
    path: &Path,
    change: impl FnOnce(&str) -> Result<String, String>,
) -> Result<(), AppError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return Err(AppError::new(
                Code::Config,
                format!("cannot read {}: {e}", path.display()),
            ));
        }
    };
    let edited = change(&text).map_err(|message| {
        AppError::new(
            Code::Config,
            format!(
                "{}: {message}; fix the file by hand, then save again",
                path.display()
            ),
        )
    })?;
    super::file::replace(path, &edited).map_err(|e| {
        AppError::new(
            Code::Config,
            format!("cannot write {}: {e}", path.display()),
        )
    })
}

/// The text as a document to edit; an error when it is not valid TOML.
pub(crate) fn parse(text: &str) -> Result<DocumentMut, String> {
    let mut doc: DocumentMut = text.parse().map_err(|e| format!("not valid TOML: {e}"))?;
    // A file of comments only: they are the document's trailing text, which is
    // written after everything; keep them on top instead.
    if doc.as_table().is_empty() {
        let trailing = doc.trailing().as_str().unwrap_or("").to_string();
        if !trailing.trim().is_empty() {
            doc.set_trailing("");
            doc.as_table_mut().decor_mut().set_prefix(trailing);
        }
    }
    Ok(doc)
}

/// The table `key` of `root`, created (as a `[key]` section) when missing.
pub(crate) fn table<'a>(root: &'a mut Table, key: &str) -> Result<&'a mut Table, String> {
    let item = root.entry(key).or_insert_with(|| {
        let mut t = Table::new();
        t.set_implicit(false);
        Item::Table(t)
    });
    if let Item::Value(Value::InlineTable(inline)) = item {
        // `server = { port = 1 }`: made a section to add keys to it plainly.
        let t = std::mem::take(inline).into_table();
        *item = Item::Table(t);
    }
    item.as_table_mut()
        .ok_or_else(|| format!("{key} must be a table ([{key}])"))
}

/// Removes the top-level `key`; the comment lines above it move to what follows.
pub(crate) fn remove(root: &mut Table, key: &str) {
    let above = root
        .key(key)
        .and_then(|k| k.leaf_decor().prefix())
        .and_then(|p| p.as_str())
        .filter(|p| p.contains('#'))
        .map(str::to_string);
    let Some(at) = root.iter().position(|(k, _)| k == key) else {
        return;
    };
    root.remove(key);
    let Some(above) = above else { return };
    let prepend = |old: Option<&str>| format!("{above}{}", old.unwrap_or(""));
    // The next plain entry, in order, else the first section.
    if let Some((mut k, _)) = root.iter_mut().skip(at).find(|(_, item)| item.is_value()) {
        let old = k
            .leaf_decor()
            .prefix()
            .and_then(|p| p.as_str())
            .map(str::to_string);
        k.leaf_decor_mut().set_prefix(prepend(old.as_deref()));
        return;
    }
    let first = root
        .iter_mut()
        .filter_map(|(_, item)| item.as_table_mut())
        .min_by_key(|t| t.position());
    if let Some(t) = first {
        let old = t
            .decor()
            .prefix()
            .and_then(|p| p.as_str())
            .map(str::to_string);
        t.decor_mut().set_prefix(prepend(old.as_deref()));
    }
}

/// Sets `key` to `value`, keeping the comments around a value already there.
pub(crate) fn set(table: &mut Table, key: &str, mut value: Value) {
    match table.get_mut(key).and_then(Item::as_value_mut) {
        Some(old) => {
            *value.decor_mut() = old.decor().clone();
            *old = value;
        }
        None => {
            table.insert(key, Item::Value(value));
        }
    }
}
