//! One type per engine role ([`Store`], [`ReadTxn`], [`WriteTxn`],
//! [`RawTable`]) that forwards each call to the backend in use.
//!
//! Everything above the engine names these types only, so it cannot tell
//! which backend runs. They are enums rather than trait objects: the
//! contract's reads take generic closures (no `dyn`), and a `match` over
//! the backends compiled in is free when there is one (the default build)
//! and one predictable branch when there are two.

#[cfg(feature = "etcd")]
use super::EtcdSettings;
#[cfg(feature = "etcd")]
use super::etcd_backend;
use super::redb_backend;
use super::{EngineOptions, KeyBound, KvRead, Space, TableId, TreeShape};
use crate::error::Error;

/// Runs `$body` with `$inner` bound to the backend value inside `$value`.
macro_rules! forward {
    ($value:expr, $inner:ident => $body:expr) => {
        match $value {
            Self::Redb($inner) => $body,
            #[cfg(feature = "etcd")]
            Self::Etcd($inner) => $body,
        }
    };
}

/// An open database: a file, memory, or an etcd cluster.
pub enum Store {
    Redb(redb_backend::Store),
    #[cfg(feature = "etcd")]
    Etcd(etcd_backend::Store),
}

/// A read snapshot.
pub enum ReadTxn {
    Redb(redb_backend::ReadTxn),
    #[cfg(feature = "etcd")]
    Etcd(etcd_backend::ReadTxn),
}

/// The write transaction.
pub enum WriteTxn {
    Redb(redb_backend::WriteTxn),
    #[cfg(feature = "etcd")]
    Etcd(etcd_backend::WriteTxn),
}

/// A table opened by its engine-level name, for tools.
pub enum RawTable {
    Redb(redb_backend::RawTable),
    #[cfg(feature = "etcd")]
    Etcd(etcd_backend::RawTable),
}

impl Store {
    /// Opens (creating if needed) the database file at `path`.
    pub fn open(path: &std::path::Path, opts: &EngineOptions) -> Result<Store, Error> {
        redb_backend::Store::open(path, opts).map(Store::Redb)
    }

    /// A database that lives in memory only.
    pub fn in_memory() -> Result<Store, Error> {
        redb_backend::Store::in_memory().map(Store::Redb)
    }

    /// Connects to an etcd cluster, keeping every key under `prefix`.
    #[cfg(feature = "etcd")]
    pub fn open_etcd(
        endpoints: &[String],
        prefix: &str,
        settings: &EtcdSettings,
    ) -> Result<Store, Error> {
        etcd_backend::Store::open(endpoints, prefix, settings).map(Store::Etcd)
    }

    pub fn begin_read(&self) -> Result<ReadTxn, Error> {
        match self {
            Store::Redb(s) => s.begin_read().map(ReadTxn::Redb),
            #[cfg(feature = "etcd")]
            Store::Etcd(s) => s.begin_read().map(ReadTxn::Etcd),
        }
    }

    pub fn begin_write(&self) -> Result<WriteTxn, Error> {
        match self {
            Store::Redb(s) => s.begin_write().map(WriteTxn::Redb),
            #[cfg(feature = "etcd")]
            Store::Etcd(s) => s.begin_write().map(WriteTxn::Etcd),
        }
    }

    /// [`Store::begin_write`] for an attempt after `lost` attempts that
    /// lost to other writers in a row.
    pub fn begin_write_retry(&self, lost: u32) -> Result<WriteTxn, Error> {
        match self {
            // A file has one writer: nobody to lose to.
            Store::Redb(s) => {
                let _ = lost;
                s.begin_write().map(WriteTxn::Redb)
            }
            #[cfg(feature = "etcd")]
            Store::Etcd(s) => s.begin_write_retry(lost).map(WriteTxn::Etcd),
        }
    }

    pub fn check_engine(&mut self) -> Result<bool, Error> {
        forward!(self, s => s.check_engine())
    }

    pub fn compact(&mut self) -> Result<bool, Error> {
        forward!(self, s => s.compact())
    }

    pub fn space(&self) -> Result<Space, Error> {
        forward!(self, s => s.space())
    }

    pub fn load(&self, name: &str, entries: &[(Vec<u8>, Vec<u8>)]) -> Result<(), Error> {
        forward!(self, s => s.load(name, entries))
    }

    pub fn sync(&self) -> Result<(), Error> {
        forward!(self, s => s.sync())
    }

    pub fn list_tables(&self) -> Result<Vec<(String, u64)>, Error> {
        forward!(self, s => s.list_tables())
    }
}

impl ReadTxn {
    /// Names of every table in this snapshot, in name order.
    pub fn table_names(&self) -> Result<Vec<String>, Error> {
        forward!(self, t => t.table_names())
    }

