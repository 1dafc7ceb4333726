//! Read transactions: a snapshot with its table cache, and tables opened
//! by name for tools.

use std::cell::{Cell, RefCell};
use std::ops::Bound;

use redb::{ReadableTable, ReadableTableMetadata, TableHandle};

use super::guard::{Fault, Handoff, shielded, shielded_op};
use super::{Bytes, Def, Key, def};
use crate::engine::{KeyBound, KvRead, TableId, TreeShape};
use crate::error::Error;

/// Visits the entries of `t` within the bounds (see [`KvRead::scan`]).
pub(super) fn scan_in<T: ReadableTable<Key, Bytes>>(
    t: &T,
    lower: KeyBound,
    upper: KeyBound,
    reverse: bool,
    visit: impl FnMut(&[u8], &[u8]) -> bool,
) -> Result<(), Error> {
    if bounds_empty(lower, upper) {
        return Ok(());
    }
    shielded_op(|handoff| {
        let range = t.range((lower, upper))?;
        run_scan(range, reverse, handoff, visit)
    })
}

/// Looks `key` up in `t` and hands the value's bytes to `f`.
#[inline]
pub(super) fn get_in<R, T: ReadableTable<Key, Bytes>>(
    t: &T,
    key: &[u8],
    f: impl FnOnce(&[u8]) -> R,
) -> Result<Option<R>, Error> {
    // The value leaves through `out`, and the lookup's result is matched in
    // place (`?` would move the engine's guard once more): both save copies
    // on every lookup.
    let mut out = None;
    shielded_op(|handoff| match t.get(key) {
        Ok(Some(guard)) => {
            let bytes = guard.value();
            out = Some(handoff.run(|| f(bytes)));
            Ok(())
        }
        Ok(None) => Ok(()),
        Err(e) => Err(e.into()),
    })?;
    Ok(out)
}

/// A guard over stored bytes: what a range yields, borrowed from its table
/// (`AccessGuard`) or owning its snapshot (`OwnedAccessGuard`).
pub(super) trait StoredBytes {
    fn bytes(&self) -> &[u8];
}

impl<V> StoredBytes for redb::AccessGuard<'_, V>
where
    V: for<'b> redb::Value<SelfType<'b> = &'b [u8]>,
{
    #[inline]
    fn bytes(&self) -> &[u8] {
        self.value()
    }
}

impl<V> StoredBytes for redb::OwnedAccessGuard<V>
where
    V: for<'b> redb::Value<SelfType<'b> = &'b [u8]> + 'static,
{
    #[inline]
    fn bytes(&self) -> &[u8] {
        self.value()
    }
}

/// Drives a range to its end or until `visit` returns `false`; runs inside
/// the caller's [`shielded_op`], with the visitor handed off.
pub(super) fn run_scan<I, K, V>(
    mut iter: I,
    reverse: bool,
    handoff: &Handoff,
    mut visit: impl FnMut(&[u8], &[u8]) -> bool,
) -> Result<(), Fault>
where
    I: DoubleEndedIterator<Item = Result<(K, V), redb::StorageError>>,
    K: StoredBytes,
    V: StoredBytes,
{
    loop {
        let item = if reverse {
            iter.next_back()
        } else {
            iter.next()
        };
        let Some((k, v)) = item.transpose()? else {
            return Ok(());
        };
        // Decoded before the handoff: the engine reads the entry's page
        // here, and its panic on a damaged one is not the visitor's.
        let (key, value) = (k.bytes(), v.bytes());
        if !handoff.run(|| visit(key, value)) {
            return Ok(());
        }
    }
}

/// What a read transaction knows about one table slot.
///
/// `repr(u8)` gives the enum a plain tag byte: checking a slot on every
/// lookup is then one compare, where the niche-packed layout needed a
/// 128-bit decode.
#[repr(u8)]
pub(super) enum ReadSlot {
    Unknown,
    /// The table does not exist in this snapshot.
    Missing,
    Open(redb::ReadOnlyTable<Key, Bytes>),
}

