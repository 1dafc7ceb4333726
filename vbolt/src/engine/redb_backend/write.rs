//! The write transaction, with its table cache.

use std::cell::RefCell;

use super::guard::{guarded, shielded};
use super::read::{get_in, scan_in};
use super::{Bytes, Key, def};
use crate::engine::{KeyBound, KvRead, SEQUENCES, TableId};
use crate::error::Error;

type WriteTable<'a> = redb::Table<'a, Key, Bytes>;
type WriteTables<'a> = RefCell<Vec<Option<WriteTable<'a>>>>;

self_cell::self_cell!(
    /// A redb write transaction together with the tables opened in it
    /// (a redb `Table` borrows its transaction).
    struct WriteCell {
        owner: redb::WriteTransaction,
        #[not_covariant]
        dependent: WriteTables,
    }
);

/// The write transaction with its table cache.
pub struct WriteTxn {
    cell: WriteCell,
}

fn open_write<'a>(txn: &'a redb::WriteTransaction, id: &TableId) -> Result<WriteTable<'a>, Error> {
    shielded(|| Ok(txn.open_table(def(id))?))
}

impl WriteTxn {
    /// Wraps an engine write transaction, with an empty table cache.
    pub(super) fn new(txn: redb::WriteTransaction) -> WriteTxn {
        WriteTxn {
            cell: WriteCell::new(txn, |_| RefCell::new(Vec::new())),
        }
    }

    /// Runs `f` on the cached table, opening it on first use. While a scan
    /// holds the cache, a table not yet cached is opened just for this call.
    fn with_table<R>(
        &self,
        id: &TableId,
        f: impl FnOnce(&WriteTable<'_>) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let slot = id.slot();
        self.cell.with_dependent(|txn, tables| {
            if let Some(Some(t)) = tables.borrow().get(slot) {
                return f(t);
            }
            match tables.try_borrow_mut() {
                Ok(mut cache) => {
                    if cache.len() <= slot {
                        cache.resize_with(slot + 1, || None);
                    }
                    cache[slot] = Some(open_write(txn, id)?);
                }
                Err(_) => return f(&open_write(txn, id)?),
            }
            let cache = tables.borrow();
            match cache.get(slot) {
                Some(Some(t)) => f(t),
                _ => Err(Error::Engine("table cache lost an entry".into())),
            }
        })
    }

    fn with_table_mut<R>(
        &mut self,
        id: &TableId,
        f: impl FnOnce(&mut WriteTable<'_>) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let slot = id.slot();
        self.cell.with_dependent_mut(|txn, tables| {
            let cache = tables.get_mut();
            if cache.len() <= slot {
                cache.resize_with(slot + 1, || None);
            }
            if cache[slot].is_none() {
                cache[slot] = Some(open_write(txn, id)?);
            }
            match cache[slot].as_mut() {
                Some(t) => f(t),
                None => Err(Error::Engine("table cache lost an entry".into())),
            }
        })
    }

    pub fn put(&mut self, table: &TableId, key: &[u8], value: &[u8]) -> Result<(), Error> {
        self.with_table_mut(table, |t| {
            shielded(|| Ok(t.insert(key, value).map(drop)?))?;
            Ok(())
        })
    }

    pub fn delete(&mut self, table: &TableId, key: &[u8]) -> Result<bool, Error> {
        self.with_table_mut(table, |t| shielded(|| Ok(t.remove(key)?.is_some())))
    }

    /// Removes every entry of the table (the table itself stays).
    pub fn clear_table(&mut self, table: &TableId) -> Result<(), Error> {
        let slot = table.slot();
        self.cell.with_dependent_mut(|txn, tables| {
            // The cached handle borrows the table; close it first.
            if let Some(cached) = tables.get_mut().get_mut(slot) {
                *cached = None;
            }
            txn.delete_table(def(table))?;
            Ok::<(), Error>(())
        })?;
        self.create_table(table)
    }

    /// Creates the table if it does not exist.
    pub fn create_table(&mut self, table: &TableId) -> Result<(), Error> {
        self.with_table_mut(table, |_| Ok(()))
    }

    pub fn set_sequence(&mut self, table: &TableId, value: u64) -> Result<(), Error> {
        self.put(
            &SEQUENCES,
            table.full_name().as_bytes(),
            &value.to_be_bytes(),
        )
    }

    /// Makes every change of this transaction durable and visible, or none.
    pub fn commit(self) -> Result<(), Error> {
        // Tables must be closed (dropped) before their transaction commits.
        let txn = self.cell.into_owner();
        guarded("commit", || Ok(txn.commit()?))
    }
}

impl KvRead for WriteTxn {
    #[inline]
    fn get<R>(
        &self,
        table: &TableId,
        key: &[u8],
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<Option<R>, Error> {
        self.with_table(table, |t| get_in(t, key, f))
    }

    fn scan(
        &self,
        table: &TableId,
        lower: KeyBound,
        upper: KeyBound,
        reverse: bool,
        visit: impl FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), Error> {
        self.with_table(table, |t| scan_in(t, lower, upper, reverse, visit))
    }
}
