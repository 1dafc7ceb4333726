//! The redb backend: vbolt's engine contract on an embedded, checksummed,
//! copy-on-write B-tree file.
//!
//! - [`key`]: vbolt's own key type, compared a word at a time;
//! - `guard`: every engine step under one unwind guard (redb trusts its
//!   pages and can panic on a damaged one);
//! - [`store`]: opening, creating and closing a file, and the
//!   whole-file operations;
//! - [`read`] and [`write`]: the transactions and their table caches;
//! - `wal`: the optional write-ahead log under the file, and its replay
//!   at open;
//! - `errors`: redb's errors mapped to [`Error`](crate::Error), here and
//!   nowhere else;
//! - `budget`: the file's syncs counted, so that an engine operation
//!   looping on a damaged file can be stopped.

/// The file-lock methods of [`redb::StorageBackend`], passed to the
/// backend in `$inner`: a wrapper that changes how a file is written or
/// synced (the log, the sync budget) locks it as the file itself does.
macro_rules! forward_locks {
    ($inner:ident) => {
        fn try_lock_range(
            &self,
            start: std::ops::Bound<u64>,
            end: std::ops::Bound<u64>,
        ) -> Result<bool, redb::BackendError> {
            self.$inner.try_lock_range(start, end)
        }

        fn try_lock_shared_range(
            &self,
            start: std::ops::Bound<u64>,
            end: std::ops::Bound<u64>,
        ) -> Result<bool, redb::BackendError> {
            self.$inner.try_lock_shared_range(start, end)
        }

        fn lock_range(
            &self,
            start: std::ops::Bound<u64>,
            end: std::ops::Bound<u64>,
        ) -> Result<(), redb::BackendError> {
            self.$inner.lock_range(start, end)
        }

        fn lock_shared_range(
            &self,
            start: std::ops::Bound<u64>,
            end: std::ops::Bound<u64>,
        ) -> Result<(), redb::BackendError> {
            self.$inner.lock_shared_range(start, end)
        }

        fn unlock_range(
            &self,
            start: std::ops::Bound<u64>,
            end: std::ops::Bound<u64>,
        ) -> Result<(), redb::BackendError> {
            self.$inner.unlock_range(start, end)
        }

        fn query_lock_range(
            &self,
            start: std::ops::Bound<u64>,
            end: std::ops::Bound<u64>,
        ) -> Result<bool, redb::BackendError> {
            self.$inner.query_lock_range(start, end)
        }
    };
}

mod budget;
mod errors;
mod guard;
pub(crate) mod key;
pub(crate) mod read;
pub(crate) mod store;
#[cfg(unix)]
mod wal;
pub(crate) mod write;

use redb::TableDefinition;

use super::TableId;

pub use key::Key;
pub(crate) use read::{RawTable, ReadTxn};
pub(crate) use store::Store;
pub(crate) use write::WriteTxn;

/// Values are byte strings.
type Bytes = &'static [u8];
/// How redb names a vbolt table.
type Def<'a> = TableDefinition<'a, Key, Bytes>;

/// The redb definition of a table.
fn def(id: &TableId) -> Def<'_> {
    TableDefinition::new(id.full_name())
}