/// A read snapshot with its table cache.
pub struct ReadTxn {
    pub(super) txn: redb::ReadTransaction,
    pub(super) tables: RefCell<Vec<ReadSlot>>,
}

thread_local! {
    /// The emptied table cache of the last snapshot this thread dropped:
    /// the next one reuses its allocation (a read transaction per request
    /// would otherwise allocate and free one each time).
    static SPARE_SLOTS: Cell<Vec<ReadSlot>> = const { Cell::new(Vec::new()) };
}

/// Keeps a spare cache of up to this many slots.
const SPARE_SLOTS_MAX: usize = 64;

impl ReadTxn {
    /// A snapshot with an empty table cache.
    pub(super) fn new(txn: redb::ReadTransaction) -> ReadTxn {
        let tables = SPARE_SLOTS.try_with(Cell::take).unwrap_or_default();
        ReadTxn {
            txn,
            tables: RefCell::new(tables),
        }
    }
}

impl Drop for ReadTxn {
    fn drop(&mut self) {
        let mut tables = std::mem::take(self.tables.get_mut());
        if tables.capacity() != 0 && tables.capacity() <= SPARE_SLOTS_MAX {
            // The tables close here, before the snapshot, as they would
            // without the spare.
            tables.clear();
            // During thread exit the spare may be gone: the cache is freed.
            let _ = SPARE_SLOTS.try_with(|spare| spare.set(tables));
        }
    }
}

impl ReadTxn {
    /// Runs `f` on the cached table (opened on first use), or returns
    /// `missing` if the table does not exist. The cache stays borrowed only
    /// while `f` runs, and `f` never runs user code.
    #[inline]
    fn with_table<R>(
        &self,
        id: &TableId,
        missing: R,
        f: impl FnOnce(&redb::ReadOnlyTable<Key, Bytes>) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let slot = id.slot();
        let known = matches!(
            self.tables.borrow().get(slot),
            Some(ReadSlot::Open(_) | ReadSlot::Missing)
        );
        if !known {
            self.open_slot(id)?;
        }
        // `f` has this one call site, so it is inlined into the caller.
        match self.tables.borrow().get(slot) {
            Some(ReadSlot::Open(t)) => f(t),
            _ => Ok(missing),
        }
    }

    /// First use of a table in this transaction: opens it (or learns that
    /// it does not exist) and caches the outcome in its slot.
    #[cold]
    #[inline(never)]
    fn open_slot(&self, id: &TableId) -> Result<(), Error> {
        let slot = id.slot();
        let mut tables = self.tables.borrow_mut();
        if tables.len() <= slot {
            tables.resize_with(slot + 1, || ReadSlot::Unknown);
        }
        // The table handle is written straight into its slot: it is large,
        // and each move on the way would copy it (one open per table per
        // transaction).
        let cell = &mut tables[slot];
        shielded(|| {
            match self.txn.open_table(def(id)) {
                Ok(t) => *cell = ReadSlot::Open(t),
                Err(redb::TableError::TableDoesNotExist(_)) => *cell = ReadSlot::Missing,
                Err(e) => return Err(e.into()),
            }
            Ok(())
        })
    }
}

impl ReadTxn {
    /// Names of every table in this snapshot, in name order.
    pub fn table_names(&self) -> Result<Vec<String>, Error> {
        let mut names: Vec<String> = self
            .txn
            .list_tables()?
            .map(|h| h.name().to_string())
            .collect();
        names.sort();
        Ok(names)
    }

    /// Entry count of the table called `name`, `None` if it does not exist.
    pub fn table_len(&self, name: &str) -> Result<Option<u64>, Error> {
        self.open_named(name)?.map(|t| t.len()).transpose()
    }

