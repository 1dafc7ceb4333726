//! A database on an etcd cluster: connecting, beginning transactions, and
//! the whole-database operations that make sense on a cluster.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use super::Layout;
use super::bridge::Bridge;
use super::limits::Limits;
use super::read::{ReadTxn, Shared};
use super::write::WriteTxn;
use crate::engine::{EtcdSettings, Space};
use crate::error::Error;

/// The most entries `load` writes per commit: below etcd's default limit
/// of 128 operations per transaction, with room for the catalog entry and
/// the token.
const LOAD_BATCH: usize = 100;

/// A database under one prefix of an etcd cluster.
pub struct Store {
    shared: Arc<Shared>,
}

impl Store {
    /// Connects to the cluster; every key of this database lives under
    /// `prefix`.
    pub fn open(
        endpoints: &[String],
        prefix: &str,
        settings: &EtcdSettings,
    ) -> Result<Store, Error> {
        if endpoints.is_empty() {
            return Err(Error::Engine("etcd: no endpoints given".into()));
        }
        let bridge = Bridge::connect(endpoints, settings.request_timeout)?;
        let store = Store {
            shared: Arc::new(Shared {
                bridge,
                layout: Layout::new(prefix),
                limits: Limits::new(settings.max_txn_ops, settings.max_request_bytes),
                cataloged: Mutex::new(HashSet::new()),
            }),
        };
        // Fail at open, not at the first read, when the cluster is not
        // there.
        store.begin_read()?.pin()?;
        Ok(store)
    }

    pub fn begin_read(&self) -> Result<ReadTxn, Error> {
        Ok(ReadTxn::begin(self.shared.clone()))
    }

    pub fn begin_write(&self) -> Result<WriteTxn, Error> {
        Ok(WriteTxn::new(ReadTxn::begin(self.shared.clone())))
    }

    /// A write transaction for an attempt after `lost` that lost to other
    /// writers (it may claim priority first).
    pub fn begin_write_retry(&self, lost: u32) -> Result<WriteTxn, Error> {
        Ok(WriteTxn::after_losses(
            ReadTxn::begin(self.shared.clone()),
            lost,
        ))
    }

    /// etcd checks its own data (`etcdctl check`, `etcdutl`); there is no
    /// file here to check.
    pub fn check_engine(&mut self) -> Result<bool, Error> {
        Err(Error::Unsupported(
            "an engine check of an etcd cluster (use etcd's own tools)",
        ))
    }

    /// Compacting a cluster (`etcdctl compact`, `defrag`) is an operator's
    /// decision: it expires every older snapshot.
    pub fn compact(&mut self) -> Result<bool, Error> {
        Err(Error::Unsupported(
            "compacting an etcd cluster (use etcdctl compact and defrag)",
        ))
    }

    pub fn space(&self) -> Result<Space, Error> {
        Err(Error::Unsupported(
            "file space figures of an etcd cluster (see etcdctl endpoint status)",
        ))
    }

    /// Writes `entries` into the table called `name` in commits of at most
    /// [`LOAD_BATCH`] entries each: not atomic as a whole.
    pub fn load(&self, name: &str, entries: &[(Vec<u8>, Vec<u8>)]) -> Result<(), Error> {
        let mut chunks = entries.chunks(LOAD_BATCH).peekable();
        if chunks.peek().is_none() {
            let mut w = self.begin_write()?;
            w.touch_named(name);
            return w.commit();
        }
        for chunk in chunks {
            let mut w = self.begin_write()?;
            w.touch_named(name);
            for (k, v) in chunk {
                w.put_named(name, k, v);
            }
            w.commit()?;
        }
        Ok(())
    }

    /// Every acknowledged commit is already on a majority's disks.
    pub fn sync(&self) -> Result<(), Error> {
        Ok(())
    }

    /// Names and entry counts of every table, in name order.
    pub fn list_tables(&self) -> Result<Vec<(String, u64)>, Error> {
        let txn = self.begin_read()?;
        let mut out = Vec::new();
        for name in txn.table_names()? {
            let len = txn.table_len(&name)?.unwrap_or(0);
            out.push((name, len));
        }
        Ok(out)
    }
}
