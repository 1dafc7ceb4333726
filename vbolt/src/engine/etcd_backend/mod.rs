//! The etcd backend: vbolt's engine contract on an etcd cluster (v3 API),
//! so one database is shared by many processes on many machines and
//! survives the loss of a minority of the cluster's members.
//!
//! # Key layout
//!
//! Every key lives under the prefix chosen at open (several databases
//! share one cluster under different prefixes):
//!
//! | etcd key | holds |
//! |---|---|
//! | `P d/ TABLE 0x00 KEY` | the value of `KEY` in `TABLE` |
//! | `P c/ TABLE` | (empty) table `TABLE` exists |
//! | `P token` | the id of the last commit |
//! | `P claims/ ID` | (while writers that kept losing queue for priority) one empty key each, under a lease |
//!
//! Table names never contain a NUL byte, so one table's keys are exactly
//! the range `[P d/ TABLE 0x00, P d/ TABLE 0x01)`, in the engine's key
//! order (etcd compares keys as unsigned bytes, as the contract requires).
//!
//! # Transactions
//!
//! - A **read transaction** is pinned by its first read: that read asks
//!   for the newest state and learns its revision from the response, and
//!   every later read asks for that revision, so the transaction sees one
//!   committed state for its whole life. (The state is the one of its first
//!   read, not of `begin`, as PostgreSQL takes a snapshot at a
//!   transaction's first statement: this saves a request per
//!   transaction.) When the cluster has compacted that revision away,
//!   reads fail with [`Error::SnapshotExpired`].
//! - A **write transaction** reads the same way, keeps its writes in
//!   memory (reads see them), and commits them as one etcd `Txn` guarded
//!   by "the commit token has not changed since the revision I read at"
//!   (and "no writer queues for priority before me", see below): the commit
//!   applies only if no other commit happened since, and then all of it
//!   applies at once. Otherwise it is [`Error::Conflict`], with nothing
//!   written, and [`Db::update`](crate::Db::update) runs the closure
//!   again. Commits are thus serializable, across every process and
//!   machine.
//! - A commit acknowledged by the cluster is on a majority of members'
//!   disks.
//! - **Settling a commit whose answer is lost.** Whatever stops the answer
//!   (a deadline, a cancelled request, a reset connection, a member that
//!   stopped or lost its leader), the backend finds out what happened
//!   before answering, trying the members in turn: it tries to move the
//!   token on itself (a "fence": if that succeeds, the lost commit can
//!   never apply later, and the answer is [`Error::Conflict`]); if the
//!   token already moved, it reads the token's history: the first change
//!   after the transaction's start is either this commit (`Ok`) or another
//!   (`Conflict`). Only if that history was compacted, or no member
//!   answered for 30 seconds, is the answer [`Error::CommitUnknown`]. A
//!   commit that landed is never reported as failed, nor one that did not
//!   as done.
//! - **Fairness.** A writer that lost three times in a row queues for
//!   priority before its next attempt ([`claim`]): while writers queue,
//!   only the first of them can commit, and they commit in the order they
//!   queued. No writer starves while others commit.
//! - **Members.** Requests go to one member at a time, each with a
//!   deadline; a member that fails or does not answer in time is left for
//!   the next (see [`bridge`]), so a paused member costs one deadline.

//! # Limits
//!
//! A commit is one etcd request: its operations (one per key written or
//! deleted, plus the token) and its bytes must fit the cluster's
//! `--max-txn-ops` (128 by default) and `--max-request-bytes` (1.5 MiB),
//! which the store is told at open ([`crate::EtcdOptions`]) and which it
//! lowers when the cluster refuses less ([`limits`]). A transaction past
//! them fails with [`Error::LimitExceeded`] naming the setting; nothing is
//! written. Group commit cuts its groups to fit, so only an update that
//! alone is too large fails. Bulk loading (`restore`) writes in batches
//! that each commit on their own: it is not atomic.

mod bridge;
mod claim;
mod limits;
mod read;
mod store;
mod write;

pub(crate) use read::{RawTable, ReadTxn};
pub(crate) use store::Store;
pub(crate) use write::WriteTxn;

#[cfg(doc)]
use crate::error::Error;

/// Where one database's keys are in the cluster's key space.
pub(super) struct Layout {
    prefix: Vec<u8>,
}

impl Layout {
    fn new(prefix: &str) -> Layout {
        Layout {
            prefix: prefix.as_bytes().to_vec(),
        }
    }

    fn with(&self, parts: &[&[u8]]) -> Vec<u8> {
        let mut k = self.prefix.clone();
        for p in parts {
            k.extend_from_slice(p);
        }
        k
    }

    /// The first etcd key of `table`'s range: every key of the table
    /// starts with it.
    fn table_start(&self, table: &str) -> Vec<u8> {
        self.with(&[b"d/", table.as_bytes(), b"\0"])
    }

    /// The end (exclusive) of `table`'s range.
    fn table_end(&self, table: &str) -> Vec<u8> {
        self.with(&[b"d/", table.as_bytes(), b"\x01"])
    }

    /// The etcd key of `key` in `table`.
    fn data_key(&self, table: &str, key: &[u8]) -> Vec<u8> {
        self.with(&[b"d/", table.as_bytes(), b"\0", key])
    }

    /// The catalog entry saying `table` exists.
    fn catalog_key(&self, table: &str) -> Vec<u8> {
        self.with(&[b"c/", table.as_bytes()])
    }

    /// The catalog's range: `[P c/, P c0)` (`'0'` follows `'/'`).
    fn catalog_range(&self) -> (Vec<u8>, Vec<u8>) {
        (self.with(&[b"c/"]), self.with(&[b"c0"]))
    }

    /// The commit token.
    fn token(&self) -> Vec<u8> {
        self.with(&[b"token"])
    }

    /// The queue of writers that keep losing (see [`claim`]): `[P claims/,
    /// P claims0)`.
    fn claims_range(&self) -> (Vec<u8>, Vec<u8>) {
        (self.with(&[b"claims/"]), self.with(&[b"claims0"]))
    }
}