    /// The table called `name`, opened for tools and operations (not the
    /// hot path: each call opens it); `None` if it does not exist.
    pub fn open_named(&self, name: &str) -> Result<Option<RawTable>, Error> {
        match shielded(|| Ok(self.txn.open_table(Def::new(name))))? {
            Ok(table) => Ok(Some(RawTable { table })),
            Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

/// A table opened by its engine-level name in a read snapshot.
pub struct RawTable {
    table: redb::ReadOnlyTable<Key, Bytes>,
}

impl RawTable {
    /// Number of entries.
    pub fn len(&self) -> Result<u64, Error> {
        shielded(|| Ok(self.table.len()?))
    }

    /// The shape of the table's tree (this walks every branch page).
    pub fn shape(&self) -> Result<TreeShape, Error> {
        let stats = shielded(|| Ok(self.table.stats()?))?;
        Ok(TreeShape {
            depth: stats.tree_height(),
            leaf_pages: stats.leaf_pages(),
            branch_pages: stats.branch_pages(),
        })
    }

    /// Looks `key` up and hands its value to `f`.
    pub fn get<R>(&self, key: &[u8], f: impl FnOnce(&[u8]) -> R) -> Result<Option<R>, Error> {
        get_in(&self.table, key, f)
    }

    /// Visits entries within the bounds, as [`KvRead::scan`].
    pub fn scan(
        &self,
        lower: KeyBound,
        upper: KeyBound,
        reverse: bool,
        visit: impl FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), Error> {
        scan_in(&self.table, lower, upper, reverse, visit)
    }
}

impl KvRead for ReadTxn {
    #[inline]
    fn get<R>(
        &self,
        table: &TableId,
        key: &[u8],
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<Option<R>, Error> {
        self.with_table(table, None, |t| get_in(t, key, f))
    }

    fn scan(
        &self,
        table: &TableId,
        lower: KeyBound,
        upper: KeyBound,
        reverse: bool,
        visit: impl FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), Error> {
        if bounds_empty(lower, upper) {
            return Ok(());
        }
        // The table leaves its slot for the scan, so that the cache is not
        // borrowed while the visitor runs (the visitor may read other
        // tables, or this one, which then opens a second handle). A range
        // borrowing the table yields plain guards; redb's owned range would
        // clone the snapshot's reference count for every entry.
        shielded_op(|handoff| {
            let Some(t) = self.take_table(table)? else {
                return Ok(());
            };
            let scanned = match t.range((lower, upper)) {
                Ok(range) => run_scan(range, reverse, handoff, visit),
                Err(e) => Err(e.into()),
            };
            self.put_back(table, t);
            scanned
        })
    }
}

impl ReadTxn {
    /// The cached table (opened on first use), moved out of its slot; `None`
    /// if the table does not exist.
    fn take_table(&self, id: &TableId) -> Result<Option<redb::ReadOnlyTable<Key, Bytes>>, Error> {
        let slot = id.slot();
        if !matches!(
            self.tables.borrow().get(slot),
            Some(ReadSlot::Open(_) | ReadSlot::Missing)
        ) {
            self.open_slot(id)?;
        }
        let mut tables = self.tables.borrow_mut();
        match tables.get_mut(slot) {
            Some(cell @ ReadSlot::Open(_)) => match std::mem::replace(cell, ReadSlot::Unknown) {
                ReadSlot::Open(t) => Ok(Some(t)),
                _ => Ok(None),
            },
            _ => Ok(None),
        }
    }

    /// Returns a table taken by [`take_table`](Self::take_table) to its
    /// slot, unless the slot was filled again meanwhile.
    fn put_back(&self, id: &TableId, t: redb::ReadOnlyTable<Key, Bytes>) {
        if let Some(cell @ ReadSlot::Unknown) = self.tables.borrow_mut().get_mut(id.slot()) {
            *cell = ReadSlot::Open(t);
        }
    }
}

/// redb panics on a range whose start is after its end; vbolt treats it as
/// empty.
pub(super) fn bounds_empty(lower: KeyBound, upper: KeyBound) -> bool {
    match (lower, upper) {
        (Bound::Included(a), Bound::Included(b)) => a > b,
        (Bound::Included(a) | Bound::Excluded(a), Bound::Excluded(b))
        | (Bound::Excluded(a), Bound::Included(b)) => a >= b,
        _ => false,
    }
}
