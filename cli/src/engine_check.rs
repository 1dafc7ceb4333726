//! `check --engine`: the storage engine's page-checksum check, run on a
//! scratch copy so that checking never writes the file it checks.
//!
//! The engine's check needs a writable database. On damage it cannot
//! repair, it leaves the file marked for repair, so that read-only opens (all
//! of this tool's read commands) fail until a read-write open; a repair it
//! can make may roll the file back to the commit before the last. Neither
//! belongs in a command that only asks whether the file is sound, so the
//! check runs on a copy made while the caller holds the file open read-only
//! (no writer can change it meanwhile), and the copy is deleted afterwards.

use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use vbolt::{Db, Error, Options};

/// What the engine's check says about a file.
pub enum Verdict {
    /// Every page's checksum and the trees' structure are sound.
    Clean,
    /// Damage the engine can repair (its repair may return the file to the
    /// previous commit).
    Repairable,
    /// Damage the engine cannot repair, with its reason.
    Damaged(String),
}

/// Copies `file` beside itself (owner-only, deleted afterwards) and runs
/// the engine's check on the copy. `Err` is a failure to check (no room for the copy, an I/O
/// error), never a verdict.
pub fn check_on_copy(file: &Path) -> Result<Verdict, String> {
    let scratch = Scratch::create(file)?;
    let mut db = match Db::open_with(&scratch.path, Options::new()) {
        Ok(db) => db,
        Err(Error::Corrupted(why)) => return Ok(Verdict::Damaged(why)),
        Err(e) => return Err(format!("engine check: {e}")),
    };
    match db.check_engine() {
        Ok(true) => Ok(Verdict::Clean),
        Ok(false) => Ok(Verdict::Repairable),
        Err(Error::Corrupted(why)) => Ok(Verdict::Damaged(why)),
        Err(e) => Err(format!("engine check: {e}")),
    }
}

/// A scratch copy of a file, deleted when dropped.
struct Scratch {
    path: PathBuf,
}

impl Scratch {
    fn create(file: &Path) -> Result<Scratch, String> {
        // Beside the database, not in a shared temporary directory: the
        // copy holds the same data and must not be readable by others.
        let dir = match file.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut source = File::open(file).map_err(|e| format!("{}: {e}", file.display()))?;
        // A fresh name per attempt: `create_new` never reuses another
        // process's scratch file.
        for attempt in 0u32..100 {
            let path = dir.join(format!(
                "vbolt-check-{}-{attempt}.scratch",
                std::process::id()
            ));
            let mut options = OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut copy = match options.open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(no_room(&dir, file, e)),
            };
            // From here the file is ours: the guard deletes it on every path.
            let scratch = Scratch { path };
            // Read back at once and then deleted: no need to make it durable.
            std::io::copy(&mut source, &mut copy).map_err(|e| no_room(&dir, file, e))?;
            return Ok(scratch);
        }
        Err(format!(
            "engine check: no free scratch file name in {}",
            dir.display()
        ))
    }
}

fn no_room(dir: &Path, file: &Path, e: std::io::Error) -> String {
    format!(
        "engine check: cannot copy {} into {} ({e}); the check needs room for a copy beside the file",
        file.display(),
        dir.display()
    )
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
