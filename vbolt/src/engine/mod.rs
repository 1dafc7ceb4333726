//! The storage engine boundary: the contract vbolt needs from an ordered,
//! transactional key-value store, and its backends (one folder each).
//!
//! Everything above this module (buckets, indexes, iteration) speaks in
//! ordered byte keys through the contract below, on the types of
//! [`dispatch`], which forward each call to the backend in use. The
//! backends, one folder each, are the only code that names an engine:
//!
//! - [`redb_backend`]: an embedded file (the default);
//! - `etcd_backend` (feature `etcd`): a replicated etcd cluster, shared by
//!   many processes and machines.
//!
//! # Contract
//!
//! - **Tables.** A [`TableId`] names an independent ordered map from byte
//!   keys to byte values. Keys compare as unsigned bytes, lexicographically;
//!   a shorter key sorts before any longer key it is a prefix of. A table
//!   that was never written reads as empty (it is not an error).
//! - **Snapshots.** A [`ReadTxn`] sees one consistent committed state for its
//!   whole life, whatever commits happen meanwhile: the state when it began
//!   (redb), or when it first read (etcd, which saves a round trip). Any number may be open
//!   at once, from any threads.
//! - **The writer.** At most one [`WriteTxn`] exists at a time (`begin_write`
//!   waits for the previous one to end). It reads its own uncommitted writes.
//!   A shared engine's commit can lose to another writer's
//!   ([`Error::Conflict`], nothing written); the next attempt begins with
//!   `begin_write_retry(lost)`, telling the engine how many attempts lost
//!   in a row, so that it can give that writer priority.
//! - **Limits.** An engine may limit what one transaction holds (etcd:
//!   operations and bytes per request). `WriteTxn::fits` says whether the
//!   transaction's commit is still within them ([`Error::LimitExceeded`]
//!   otherwise); group commit asks after each closure and cuts its groups
//!   to fit. Without limits (redb) it is always `Ok`.
//!   Its changes become visible to new snapshots atomically at `commit`, and
//!   are discarded entirely if it is dropped without committing. After
//!   `commit` returns `Ok` with durable settings, the changes survive a
//!   crash or power loss.
//! - **Operations** ([`KvRead`], and the write transaction's own):
//!   `get(table, key)`; `get_many(table, keys)`, the same for several
//!   keys at once; `scan(table, lower, upper, direction)` visits the
//!   entries within the bounds in key order (or reverse) until the visitor
//!   returns `false`; `put` inserts or replaces; `delete` removes and
//!   reports whether the key existed; each table has a `u64` sequence
//!   (`sequence`/`set_sequence`) stored with the data and committed with it.
//! - **Errors.** Every operation returns `Result`; engine failures (I/O,
//!   corruption, a value too large) are mapped to [`Error`] with the
//!   engine's reason, inside the backend. No operation panics on bad data.
//! - **Cost.** A table is opened at most once per transaction and cached in
//!   a slot array indexed by [`TableId::slot`]: a lookup is an index, not a
//!   hash or an `open_table`.

use std::ops::Bound;

use crate::error::Error;

mod dispatch;
#[cfg(feature = "etcd")]
mod etcd_backend;
mod redb_backend;
mod table;

pub(crate) use dispatch::{RawTable, ReadTxn, Store, WriteTxn};
pub use redb_backend::Key;
pub(crate) use table::{SEQUENCES, TableId, TableKind, fnv1a};

/// How durable a commit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `commit` returns after the data is on stable storage (fsync). The
    /// default.
    #[default]
    Immediate,
    /// `commit` returns without syncing: much faster, but the commit may be
    /// lost in a crash until a later `Immediate` commit. The database stays
    /// consistent either way.
    None,
}

/// Settings of a database on an etcd cluster, chosen at open time (see
/// [`EtcdOptions`](crate::EtcdOptions) for their meaning).
#[cfg(feature = "etcd")]
#[derive(Debug, Clone)]
pub struct EtcdSettings {
    pub request_timeout: std::time::Duration,
    pub max_txn_ops: usize,
    pub max_request_bytes: usize,
}

