//! Opening, creating and closing a database file, and the operations on
//! the whole file (check, compact, space, bulk load).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use redb::{ReadableDatabase, ReadableTableMetadata, TableDefinition, TableHandle};

use super::Def;
use super::budget::{Budgeted, SyncBudget};
use super::guard::{guarded, shielded};
use super::read::ReadTxn;
use super::write::WriteTxn;
use crate::engine::{Durability, EngineOptions, Space};
use crate::error::Error;
use crate::files::{Mode, Scratch};

enum Database {
    ReadWrite(redb::Database),
    ReadOnly(redb::ReadOnlyDatabase),
}

/// `space`, if its parts can be right: their sum does not overflow, and
/// fits in the file's `len` when there is a file. The engine computes the
/// free part by subtraction, which wraps on a file whose trees claim more
/// pages than exist (one damaged byte did it: "18446744071042688840 free").
fn plausible(space: Space, len: Option<u64>) -> Result<Space, Error> {
    let parts = [
        space.stored_bytes,
        space.metadata_bytes,
        space.fragmented_bytes,
    ];
    let sum = parts
        .iter()
        .try_fold(0u64, |sum, p| sum.checked_add(*p))
        .filter(|sum| *sum < 1 << 62);
    match (sum, len) {
        (Some(sum), Some(len)) if sum <= len => Ok(space),
        (Some(_), None) => Ok(space),
        _ => Err(Error::Corrupted(format!(
            "the engine's space figures cannot be right ({} stored, {} metadata and {} free bytes{}): \
             its trees or allocator state are damaged",
            space.stored_bytes,
            space.metadata_bytes,
            space.fragmented_bytes,
            len.map(|l| format!(" in a file of {l} bytes"))
                .unwrap_or_default()
        ))),
    }
}

/// Syncs one compaction pass may make. A healthy pass commits a few times
/// to release freed pages and once per round of page moves.
const COMPACTION_SYNCS: u64 = 4096;

/// An open database file (or in-memory database).
pub struct Store {
    /// `None` only while the store is dropped.
    db: Option<Database>,
    durability: Durability,
    /// The syncs of a read-write file, limited while the engine runs an
    /// operation that loops until the file says it is done (`None` for a
    /// read-only or in-memory database).
    budget: Option<SyncBudget>,
    /// The database file (`None` in memory).
    path: Option<std::path::PathBuf>,
    /// The write-ahead log's file, whose lock keeps other opens from
    /// replaying it under this one (when a log exists and the engine does
    /// not hold it itself).
    _log_lock: Option<std::fs::File>,
}

impl Drop for Store {
    /// Closing a read-write database commits the engine's allocator state,
    /// which reads pages and can panic on a damaged one, like any other
    /// engine step: guarded too, so dropping a `Db` never panics (and never
    /// aborts a thread that is already unwinding).
    fn drop(&mut self) {
        if let Some(db) = self.db.take() {
            let _ = catch_unwind(AssertUnwindSafe(move || drop(db)));
        }
    }
}

/// Makes a new, empty database file at `path` that appears whole or not at
/// all: built under a scratch name beside it, synced, then linked into
/// place. A crash or a full disk meanwhile leaves `path` absent (and the
/// next open simply creates it), never a file without the engine's header
/// that no open could use. If another process created `path` meanwhile,
/// its file is kept.
fn create_fresh(path: &Path, builder: &redb::Builder) -> Result<(), Error> {
    let mut scratch = Scratch::beside(path, "creating", Mode::Default)?;
    let file = scratch
        .take_file()
        .ok_or_else(|| Error::Engine("scratch file already taken".into()))?;
    drop(guarded("create", || {
        let backend = redb::backends::FileBackend::new(file);
        Ok(builder.create_with_backend(backend)?)
    })?);
    match scratch.publish(path, false) {
        Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    }
}

/// Opens `path` (which exists) with a write-ahead log of `capacity`
/// bytes under the engine.
#[cfg(unix)]
fn open_logged(
    path: &Path,
    builder: &redb::Builder,
    capacity: u64,
) -> Result<(Database, SyncBudget), Error> {
    let (backend, budget) = Budgeted::new(super::wal::open(path, capacity)?);
    let db = guarded("open", || {
        Ok(Database::ReadWrite(builder.create_with_backend(backend)?))
    })?;
    Ok((db, budget))
}

#[cfg(not(unix))]
fn open_logged(_: &Path, _: &redb::Builder, _: u64) -> Result<(Database, SyncBudget), Error> {
    Err(Error::Unsupported("a write-ahead log on this platform"))
}

