//! Settings chosen when a database is opened: [`Options`] for a file,
//! [`EtcdOptions`] for a database on an etcd cluster.

#[cfg(feature = "etcd")]
use std::time::Duration;

#[cfg(feature = "etcd")]
use crate::engine::EtcdSettings;
use crate::engine::{Durability, EngineOptions};
#[cfg(doc)]
use crate::{Db, Error};

/// Settings for [`Db::open_with`].
///
/// ```
/// use vbolt::{Db, Durability, Options};
/// # let dir = tempfile::tempdir()?;
/// # let path = dir.path().join("app.vbolt");
/// # Db::open(&path)?;
/// let db = Db::open_with(&path, Options::new().cache_size(64 << 20).read_only(true))?;
/// assert!(db.write_tx().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Options {
    pub(crate) engine: EngineOptions,
    pub(crate) group_commit: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            engine: EngineOptions::default(),
            group_commit: true,
        }
    }
}

impl Options {
    /// Defaults: durable commits, the engine's default cache, read-write,
    /// group commit on.
    pub fn new() -> Options {
        Options::default()
    }

    /// How durable each commit is (default [`Durability::Immediate`]).
    pub fn durability(mut self, d: Durability) -> Options {
        self.engine.durability = d;
        self
    }

    /// The page cache size in bytes.
    pub fn cache_size(mut self, bytes: usize) -> Options {
        self.engine.cache_size = Some(bytes);
        self
    }

    /// Opens an existing database without ever writing to it; write
    /// transactions fail with [`Error::ReadOnly`]. A file whose last writer
    /// crashed cannot be opened this way ([`Error::NeedsRecovery`]) until a
    /// read-write open has recovered it.
    pub fn read_only(mut self, yes: bool) -> Options {
        self.engine.read_only = yes;
        self
    }

    /// Verifies the whole file when opening it: every page's checksum and
    /// the trees' structure. A file altered since it was last written (a
    /// flipped bit, a bad sector, a foreign write) then fails to open with
    /// [`Error::Corrupted`] instead of being read. Costs a full read of the
    /// file at open; does not apply to read-only opens. Default: off.
    pub fn verify_on_open(mut self, yes: bool) -> Options {
        self.engine.verify_on_open = yes;
        self
    }

    /// Commits through a write-ahead log (default: off). A durable commit
    /// then syncs one sequential write to a log beside the file
    /// (`<file>-wal`, 64 MiB by default) instead of the pages it changed
    /// across the file; the file itself is synced when the log is full
    /// (a checkpoint, inside the commit that found it full) and at close.
    /// The same guarantee as without it: a commit acknowledged as durable
    /// survives a crash.
    ///
    /// Any later open of the file by vbolt, with this option or without,
    /// first replays the commits a crash left in the log (a read-only open
    /// refuses them with [`Error::NeedsRecovery`]); redb opening the file
    /// directly would not. The log names its file by inode: after a
    /// crash, move the two together, or open the original once (which
    /// replays the log) before copying the file alone; a log holding
    /// commits beside a copy is refused with [`Error::Corrupted`]. Files
    /// on Unix only ([`Error::Unsupported`] elsewhere).
    ///
    /// ```
    /// use vbolt::{Db, Options};
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("app.vbolt");
    /// let db = Db::open_with(&path, Options::new().write_ahead_log(true))?;
    /// assert!(dir.path().join("app.vbolt-wal").exists());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_ahead_log(mut self, yes: bool) -> Options {
        self.engine.write_ahead_log = yes.then_some(crate::engine::DEFAULT_LOG_SIZE);
        self
    }

    /// A write-ahead log of `bytes` (see [`Options::write_ahead_log`]): a
    /// larger log means fewer checkpoints, each syncing more of the file.
    pub fn write_ahead_log_size(mut self, bytes: u64) -> Options {
        self.engine.write_ahead_log = Some(bytes);
        self
    }

    /// Whether concurrent [`Db::update`] calls share commits (default:
    /// yes). Off, each `update` is its own transaction and pays its own
    /// durable commit, as [`Db::write_tx`] does. Turn it off when an
    /// update's closure may wait for something (a lock, a channel) that
    /// another thread holds across its own `update` call: in a group, the
    /// callers whose closures ran first wait for the later closures.
    pub fn group_commit(mut self, yes: bool) -> Options {
        self.group_commit = yes;
        self
    }
}

/// Settings for [`Db::open_etcd_with`] (feature `etcd`).
///
/// ```no_run
/// use std::time::Duration;
/// use vbolt::{Db, EtcdOptions};
/// let db = Db::open_etcd_with(
///     &["http://10.0.0.1:2379", "http://10.0.0.2:2379", "http://10.0.0.3:2379"],
///     "app/",
///     EtcdOptions::new()
///         .request_timeout(Duration::from_millis(1500))
///         .max_txn_ops(1024), // the cluster runs with --max-txn-ops=1024
/// )?;
/// # Ok::<(), vbolt::Error>(())
/// ```
#[cfg(feature = "etcd")]
#[derive(Debug, Clone)]
pub struct EtcdOptions {
    pub(crate) engine: EtcdSettings,
    pub(crate) group_commit: bool,
}

#[cfg(feature = "etcd")]
impl Default for EtcdOptions {
    fn default() -> EtcdOptions {
        EtcdOptions {
            engine: EtcdSettings::default(),
            group_commit: true,
        }
    }
}

#[cfg(feature = "etcd")]
impl EtcdOptions {
    /// Defaults: etcd's own limits, a one-second deadline per request,
    /// group commit on.
    pub fn new() -> EtcdOptions {
        EtcdOptions::default()
    }

    /// How long one request to a member may take before the member is
    /// taken for unresponsive and the next one is tried (default: 1 s; a
    /// retried request gets longer). A paused, partitioned or overloaded
    /// member keeps its connection open and never answers: this deadline
    /// is how long it stalls a request, so keep it near the cluster's
    /// election timeout (etcd's `--election-timeout`, 1 s by default).
    /// Shorter only costs work: a commit whose deadline passes is settled
    /// (found out) on another member, never guessed.
    pub fn request_timeout(mut self, timeout: Duration) -> EtcdOptions {
        self.engine.request_timeout = timeout;
        self
    }

    /// The cluster's `--max-txn-ops` (default 128, etcd's default): the
    /// most keys one commit may write or delete, plus one. Group commit
    /// cuts its groups to fit; an update that alone needs more fails with
    /// [`Error::LimitExceeded`](crate::Error::LimitExceeded). If the cluster
    /// turns out to take fewer, the store learns it from the refusal.
    pub fn max_txn_ops(mut self, ops: usize) -> EtcdOptions {
        self.engine.max_txn_ops = ops;
        self
    }

    /// The cluster's `--max-request-bytes` (default 1.5 MiB, etcd's
    /// default): the most bytes one commit request may hold, keys and
    /// values included.
    pub fn max_request_bytes(mut self, bytes: usize) -> EtcdOptions {
        self.engine.max_request_bytes = bytes;
        self
    }

    /// Whether concurrent updates share commits (default: yes); see
    /// [`Options::group_commit`].
    pub fn group_commit(mut self, yes: bool) -> EtcdOptions {
        self.group_commit = yes;
        self
    }
}
