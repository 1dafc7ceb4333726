//! Compaction: give the space of deleted and overwritten data back to the
//! file system.

use std::path::Path;

use super::{BackupOptions, Progress, backup, restore};
use crate::db::Db;
use crate::error::Error;

/// Compaction passes before a file that keeps moving is called damaged.
const MAX_PASSES: u32 = 64;

/// File sizes before and after a compaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compacted {
    /// Bytes of the file before.
    pub before: u64,
    /// Bytes of the (new) file after. For [`compact`], measured while the
    /// database is still open: closing it writes the engine's bookkeeping,
    /// which can add a few pages (`vbolt compact` reports the size after
    /// closing).
    pub after: u64,
}

fn file_len(path: &Path) -> Result<u64, Error> {
    Ok(std::fs::metadata(path)?.len())
}

/// Compacts the database file in place: live pages move to the front and
/// the file is truncated. Needs the database to itself (no transaction may
/// be open, hence `&mut`). `progress` hears the start and the end (the
/// engine does not report in between).
///
/// ```
/// use vbolt::*;
/// static BLOBS: Bucket<u32, Vec<u8>> = Bucket::new("blobs", vpack::key::fuint(), vpack::bytes);
/// let dir = tempfile::tempdir()?;
/// let mut db = Db::open(dir.path().join("app.vbolt"))?;
/// db.update(|tx| {
///     for i in 1..=200u32 { write(tx, &BLOBS, i, &mut vec![7u8; 4096]); }
///     Ok::<_, Error>(())
/// })?;
/// db.update(|tx| {
///     for i in 1..=200u32 { delete(tx, &BLOBS, i); }
///     Ok::<_, Error>(())
/// })?;
/// let sizes = compact(&mut db, |_| {})?;
/// assert!(sizes.after < sizes.before);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn compact(db: &mut Db, mut progress: impl FnMut(Progress)) -> Result<Compacted, Error> {
    let path = db.path().map(Path::to_path_buf);
    let size = |p: &Option<std::path::PathBuf>| p.as_deref().map_or(Ok(0), file_len);
    let before = size(&path)?;
    progress(Progress { done: 0, total: 1 });
    // Each pass may free pages that let the next one move more; a handful
    // settle any file, and a bound keeps a damaged one from looping (each
    // pass has a budget of commits of its own, in the engine backend).
    let mut passes = 0;
    while db.store_mut().compact()? {
        passes += 1;
        if passes == MAX_PASSES {
            return Err(Error::Corrupted(format!(
                "compaction still moved pages after {MAX_PASSES} passes: \
                 the engine's allocator state looks damaged (`vbolt recover` rebuilds the file)"
            )));
        }
    }
    progress(Progress { done: 1, total: 1 });
    Ok(Compacted {
        before,
        after: size(&path)?,
    })
}

/// Writes a compact copy of the database to a new file at `path`, from one
/// snapshot while writers go on (the copy is a [`backup`] streamed straight
/// into a [`restore`], with all their checks, and appears atomically).
/// The copy takes the database file's permissions (owner-only for an
/// in-memory database). `progress` counts entries copied.
pub fn compact_into(
    db: &Db,
    path: &Path,
    progress: impl FnMut(Progress),
) -> Result<Compacted, Error> {
    let before = db.path().map_or(Ok(0), file_len)?;
    let (reader, writer) = std::io::pipe()?;
    std::thread::scope(|s| {
        let producer = s.spawn(move || {
            backup(
                db,
                std::io::BufWriter::new(writer),
                &BackupOptions::all(),
                |_| {},
            )
        });
        let restored = restore(std::io::BufReader::new(reader), path, progress);
        let produced = producer
            .join()
            .unwrap_or_else(|_| Err(Error::Engine("the backup thread panicked".into())));
        // A restore error is the cause when the backup only saw the pipe close.
        restored.and(produced)
    })?;
    // The engine grows a new file in regions as it is written; compacting
    // the copy in place returns what they left free, so the copy is no
    // larger than an in-place compaction of the original would make it.
    compact(&mut Db::open(path)?, |_| {})?;
    if let Some(source) = db.path() {
        std::fs::set_permissions(path, std::fs::metadata(source)?.permissions())?;
    }
    Ok(Compacted {
        before,
        after: file_len(path)?,
    })
}
