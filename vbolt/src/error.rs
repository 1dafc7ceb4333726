//! vbolt's error type: why opening, beginning, writing or committing failed.

use std::fmt;

/// Why a database operation failed.
///
/// Reads never return this type: a missing or undecodable value reads as
/// `false` (or is skipped while iterating). Writes record the first failure
/// in their transaction, and [`WriteTx::commit`](crate::WriteTx::commit)
/// returns it.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// An operating-system I/O error (including a full disk).
    Io(std::io::Error),
    /// Another process, or another `Db` in this process, has the file open.
    InUse,
    /// The file is not a vbolt database, or it is damaged.
    Corrupted(String),
    /// The file was written by an engine version this build cannot read.
    UpgradeRequired(u8),
    /// A read-only open of a file that needs recovery first: usually its
    /// last writer did not close it (the process crashed or was killed);
    /// the engine also asks for recovery when the file's length is not the
    /// one it recorded (the file was truncated or extended). Crash recovery
    /// rebuilds the engine's bookkeeping, which writes the file, so only a
    /// read-write open can do it; it loses nothing that was committed. Open
    /// the file read-write once (or run `vbolt recover FILE`), then
    /// read-only; a damaged file then fails with [`Error::Corrupted`].
    NeedsRecovery,
    /// The file is a sound database, but its tables are laid out in a way
    /// this version of vbolt does not read (for example a file made by
    /// vbolt 0.1, whose tables use another key type); the reason names
    /// the difference. Move the data with a backup made by the version
    /// that wrote the file ([`backup`](crate::backup), then
    /// [`restore`](crate::restore) here).
    Incompatible(String),
    /// A write on a database opened read-only.
    ReadOnly,
    /// A key or value could not be packed (for example a `string_z` key
    /// containing a NUL byte).
    Encode {
        /// The bucket or index being written.
        table: &'static str,
        /// What vpack reported.
        source: vpack::Error,
    },
    /// The transaction was already committed.
    Finished,
    /// Any other failure reported by the storage engine, with its message.
    Engine(String),
    /// A backup stream that cannot be restored: not a backup, truncated,
    /// failing its checksums, or holding a record this version does not
    /// know.
    Backup(String),
    /// No table of this engine-level name exists (inspection tools).
    NoSuchTable(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "I/O error: {e}"),
            Error::InUse => {
                f.write_str("the database file is already open (in this or another process)")
            }
            Error::Corrupted(why) => write!(f, "not a valid vbolt database or damaged: {why}"),
            Error::UpgradeRequired(v) => {
                write!(f, "the file format (version {v}) needs an upgrade")
            }
            Error::NeedsRecovery => f.write_str(
                "the file needs recovery, which a read-only open cannot do (its last \
                 writer did not close it, or its length is not the recorded one): \
                 open it read-write once",
            ),
            Error::Incompatible(why) => {
                write!(f, "made by an incompatible version of vbolt: {why}")
            }
            Error::ReadOnly => f.write_str("the database is open read-only"),
            Error::Encode { table, source } => {
                write!(f, "cannot pack a key or value for {table}: {source}")
            }
            Error::Finished => f.write_str("the transaction was already committed"),
            Error::Engine(why) => write!(f, "storage engine error: {why}"),
            Error::Backup(why) => write!(f, "invalid backup: {why}"),
            Error::NoSuchTable(name) => write!(f, "no table named {name:?}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            Error::Encode { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        Error::Io(e)
    }
}

// Engine errors are converted here, in one place. Every redb error type
// converts into `redb::Error`, which is mapped once.
impl From<redb::Error> for Error {
    fn from(e: redb::Error) -> Error {
        match e {
            // The engine reports a file that is not one of its own (wrong
            // magic bytes, impossible header) as invalid data.
            redb::Error::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => {
                Error::Corrupted(io.to_string())
            }
            redb::Error::Io(io) => Error::Io(io),
            redb::Error::DatabaseAlreadyOpen => Error::InUse,
            redb::Error::Corrupted(why) => Error::Corrupted(why),
            redb::Error::UpgradeRequired(v) => Error::UpgradeRequired(v),
            // vbolt never aborts a repair itself, so this is a read-only
            // open that found the file in need of one.
            redb::Error::RepairAborted => Error::NeedsRecovery,
            redb::Error::TableTypeMismatch { table, key, value } => Error::Incompatible(format!(
                "table {table:?} has keys of type {:?} and values of type {:?}; \
                 this version reads keys of type {:?}",
                key.name(),
                value.name(),
                crate::engine::KEY_TYPE_NAME
            )),
            other => Error::Engine(other.to_string()),
        }
    }
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Error {
                Error::from(redb::Error::from(e))
            }
        }
    )*};
}

from_redb!(
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);