/// Opens `path` (which exists) read-write, its syncs counted.
fn open_counted(path: &Path, builder: &redb::Builder) -> Result<(Database, SyncBudget), Error> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)?;
    let (backend, budget) = Budgeted::new(redb::backends::FileBackend::new(file));
    let db = guarded("open", || {
        Ok(Database::ReadWrite(builder.create_with_backend(backend)?))
    })?;
    Ok((db, budget))
}

impl Store {
    pub fn open(path: &Path, opts: &EngineOptions) -> Result<Store, Error> {
        let mut builder = redb::Builder::new();
        if let Some(size) = opts.cache_size {
            builder.set_cache_size(size);
        }
        builder.set_check_integrity_on_open(opts.verify_on_open && !opts.read_only);
        if !opts.read_only && !path.exists() {
            create_fresh(path, &builder)?;
        }
        let (db, budget, log_lock) = match (opts.write_ahead_log, opts.read_only) {
            (Some(capacity), false) => {
                let (db, budget) = open_logged(path, &builder, capacity)?;
                (db, Some(budget), None)
            }
            _ => {
                #[cfg(unix)]
                let log_lock = super::wal::settle(path, opts.read_only)?;
                #[cfg(not(unix))]
                let log_lock = None;
                if opts.read_only {
                    let db = guarded("open", || {
                        Ok(Database::ReadOnly(builder.open_read_only(path)?))
                    })?;
                    (db, None, log_lock)
                } else {
                    let (db, budget) = open_counted(path, &builder)?;
                    (db, Some(budget), log_lock)
                }
            }
        };
        let store = Store {
            db: Some(db),
            durability: opts.durability,
            budget,
            path: Some(path.to_path_buf()),
            _log_lock: log_lock,
        };
        store.check_table_types()?;
        Ok(store)
    }

    /// Refuses a file whose tables were made with another key type (a file
    /// from vbolt 0.1): left to the first read, the mismatch would make
    /// every read of such a table come back empty instead of failing.
    fn check_table_types(&self) -> Result<(), Error> {
        let txn = self.begin_read()?;
        for handle in shielded(|| Ok(txn.txn.list_tables()?))? {
            shielded(|| Ok(txn.txn.open_table(Def::new(handle.name())).map(drop)?))?;
        }
        Ok(())
    }

    pub fn in_memory() -> Result<Store, Error> {
        let db = redb::Builder::new().create_with_backend(redb::backends::InMemoryBackend::new())?;
        Ok(Store {
            db: Some(Database::ReadWrite(db)),
            durability: Durability::Immediate,
            budget: None,
            path: None,
            _log_lock: None,
        })
    }

    fn database(&self) -> Result<&Database, Error> {
        self.db
            .as_ref()
            .ok_or_else(|| Error::Engine("the database is closed".into()))
    }

    /// The read-write engine handle; [`Error::ReadOnly`] for a read-only open.
    fn writable(&self) -> Result<&redb::Database, Error> {
        match self.database()? {
            Database::ReadWrite(db) => Ok(db),
            Database::ReadOnly(_) => Err(Error::ReadOnly),
        }
    }

    pub fn begin_read(&self) -> Result<ReadTxn, Error> {
        let txn = match self.database()? {
            Database::ReadWrite(db) => shielded(|| Ok(db.begin_read()?))?,
            Database::ReadOnly(db) => shielded(|| Ok(db.begin_read()?))?,
        };
        Ok(ReadTxn::new(txn))
    }

    pub fn begin_write(&self) -> Result<WriteTxn, Error> {
        let db = self.writable()?;
        let mut txn = guarded("begin", || Ok(db.begin_write()?))?;
        if self.durability == Durability::None {
            txn.set_durability(redb::Durability::None)
                .map_err(|e| Error::Engine(e.to_string()))?;
        }
        Ok(WriteTxn::new(txn))
    }

    /// Runs the engine's own check of the whole file (page checksums and
    /// tree structure). `Ok(true)`: clean; `Ok(false)`: damage was found and
    /// repaired (the file was rewritten); `Err`: damaged beyond repair.
    pub fn check_engine(&mut self) -> Result<bool, Error> {
        match self.db.as_mut() {
            Some(Database::ReadWrite(db)) => guarded("check", || Ok(db.check_integrity()?)),
            Some(Database::ReadOnly(_)) => Err(Error::ReadOnly),
            None => Err(Error::Engine("the database is closed".into())),
        }
    }