#[cfg(feature = "etcd")]
impl Default for EtcdSettings {
    fn default() -> EtcdSettings {
        EtcdSettings {
            request_timeout: std::time::Duration::from_secs(1),
            max_txn_ops: 128,
            max_request_bytes: 3 << 19,
        }
    }
}

/// Engine settings chosen at open time.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    pub durability: Durability,
    pub cache_size: Option<usize>,
    pub read_only: bool,
    pub verify_on_open: bool,
    /// Commit through a write-ahead log of this many bytes (file engine).
    pub write_ahead_log: Option<u64>,
}

/// The write-ahead log's default size: room for a few hundred small
/// commits between two checkpoints.
pub(crate) const DEFAULT_LOG_SIZE: u64 = 64 << 20;

/// How a database file's space is used (see [`Db::space`](crate::Db::space)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Space {
    /// Bytes of keys and values stored.
    pub stored_bytes: u64,
    /// Bytes of engine bookkeeping (tree branches, allocator state).
    pub metadata_bytes: u64,
    /// Bytes allocated but unused: what compaction can give back.
    pub fragmented_bytes: u64,
    /// The engine's page size.
    pub page_size: u64,
}

/// The shape of one table's B-tree (see [`TableInfo`](crate::TableInfo)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TreeShape {
    /// Pages visited by a lookup, root to leaf (0 for an empty table).
    pub depth: u32,
    /// Leaf pages: where the entries are.
    pub leaf_pages: u64,
    /// Branch pages: the levels above the leaves.
    pub branch_pages: u64,
}

/// A bound on byte keys, borrowed from the caller's buffers.
pub type KeyBound<'k> = Bound<&'k [u8]>;

/// The read half of the contract, shared by both transaction kinds.
pub trait KvRead {
    /// Looks `key` up and hands its value to `f`.
    fn get<R>(
        &self,
        table: &TableId,
        key: &[u8],
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<Option<R>, Error>;

    /// Visits entries within the bounds in key order (reverse order when
    /// `reverse`) until `visit` returns `false`.
    fn scan(
        &self,
        table: &TableId,
        lower: KeyBound,
        upper: KeyBound,
        reverse: bool,
        visit: impl FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), Error>;

    /// Looks up each of `keys` and hands `f` the position and value of
    /// each one found, in the order of `keys`. A backend whose reads are
    /// round trips fetches them together ([`KvRead::batches_reads`]).
    fn get_many(
        &self,
        table: &TableId,
        keys: &[&[u8]],
        mut f: impl FnMut(usize, &[u8]),
    ) -> Result<(), Error> {
        for (i, key) in keys.iter().enumerate() {
            self.get(table, key, |v| f(i, v))?;
        }
        Ok(())
    }

    /// Tells the engine that `keys` are about to be read one by one, so
    /// an engine across a network fetches them in one request first.
    /// Nothing to do for a local engine.
    fn prefetch(&self, _table: &TableId, _keys: &[&[u8]]) -> Result<(), Error> {
        Ok(())
    }

    /// Tells the engine that each of `ranges` (bounds on table keys, as
    /// [`KvRead::scan`] takes them) is about to be scanned, so an engine
    /// across a network fetches their first entries in one request. Each
    /// prefetched range serves the next scan of exactly those bounds.
    /// Nothing to do for a local engine.
    fn prefetch_ranges(
        &self,
        _table: &TableId,
        _ranges: &[(KeyBound, KeyBound)],
    ) -> Result<(), Error> {
        Ok(())
    }

    /// True when [`KvRead::get_many`] costs less than one `get` per key
    /// (the engine is across a network), so callers gather keys first.
    fn batches_reads(&self) -> bool {
        false
    }

    /// The table's sequence (0 if never set).
    fn sequence(&self, table: &TableId) -> Result<u64, Error> {
        let key = table.full_name().as_bytes();
        let v = self.get(&SEQUENCES, key, |v| v.try_into().map(u64::from_be_bytes))?;
        match v {
            None => Ok(0),
            Some(Ok(n)) => Ok(n),
            Some(Err(_)) => Err(Error::Corrupted(format!(
                "sequence of {} is malformed",
                table.name()
            ))),
        }
    }
}
