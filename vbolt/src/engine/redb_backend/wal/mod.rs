//! The write-ahead log: durable commits at the cost of one sequential
//! write.
//!
//! Without it, each durable commit syncs the pages it changed where they
//! lie in the database file: a dozen or more scattered writes, then
//! `fdatasync`. With it ([`Options::write_ahead_log`]), the same writes
//! still go to the database file, unsynced, and are also appended to a
//! log beside it (`<file>-wal`), which is the only file synced at commit:
//! one sequential write. When the log is full, a checkpoint syncs the
//! database file once and starts the log over.
//!
//! # What survives a crash
//!
//! The engine's contract with its storage is that a sync makes every
//! earlier write durable. The log keeps it: a sync record ends each
//! commit's writes, and at the next open the writes up to the last whole
//! sync record are copied into the database file, in order, before the
//! engine reads it. Records past that (a commit torn by the crash) are
//! ignored, as writes that never reached the disk would be. So a commit
//! acknowledged as durable is in the file after any crash, and the engine
//! finds the file in a state its own crash recovery knows.
//!
//! # Who replays it
//!
//! Every vbolt open of the file, with the log option or without: a log
//! holding commits is replayed by a read-write open and refused by a
//! read-only one ([`Error::NeedsRecovery`]). A program that opens the
//! file with redb directly does not know the log: after a crash, open it
//! with vbolt once first. The log is locked while a database has it, and
//! remembers which file it belongs to (the inode): a log beside a file
//! that replaced the one it was written for is refused, not replayed.
//!
//! [`Options::write_ahead_log`]: crate::Options::write_ahead_log
//! [`Error::NeedsRecovery`]: crate::Error::NeedsRecovery

mod backend;
mod format;
mod replay;

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, ErrorKind};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

pub(crate) use backend::LoggedFile;
use format::{Header, RECORDS_START, SLOTS};
use replay::{apply, read_header, synced_end};

use crate::error::Error;
use crate::files::sync_dir_of;

/// The log of the database file at `main`: `<name>-wal` beside it.
pub(crate) fn log_path(main: &Path) -> PathBuf {
    let mut name = main.file_name().unwrap_or_default().to_os_string();
    name.push("-wal");
    main.with_file_name(name)
}

/// Writes `header` to both slots, syncing after each, so a crash leaves
/// at least one slot whole.
fn write_header(log: &File, header: &Header) -> io::Result<()> {
    let bytes = header.encode();
    for slot in SLOTS {
        log.write_all_at(&bytes, slot)?;
        log.sync_data()?;
    }
    Ok(())
}

fn lock(log: &File, shared: bool) -> Result<bool, Error> {
    let got = if shared {
        log.try_lock_shared()
    } else {
        log.try_lock()
    };
    match got {
        Ok(()) => Ok(true),
        Err(TryLockError::WouldBlock) => Ok(false),
        Err(TryLockError::Error(e)) => Err(Error::Io(e)),
    }
}

/// Copies the commits `log` holds into `main`, then writes a header with
/// a new epoch (which also makes those records dead). `Ok(None)` when the
/// log holds no commit and `always` is false: nothing is written then.
fn recover(log: &File, main: &File, path: &Path, always: bool) -> Result<Option<Header>, Error> {
    let owner = main.metadata()?.ino();
    let mut replayed = false;
    let epoch = match read_header(log, path)? {
        None => 0,
        Some(h) => {
            let end = synced_end(log, &h)?;
            if end > RECORDS_START {
                if h.owner != owner {
                    return Err(Error::Corrupted(format!(
                        "write-ahead log {} holds commits of another file (inode {}; \
                         this one is {owner}): if the database file was replaced on \
                         purpose, move the log away",
                        path.display(),
                        h.owner
                    )));
                }
                apply(log, main, &h, end, path)?;
                replayed = true;
            }
            h.epoch
        }
    };
    if !(replayed || always) {
        return Ok(None);
    }
    let fresh = Header {
        epoch: epoch + 1,
        owner,
    };
    write_header(log, &fresh)?;
    Ok(Some(fresh))
}

/// Before an open without the log option: a log left beside `main` is
/// replayed (read-write) or refused if it holds commits (read-only).
/// Returns the log's file, holding its lock for as long as the caller
/// keeps it; `None` when there is no log (or, read-only, when a writer
/// holds it: the file it writes is current).
pub(crate) fn settle(main: &Path, read_only: bool) -> Result<Option<File>, Error> {
    let path = log_path(main);
    let log = match OpenOptions::new().read(true).write(!read_only).open(&path) {
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        other => other?,
    };
    if read_only {
        if !lock(&log, true)? {
            return Ok(None);
        }
        if let Some(h) = read_header(&log, &path)?
            && synced_end(&log, &h)? > RECORDS_START
        {
            return Err(Error::NeedsRecovery);
        }
        return Ok(Some(log));
    }
    if !lock(&log, false)? {
        return Err(Error::InUse);
    }
    let file = OpenOptions::new().read(true).write(true).open(main)?;
    recover(&log, &file, &path, false)?;
    Ok(Some(log))
}

/// Opens `main` (which exists) with its log, made or replayed, ready for
/// the engine: the log locked, preallocated to `capacity` bytes of
/// records, its header under a new epoch.
pub(crate) fn open(main: &Path, capacity: u64) -> Result<LoggedFile, Error> {
    let path = log_path(main);
    let file = OpenOptions::new().read(true).write(true).open(main)?;
    let mode = file.metadata()?.permissions().mode() & 0o777;
    let log = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(mode)
        .open(&path)?;
    if !lock(&log, false)? {
        return Err(Error::InUse);
    }
    let header = recover(&log, &file, &path, true)?
        .ok_or_else(|| Error::Engine("the log's recovery wrote no header".into()))?;
    // Written once with zeros: appending then allocates no blocks and
    // changes no size, so a sync of the log writes only the log's bytes.
    let want = RECORDS_START + capacity;
    let zeros = vec![0u8; 1 << 20];
    let mut at = log.metadata()?.len().max(RECORDS_START);
    while at < want {
        let n = (want - at).min(zeros.len() as u64) as usize;
        log.write_all_at(&zeros[..n], at)?;
        at += n as u64;
    }
    log.sync_all()?;
    // The log's name must survive a crash before any commit relies on it.
    sync_dir_of(&path)?;
    LoggedFile::new(file, log, path, header, capacity)
}