    /// Entry count of the table called `name`, `None` if it does not exist.
    pub fn table_len(&self, name: &str) -> Result<Option<u64>, Error> {
        forward!(self, t => t.table_len(name))
    }

    /// The table called `name`, `None` if it does not exist.
    pub fn open_named(&self, name: &str) -> Result<Option<RawTable>, Error> {
        match self {
            ReadTxn::Redb(t) => Ok(t.open_named(name)?.map(RawTable::Redb)),
            #[cfg(feature = "etcd")]
            ReadTxn::Etcd(t) => Ok(t.open_named(name)?.map(RawTable::Etcd)),
        }
    }
}

/// The read half of the contract, forwarded for both transaction kinds.
macro_rules! forward_kv_read {
    ($t:ident) => {
        impl KvRead for $t {
            #[inline]
            fn get_many(
                &self,
                table: &TableId,
                keys: &[&[u8]],
                f: impl FnMut(usize, &[u8]),
            ) -> Result<(), Error> {
                forward!(self, t => t.get_many(table, keys, f))
            }

            #[inline]
            fn batches_reads(&self) -> bool {
                forward!(self, t => t.batches_reads())
            }

            #[inline]
            fn prefetch(&self, table: &TableId, keys: &[&[u8]]) -> Result<(), Error> {
                forward!(self, t => t.prefetch(table, keys))
            }

            #[inline]
            fn prefetch_ranges(
                &self,
                table: &TableId,
                ranges: &[(KeyBound, KeyBound)],
            ) -> Result<(), Error> {
                forward!(self, t => t.prefetch_ranges(table, ranges))
            }

            #[inline]
            fn get<R>(
                &self,
                table: &TableId,
                key: &[u8],
                f: impl FnOnce(&[u8]) -> R,
            ) -> Result<Option<R>, Error> {
                forward!(self, t => t.get(table, key, f))
            }

            #[inline]
            fn scan(
                &self,
                table: &TableId,
                lower: KeyBound,
                upper: KeyBound,
                reverse: bool,
                visit: impl FnMut(&[u8], &[u8]) -> bool,
            ) -> Result<(), Error> {
                forward!(self, t => t.scan(table, lower, upper, reverse, visit))
            }
        }
    };
}

forward_kv_read!(ReadTxn);
forward_kv_read!(WriteTxn);

impl WriteTxn {
    #[inline]
    pub fn put(&mut self, table: &TableId, key: &[u8], value: &[u8]) -> Result<(), Error> {
        forward!(self, t => t.put(table, key, value))
    }

    #[inline]
    pub fn delete(&mut self, table: &TableId, key: &[u8]) -> Result<bool, Error> {
        forward!(self, t => t.delete(table, key))
    }

    /// Removes every entry of the table (the table itself stays).
    pub fn clear_table(&mut self, table: &TableId) -> Result<(), Error> {
        forward!(self, t => t.clear_table(table))
    }

    /// Creates the table if it does not exist.
    pub fn create_table(&mut self, table: &TableId) -> Result<(), Error> {
        forward!(self, t => t.create_table(table))
    }

    pub fn set_sequence(&mut self, table: &TableId, value: u64) -> Result<(), Error> {
        forward!(self, t => t.set_sequence(table, value))
    }

    /// `Ok` while this transaction's commit is within the engine's limits
    /// per transaction; [`Error::LimitExceeded`] naming the limit when not.
    #[inline]
    pub fn fits(&self) -> Result<(), Error> {
        match self {
            WriteTxn::Redb(_) => Ok(()),
            #[cfg(feature = "etcd")]
            WriteTxn::Etcd(t) => t.fits(),
        }
    }

    /// Makes every change of this transaction durable and visible, or none.
    pub fn commit(self) -> Result<(), Error> {
        forward!(self, t => t.commit())
    }
}

impl RawTable {
    /// Number of entries.
    pub fn len(&self) -> Result<u64, Error> {
        forward!(self, t => t.len())
    }

    /// The shape of the table's tree (zero where the engine has no such
    /// notion).
    pub fn shape(&self) -> Result<TreeShape, Error> {
        forward!(self, t => t.shape())
    }

    /// Looks `key` up and hands its value to `f`.
    pub fn get<R>(&self, key: &[u8], f: impl FnOnce(&[u8]) -> R) -> Result<Option<R>, Error> {
        forward!(self, t => t.get(key, f))
    }

    /// Visits entries within the bounds, as [`KvRead::scan`].
    pub fn scan(
        &self,
        lower: KeyBound,
        upper: KeyBound,
        reverse: bool,
        visit: impl FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), Error> {
        forward!(self, t => t.scan(lower, upper, reverse, visit))
    }
}
