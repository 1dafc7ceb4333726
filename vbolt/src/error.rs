//! vbolt's error type: why an operation failed, naming what and where.

use std::fmt;

/// Why a database operation failed.
///
/// Every read that can fail returns `Result<_, Error>`, so `?` works on it;
/// an absent key is `Ok(None)` (or `Ok(false)`), never an error, and a value
/// that is stored but cannot be read is an error, never "absent". Writes
/// record their first failure in the transaction, and
/// [`WriteTx::commit`](crate::WriteTx::commit) returns it (see the
/// [error model](crate#errors)).
///
/// Errors an application usually handles itself:
///
/// - [`Error::InvalidCursor`]: a client sent a cursor that does not belong
///   to the page it asks for (answer it as a bad request);
/// - [`Error::Decode`]: stored bytes that this code cannot unpack (a
///   missing version bump, data from a newer program, damage);
/// - [`Error::WriteInProgress`] and [`Error::Timeout`]: a write transaction
///   could not begin.
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
    /// one it recorded (the file was truncated or extended), and a file
    /// whose write-ahead log holds commits must have them replayed
    /// ([`Options::write_ahead_log`](crate::Options::write_ahead_log)). Crash recovery
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
    /// The program declares a bucket or index whose bytes no longer hold
    /// what the file's catalog records for it: a key encoding changed, or
    /// a value type that is not the recorded one at the same or a later
    /// version (see [`Bucket::of`](crate::Bucket::of)). Raised by
    /// [`ensure_buckets`](crate::ensure_buckets), before any data is read
    /// with the wrong types.
    SchemaMismatch {
        /// The bucket or index.
        table: &'static str,
        /// `key`, `value`, `term`, `target` or `priority`.
        part: &'static str,
        /// What the file records.
        recorded: String,
        /// What the program declares.
        declared: String,
    },
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
    /// A stored key, value or index entry that does not unpack with the
    /// declared pack function: data written by a newer version of the
    /// program, a pack function changed without a version bump, or damage.
    Decode {
        /// The bucket or index read.
        table: &'static str,
        /// What was being unpacked: `"key"`, `"value"`, `"term"`,
        /// `"target"`, `"priority"` or `"count"`.
        part: &'static str,
        /// The stored key the bytes belong to (engine-level bytes; shown
        /// in hex).
        key: Vec<u8>,
        /// What vpack reported (its kind and byte offset).
        source: vpack::Error,
    },
    /// A write or delete under the zero key of its type (`0`, `""`, an
    /// empty byte string): the zero key means "no key" and is never stored.
    ZeroKey {
        /// The bucket or index written.
        table: &'static str,
    },
    /// A pagination cursor given for an index and term it was not made
    /// for, or one that was never made by vbolt (damaged or forged). A web
    /// application answers this as a bad request.
    InvalidCursor {
        /// The index read.
        index: &'static str,
    },
    /// The calling thread already holds the write transaction and asked
    /// for another one ([`Db::write_tx`](crate::Db::write_tx), or
    /// [`Db::update`](crate::Db::update) from inside an update's closure):
    /// waiting would wait forever. Finish (commit or drop) the first one,
    /// or pass it down instead of beginning another. Never caused by
    /// another thread, nor by an earlier update that failed.
    WriteInProgress,
    /// [`Db::write_tx_timeout`](crate::Db::write_tx_timeout) waited the
    /// whole time while another thread held the write transaction.
    Timeout,
    /// With [`Db::strict_indexes`](crate::Db::strict_indexes) on: the
    /// transaction would leave an index entry whose target (or term) is
    /// not a key of the bucket the index was declared to point into
    /// ([`Index::targets_in`](crate::Index::targets_in),
    /// [`Index::terms_in`](crate::Index::terms_in)). Usually a deleted
    /// record whose index entries were not deleted with it. Nothing was
    /// committed.
    Dangling {
        /// The index.
        index: &'static str,
        /// `"target"` or `"term"`.
        part: &'static str,
        /// The bucket it should be a key of.
        bucket: &'static str,
        /// The key (engine-level bytes; shown in hex).
        key: Vec<u8>,
    },
    /// A bucket's id sequence reached the largest value its key type holds.
    SequenceOverflow {
        /// The bucket.
        bucket: &'static str,
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
    /// A write transaction on a shared engine (etcd) lost to another
    /// writer that committed first; nothing of it was written.
    /// [`Db::update`](crate::Db::update) runs its closure again on this
    /// error (at least 20 times and for at least 10 s, claiming priority
    /// after three losses) and returns it only when all of that lost; a
    /// hand-made [`WriteTx`](crate::WriteTx) can be retried by the caller.
    /// See [what a write's outcome means](crate#what-a-writes-outcome-means).
    Conflict,
    /// A read transaction on a shared engine (etcd) outlived its snapshot:
    /// the cluster compacted the history it reads from. Start a new
    /// transaction.
    SnapshotExpired {
        /// The revision the transaction was reading.
        revision: i64,
    },
    /// The answer to a commit was lost (a deadline, a cut connection, a
    /// member that stopped), and whether it was applied could not be found
    /// out on any member for 30 s, or the history that tells was
    /// compacted (the reason says which). The commit may or may not be in
    /// the database. Every other lost answer is settled before the call
    /// returns: `Ok` if the commit landed, [`Error::Conflict`] if it did
    /// not and never will.
    CommitUnknown(String),
    /// A transaction exceeded a limit of the engine (etcd's operations per
    /// transaction or bytes per request); the reason names the limit and
    /// the server setting that raises it. Nothing was written. Under group
    /// commit only an update that is past the limit alone gets it: groups
    /// are cut to fit.
    LimitExceeded(String),
    /// The operation does not exist on this engine (for example compacting
    /// an etcd cluster, which its own tools do).
    Unsupported(&'static str),
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
                 writer did not close it, its write-ahead log holds commits to replay, \
                 or its length is not the recorded one): open it read-write once",
            ),
            Error::Incompatible(why) => {
                write!(f, "made by an incompatible version of vbolt: {why}")
            }
            Error::ReadOnly => f.write_str("the database is open read-only"),
            Error::Encode { table, source } => {
                write!(f, "cannot pack a key or value for {table}: {source}")
            }
            Error::Decode {
                table,
                part,
                key,
                source,
            } => {
                write!(f, "cannot unpack the {part} stored in {table} under key ")?;
                write_hex(f, key)?;
                write!(f, ": {source}; {}", likely_cause(source))
            }
            Error::ZeroKey { table } => write!(
                f,
                "write to {table} under the zero key (0, \"\" or empty), which is never stored"
            ),
            Error::InvalidCursor { index } => write!(
                f,
                "the cursor does not belong to this term of index {index} (another term or \
                 index, or not a cursor vbolt made)"
            ),
            Error::WriteInProgress => f.write_str(
                "this thread already holds the write transaction; beginning another would \
                 wait forever",
            ),
            Error::Timeout => f.write_str("timed out waiting for the write transaction"),
            Error::SchemaMismatch {
                table,
                part,
                recorded,
                declared,
            } => write!(
                f,
                "{table}: the program declares its {part} as `{declared}`, but the file \
                 holds `{recorded}` (a changed type or encoding, or an older program)"
            ),
            Error::Dangling {
                index,
                part,
                bucket,
                key,
            } => write!(
                f,
                "index {index} would keep {part} {} that is not a key of bucket {bucket} \
                 (delete its index entries with the record: delete_target_terms)",
                Hex(key)
            ),
            Error::SequenceOverflow { bucket } => {
                write!(f, "the id sequence of {bucket} overflowed its key type")
            }
            Error::Finished => f.write_str("the transaction was already committed"),
            Error::Engine(why) => write!(f, "storage engine error: {why}"),
            Error::Backup(why) => write!(f, "invalid backup: {why}"),
            Error::NoSuchTable(name) => write!(f, "no table named {name:?}"),
            Error::Conflict => f.write_str(
                "the transaction lost to another writer's commit; nothing was written \
                 (run it again)",
            ),
            Error::SnapshotExpired { revision } => write!(
                f,
                "snapshot expired: the cluster compacted revision {revision}, which this \
                 transaction reads; start a new transaction"
            ),
            Error::CommitUnknown(why) => write!(
                f,
                "the connection failed during commit and its outcome is unknown: {why}"
            ),
            Error::LimitExceeded(why) => write!(f, "transaction too large: {why}"),
            Error::Unsupported(what) => write!(f, "not supported by this engine: {what}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            Error::Encode { source, .. } | Error::Decode { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// What most often makes stored bytes fail to unpack, by how they failed.
fn likely_cause(e: &vpack::Error) -> &'static str {
    use vpack::ErrorKind as K;
    match e.kind() {
        K::NewerVersion { .. } => "likely cause: a newer program wrote it (update this one)",
        K::ChecksumMismatch { .. } => {
            "likely cause: the bytes changed since they were written (damage)"
        }
        _ => {
            "likely cause: the declared type or encoding is not the one that wrote it (a type \
             changed without a version bump, or another type under this name; declaring the \
             bucket with Bucket::of lets ensure_buckets catch this), or damage"
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        Error::Io(e)
    }
}

/// Shows bytes as lowercase hex (`0x...`), shortened in the middle past
/// 64 bytes.
pub(crate) struct Hex<'a>(pub &'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, self.0)
    }
}

fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    f.write_str("0x")?;
    if bytes.len() <= 64 {
        return bytes.iter().try_for_each(|b| write!(f, "{b:02x}"));
    }
    bytes[..32].iter().try_for_each(|b| write!(f, "{b:02x}"))?;
    write!(f, "...({} bytes)...", bytes.len() - 48)?;
    bytes[bytes.len() - 16..]
        .iter()
        .try_for_each(|b| write!(f, "{b:02x}"))
}

impl Error {
    /// The same error again, for each caller of a group commit that failed
    /// (an I/O error is rebuilt from its kind and message).
    pub(crate) fn duplicate(&self) -> Error {
        match self {
            Error::Io(e) => Error::Io(std::io::Error::new(e.kind(), e.to_string())),
            Error::InUse => Error::InUse,
            Error::Corrupted(s) => Error::Corrupted(s.clone()),
            Error::UpgradeRequired(v) => Error::UpgradeRequired(*v),
            Error::NeedsRecovery => Error::NeedsRecovery,
            Error::Incompatible(s) => Error::Incompatible(s.clone()),
            Error::ReadOnly => Error::ReadOnly,
            Error::Encode { table, source } => Error::Encode {
                table,
                source: source.clone(),
            },
            Error::Decode {
                table,
                part,
                key,
                source,
            } => Error::Decode {
                table,
                part,
                key: key.clone(),
                source: source.clone(),
            },
            Error::ZeroKey { table } => Error::ZeroKey { table },
            Error::InvalidCursor { index } => Error::InvalidCursor { index },
            Error::WriteInProgress => Error::WriteInProgress,
            Error::Timeout => Error::Timeout,
            Error::SchemaMismatch {
                table,
                part,
                recorded,
                declared,
            } => Error::SchemaMismatch {
                table,
                part,
                recorded: recorded.clone(),
                declared: declared.clone(),
            },
            Error::Dangling {
                index,
                part,
                bucket,
                key,
            } => Error::Dangling {
                index,
                part,
                bucket,
                key: key.clone(),
            },
            Error::SequenceOverflow { bucket } => Error::SequenceOverflow { bucket },
            Error::Finished => Error::Finished,
            Error::Engine(s) => Error::Engine(s.clone()),
            Error::Backup(s) => Error::Backup(s.clone()),
            Error::NoSuchTable(s) => Error::NoSuchTable(s.clone()),
            Error::Conflict => Error::Conflict,
            Error::SnapshotExpired { revision } => Error::SnapshotExpired {
                revision: *revision,
            },
            Error::CommitUnknown(s) => Error::CommitUnknown(s.clone()),
            Error::LimitExceeded(s) => Error::LimitExceeded(s.clone()),
            Error::Unsupported(s) => Error::Unsupported(s),
        }
    }

    /// True for the errors a caller's input causes rather than the
    /// database: [`Error::InvalidCursor`] (a web handler answers 400).
    pub fn is_invalid_input(&self) -> bool {
        matches!(self, Error::InvalidCursor { .. })
    }
}
