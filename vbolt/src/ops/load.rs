//! Building a new database file from a plain list of tables and entries:
//! the way back from a text dump (`vbolt dump`), which a person can read,
//! diff and edit, where a [`backup`](crate::backup) stream is for machines.

use std::path::Path;

use super::backup::{BATCH_BYTES, BATCH_ENTRIES, BackupSummary};
use crate::engine::{EngineOptions, Store};
use crate::error::Error;
use crate::files::{Mode, Scratch};
use crate::ops::inspect::Role;

/// One item of a dump, in the order [`load`] takes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DumpItem {
    /// A table begins (every table is listed, empty ones too), by its
    /// engine-level name (`bucket:users`, `index:by_tag`, `vbolt:sequences`).
    Table(String),
    /// An entry of the table last begun.
    Entry {
        /// The key's bytes.
        key: Vec<u8>,
        /// The value's bytes.
        value: Vec<u8>,
    },
}

/// Builds a new database file at `path` from `items`: each table, then its
/// entries in ascending key order, as a dump lists them. Like
/// [`restore`](crate::restore), the data goes to a scratch file beside
/// `path` that becomes `path` only once everything was loaded and made
/// durable; `path` must not exist, and on any failure it does not appear.
///
/// Refused, naming the item (counted from 1, so a dump with one item per
/// line is refused by line): a name that is not a vbolt table, a table
/// listed twice, an entry before any table, a key not above the one before
/// it, and any `Err` the items carry. The summary's `bytes` counts the
/// keys' and values' bytes.
///
/// ```
/// use vbolt::*;
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("loaded.vbolt");
/// let value = vpack::to_bytes(&mut "hello".to_string(), vpack::string)?;
/// let items = [
///     DumpItem::Table("bucket:notes".into()),
///     DumpItem::Entry { key: 1u64.to_be_bytes().to_vec(), value },
/// ];
/// load(items.into_iter().map(Ok), &path)?;
/// static NOTES: Bucket<u64, String> = Bucket::of("notes");
/// assert_eq!(get(&Db::open(&path)?.read_tx()?, &NOTES, 1)?.as_deref(), Some("hello"));
///
/// // A key out of order: the dump was edited or damaged.
/// let bad = [
///     DumpItem::Table("bucket:notes".into()),
///     DumpItem::Entry { key: vec![2], value: vec![] },
///     DumpItem::Entry { key: vec![1], value: vec![] },
/// ];
/// let err = load(bad.into_iter().map(Ok), &dir.path().join("bad.vbolt")).unwrap_err();
/// assert!(err.to_string().contains("item 3"), "{err}");
/// assert!(!dir.path().join("bad.vbolt").exists());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load(
    items: impl IntoIterator<Item = Result<DumpItem, Error>>,
    path: &Path,
) -> Result<BackupSummary, Error> {
    if path.exists() {
        return Err(Error::Io(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("{} exists; load writes a new file only", path.display()),
        )));
    }
    let scratch = Scratch::beside(path, "loading", Mode::Private)?;
    let store = Store::open(scratch.path(), &EngineOptions::default())?;
    let summary = load_items(items, &store)?;
    store.sync()?;
    drop(store);
    scratch.publish(path, false)?;
    Ok(summary)
}

fn load_items(
    items: impl IntoIterator<Item = Result<DumpItem, Error>>,
    store: &Store,
) -> Result<BackupSummary, Error> {
    let mut seen = std::collections::HashSet::new();
    let mut table: Option<String> = None;
    let mut previous: Option<Vec<u8>> = None;
    let mut batch: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut batch_bytes = 0usize;
    let mut summary = BackupSummary {
        tables: 0,
        entries: 0,
        bytes: 0,
    };
    let flush = |table: &Option<String>,
                 batch: &mut Vec<(Vec<u8>, Vec<u8>)>,
                 batch_bytes: &mut usize|
     -> Result<(), Error> {
        if let (Some(name), false) = (table, batch.is_empty()) {
            store.load(name, batch)?;
        }
        batch.clear();
        *batch_bytes = 0;
        Ok(())
    };
    for (n, item) in items.into_iter().enumerate() {
        let at = n + 1;
        let bad = |why: String| Error::Backup(format!("item {at}: {why}"));
        match item? {
            DumpItem::Table(name) => {
                flush(&table, &mut batch, &mut batch_bytes)?;
                let (role, declared) = Role::of(&name);
                if role == Role::Other || declared.is_empty() {
                    return Err(bad(format!("{name:?} is not a vbolt table name")));
                }
                if !seen.insert(name.clone()) {
                    return Err(bad(format!(
                        "table {name:?} is listed twice (a dump lists each table once)"
                    )));
                }
                store.load(&name, &[])?;
                table = Some(name);
                previous = None;
                summary.tables += 1;
            }
            DumpItem::Entry { key, value } => {
                if table.is_none() {
                    return Err(bad("an entry comes before any table".into()));
                }
                if previous.as_ref().is_some_and(|p| key <= *p) {
                    return Err(bad(
                        "a key not above the one before it (a dump lists keys in order, \
                         each once)"
                            .into(),
                    ));
                }
                summary.entries += 1;
                summary.bytes += (key.len() + value.len()) as u64;
                batch_bytes += key.len() + value.len();
                previous = Some(key.clone());
                batch.push((key, value));
                if batch.len() >= BATCH_ENTRIES || batch_bytes >= BATCH_BYTES {
                    flush(&table, &mut batch, &mut batch_bytes)?;
                }
            }
        }
    }
    flush(&table, &mut batch, &mut batch_bytes)?;
    Ok(summary)
}