    /// Moves live pages to the front of the file and truncates it; `true`
    /// if anything moved. The engine commits until its freed-page tree is
    /// drained, which never happens if that tree is damaged: the pass gets
    /// a budget of [`COMPACTION_SYNCS`] syncs, and running out of it is
    /// reported as damage.
    pub fn compact(&mut self) -> Result<bool, Error> {
        let budget = self.budget.clone();
        match self.db.as_mut() {
            Some(Database::ReadWrite(db)) => {
                if let Some(b) = &budget {
                    b.limit(COMPACTION_SYNCS);
                }
                let moved = guarded("compact", || {
                    db.compact(redb::CompactionMode::Balanced)
                        .map_err(|e| Error::Engine(e.to_string()).into())
                });
                let spent = budget.as_ref().is_some_and(|b| {
                    let spent = b.spent();
                    b.lift();
                    spent
                });
                match moved {
                    Err(_) if spent => Err(Error::Corrupted(format!(
                        "compaction did not settle after {COMPACTION_SYNCS} commits: \
                         the engine's freed-page records look damaged \
                         (`vbolt recover` rebuilds the file from its records)"
                    ))),
                    other => other,
                }
            }
            Some(Database::ReadOnly(_)) => Err(Error::ReadOnly),
            None => Err(Error::Engine("the database is closed".into())),
        }
    }

    /// How the file's space is used, from a write transaction that is
    /// dropped without committing (nothing is written).
    pub fn space(&self) -> Result<Space, Error> {
        let db = self.writable()?;
        // Guarded whole: the statistics walk every page, and dropping the
        // transaction reads the allocator state.
        guarded("space", || {
            let txn = db.begin_write()?;
            let stats = txn.stats()?;
            let space = Space {
                stored_bytes: stats.stored_bytes(),
                metadata_bytes: stats.metadata_bytes(),
                fragmented_bytes: stats.fragmented_bytes(),
                page_size: stats.page_size() as u64,
            };
            let len = match &self.path {
                Some(path) => Some(std::fs::metadata(path)?.len()),
                None => None,
            };
            Ok(plausible(space, len)?)
        })
    }

    /// Writes `entries` into the table called `name` (created if needed) in
    /// one transaction that is not made durable by itself: call
    /// [`Store::sync`] after the last one.
    pub fn load(&self, name: &str, entries: &[(Vec<u8>, Vec<u8>)]) -> Result<(), Error> {
        let db = self.writable()?;
        guarded("load", || {
            let mut txn = db.begin_write()?;
            txn.set_durability(redb::Durability::None)
                .map_err(|e| Error::Engine(e.to_string()))?;
            {
                let mut table = txn.open_table(Def::new(name))?;
                for (k, v) in entries {
                    table.insert(&k[..], &v[..])?;
                }
            }
            txn.commit()?;
            Ok(())
        })
    }

    /// Makes every earlier commit durable (an empty durable commit).
    pub fn sync(&self) -> Result<(), Error> {
        let db = self.writable()?;
        guarded("sync", || Ok(db.begin_write()?.commit()?))
    }

    /// Names and entry counts of every table, in name order.
    pub fn list_tables(&self) -> Result<Vec<(String, u64)>, Error> {
        let txn = self.begin_read()?;
        let mut out = guarded("list tables", || {
            let mut out = Vec::new();
            for handle in txn.txn.list_tables()? {
                let def: Def = TableDefinition::new(handle.name());
                let table = txn.txn.open_table(def)?;
                out.push((handle.name().to_string(), table.len()?));
            }
            Ok(out)
        })?;
        out.sort();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_space_figures_are_damage_not_numbers() {
        let space = |stored, metadata, fragmented| Space {
            stored_bytes: stored,
            metadata_bytes: metadata,
            fragmented_bytes: fragmented,
            page_size: 4096,
        };
        assert!(plausible(space(100, 200, 300), Some(4096)).is_ok());
        assert!(plausible(space(100, 200, 300), None).is_ok());
        // The report's figures: metadata larger than the file, free wrapped.
        let reported = space(2939, 2_667_625_311, 18_446_744_071_042_688_840);
        let err = plausible(reported, Some(135_168));
        assert!(matches!(err, Err(Error::Corrupted(m)) if m.contains("damaged")));
        assert!(
            plausible(reported, None).is_err(),
            "a wrapped figure, file or not"
        );
        assert!(plausible(space(5000, 0, 0), Some(4096)).is_err());
    }
}
