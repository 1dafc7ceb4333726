//! Read transactions: every read at one revision, pinned by the
//! transaction's first read (which asks for the newest, and learns which
//! revision that was from the response); range reads in pages that grow
//! as the visitor keeps asking.
//!
//! Pinning at the first read rather than at `begin` (as PostgreSQL takes a
//! transaction's snapshot at its first statement) saves a round trip per
//! transaction: a one-read transaction is one request.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::ops::Bound;
use std::sync::{Arc, Mutex};

use etcd_client::{
    GetOptions, GetResponse, SortOrder, SortTarget, Txn, TxnOp, TxnOpResponse, TxnResponse,
};

use super::Layout;
use super::bridge::{Bridge, EtcdError, is_compacted, to_error};
use super::limits::Limits;
use crate::engine::{KeyBound, KvRead, TableId, TreeShape};
use crate::error::Error;

/// The first page of a range read: enough for a typical window, small
/// enough not to fetch what a short walk never looks at.
const FIRST_PAGE: i64 = 64;
/// The largest page: bounds one response's size.
const MAX_PAGE: i64 = 2048;
/// Keys per multi-key read: below etcd's default of 128 operations per
/// transaction.
const BATCH: usize = 100;

/// What every transaction of one store shares.
pub(super) struct Shared {
    pub bridge: Bridge,
    pub layout: Layout,
    /// The cluster's limits on one commit.
    pub limits: Limits,
    /// Tables known to have their catalog entry, so a commit writes it
    /// only the first time.
    pub cataloged: Mutex<HashSet<String>>,
}

/// A read snapshot: the cluster at one revision.
#[derive(Clone)]
pub struct ReadTxn {
    pub(super) shared: Arc<Shared>,
    /// The revision every read uses; 0 until the first read pins it.
    revision: Cell<i64>,
    /// Values already read at the pinned revision (`None`: absent). A
    /// snapshot never changes, so they stay right for the transaction's
    /// life; point reads look here first. At most [`SEEN_BYTES`] of keys
    /// and values are kept.
    seen: RefCell<HashMap<Vec<u8>, Option<Vec<u8>>>>,
    /// Whole ranges fetched ahead ([`KvRead::prefetch_ranges`]): start ->
    /// (end, every entry in between). Taken by the first scan of exactly
    /// that range; counted in the same [`SEEN_BYTES`].
    ranges: RefCell<HashMap<Vec<u8>, Fetched>>,
    seen_bytes: Cell<usize>,
}

/// Key-value pairs of a range, in key order.
type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// A range fetched ahead: its end, and every entry from its start.
#[derive(Clone)]
struct Fetched {
    end: Vec<u8>,
    entries: Entries,
}

/// The most bytes of keys and values one transaction keeps from its point
/// reads (a long transaction that reads many keys stops caching there).
const SEEN_BYTES: usize = 4 << 20;

impl ReadTxn {
    /// A snapshot, pinned by its first read.
    pub(super) fn begin(shared: Arc<Shared>) -> ReadTxn {
        ReadTxn {
            shared,
            revision: Cell::new(0),
            seen: RefCell::new(HashMap::new()),
            ranges: RefCell::default(),
            seen_bytes: Cell::new(0),
        }
    }

    /// The pinned revision, if a read has pinned it.
    pub(super) fn pinned(&self) -> Option<i64> {
        Some(self.revision.get()).filter(|r| *r > 0)
    }

    /// Pins the snapshot now, if no read has (one request).
    pub(super) fn pin(&self) -> Result<i64, Error> {
        if let Some(r) = self.pinned() {
            return Ok(r);
        }
        self.get_raw(self.shared.layout.token())?;
        self.pinned()
            .ok_or_else(|| Error::Engine("etcd: a response without a header".into()))
    }

    /// Read options at the pinned revision (the newest when none is).
    fn at(&self, options: GetOptions) -> GetOptions {
        match self.pinned() {
            Some(r) => options.with_revision(r),
            None => options,
        }
    }

    /// Pins the revision a response was read at, if none is pinned yet.
    fn saw(&self, header: Option<&etcd_client::ResponseHeader>) {
        if self.revision.get() == 0
            && let Some(h) = header
        {
            self.revision.set(h.revision());
        }
    }

    /// Maps a read failure: a compacted revision is an expired snapshot.
    fn failed(&self, e: EtcdError) -> Error {
        if is_compacted(&e) {
            Error::SnapshotExpired {
                revision: self.revision.get(),
            }
        } else {
            to_error(e)
        }
    }

    /// The value of one etcd key at this snapshot.
    pub(super) fn get_raw(&self, key: Vec<u8>) -> Result<Option<Vec<u8>>, Error> {
        if let Some(known) = self.seen.borrow().get(&key) {
            return Ok(known.clone());
        }
        let value = self.fetch(key.clone())?;
        self.remember(key, value.clone());
        Ok(value)
    }

    /// Keeps a value read at the pinned revision, within [`SEEN_BYTES`].
    fn remember(&self, key: Vec<u8>, value: Option<Vec<u8>>) {
        let size = key.len() + value.as_ref().map_or(0, Vec::len);
        let total = self.seen_bytes.get() + size;
        if total <= SEEN_BYTES {
            self.seen_bytes.set(total);
            self.seen.borrow_mut().insert(key, value);
        }
    }

    /// Reads `keys` not read yet in one request per [`BATCH`], for the
    /// point reads that follow.
    pub(super) fn prefetch_raw(&self, keys: Vec<Vec<u8>>) -> Result<(), Error> {
        let missing: Vec<Vec<u8>> = {
            let seen = self.seen.borrow();
            keys.into_iter().filter(|k| !seen.contains_key(k)).collect()
        };
        if missing.is_empty() {
            return Ok(());
        }
        let mut found: Vec<Option<Vec<u8>>> = vec![None; missing.len()];
        self.get_many_raw(missing.clone(), |i, v| found[i] = Some(v.to_vec()))?;
        for (k, v) in missing.into_iter().zip(found) {
            self.remember(k, v);
        }
        Ok(())
    }

    /// Fetches the etcd ranges `[start, end)` not fetched yet, up to
    /// [`FIRST_PAGE`] entries each, in one request per [`BATCH`] ranges;
    /// a range that holds more is left to its scan.
    pub(super) fn prefetch_ranges_raw(&self, ranges: Vec<(Vec<u8>, Vec<u8>)>) -> Result<(), Error> {
        let missing: Vec<(Vec<u8>, Vec<u8>)> = {
            let known = self.ranges.borrow();
            ranges
                .into_iter()
                .filter(|(start, end)| start < end && !known.contains_key(start))
                .collect()
        };
        for chunk in missing.chunks(BATCH) {
            let ops: Vec<TxnOp> = chunk
                .iter()
                .map(|(start, end)| {
                    let options = GetOptions::new()
                        .with_range(end.clone())
                        .with_limit(FIRST_PAGE);
                    TxnOp::get(start.clone(), Some(self.at(options)))
                })
                .collect();
            let response = self.read_ops(ops)?;
            for ((start, end), op) in chunk.iter().zip(response.op_responses()) {
                let TxnOpResponse::Get(mut got) = op else {
                    continue;
                };
                if got.more() {
                    continue;
                }
                let entries: Entries = got
                    .take_kvs()
                    .into_iter()
                    .map(|kv| kv.into_key_value())
                    .collect();
                let size = start.len()
                    + end.len()
                    + entries
                        .iter()
                        .map(|(k, v)| k.len() + v.len())
                        .sum::<usize>();
                let total = self.seen_bytes.get() + size;
                if total <= SEEN_BYTES {
                    self.seen_bytes.set(total);
                    let fetched = Fetched {
                        end: end.clone(),
                        entries,
                    };
                    self.ranges.borrow_mut().insert(start.clone(), fetched);
                }
            }
        }
        Ok(())
    }

    /// The entries of `[start, end)` if they were fetched ahead, taken out
    /// of the cache (a range is scanned once, usually).
    fn prefetched(&self, start: &[u8], end: &[u8]) -> Option<Entries> {
        let mut ranges = self.ranges.borrow_mut();
        match ranges.get(start) {
            Some(fetched) if fetched.end == end => ranges.remove(start).map(|f| f.entries),
            _ => None,
        }
    }

    /// One `Txn` of read operations (built with [`ReadTxn::at`]), retried
    /// while the cluster is unavailable; its response pins the snapshot if
    /// nothing did yet.
    fn read_ops(&self, ops: Vec<TxnOp>) -> Result<TxnResponse, Error> {
        let response = self
            .shared
            .bridge
            .retrying(|mut c| {
                let txn = Txn::new().and_then(ops.clone());
                async move { c.txn(txn).await }
            })
            .map_err(|e| self.failed(e))?;
        self.saw(response.header());
        Ok(response)
    }

    /// One `Get` request from `key` with `options`, at this snapshot (its
    /// first request pins it), retried while the cluster is unavailable.
    fn range(&self, key: &[u8], options: GetOptions) -> Result<GetResponse, Error> {
        let options = self.at(options);
        let response = self
            .shared
            .bridge
            .retrying(|mut c| {
                let (key, options) = (key.to_vec(), options.clone());
                async move { c.get(key, Some(options)).await }
            })
            .map_err(|e| self.failed(e))?;
        self.saw(response.header());
        Ok(response)
    }

    /// Reads one etcd key at this snapshot from the cluster.
    fn fetch(&self, key: Vec<u8>) -> Result<Option<Vec<u8>>, Error> {
        let mut response = self.range(&key, GetOptions::new())?;
        Ok(response.take_kvs().pop().map(|kv| kv.into_key_value().1))
    }

    /// The values of several etcd keys at this snapshot, fetched in one
    /// request per [`BATCH`] keys; `f` gets the position and value of each
    /// one found, in order.
    pub(super) fn get_many_raw(
        &self,
        keys: Vec<Vec<u8>>,
        mut f: impl FnMut(usize, &[u8]),
    ) -> Result<(), Error> {
        for (chunk_no, chunk) in keys.chunks(BATCH).enumerate() {
            let ops: Vec<TxnOp> = chunk
                .iter()
                .map(|k| TxnOp::get(k.clone(), Some(self.at(GetOptions::new()))))
                .collect();
            let response = self.read_ops(ops)?;
            for (i, op) in response.op_responses().into_iter().enumerate() {
                if let TxnOpResponse::Get(mut got) = op
                    && let Some(kv) = got.take_kvs().pop()
                {
                    f(chunk_no * BATCH + i, kv.value());
                }
            }
        }
        Ok(())
    }

    /// Visits the etcd keys in `[start, end)` at this snapshot, in key
    /// order (or reverse), until `visit` returns false.
    pub(super) fn scan_raw(
        &self,
        mut start: Vec<u8>,
        mut end: Vec<u8>,
        reverse: bool,
        mut visit: impl FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), Error> {
        if let Some(entries) = self.prefetched(&start, &end) {
            let mut walk: Box<dyn Iterator<Item = &(Vec<u8>, Vec<u8>)>> = if reverse {
                Box::new(entries.iter().rev())
            } else {
                Box::new(entries.iter())
            };
            walk.try_for_each(|(k, v)| visit(k, v).then_some(()));
            return Ok(());
        }
        let mut page = FIRST_PAGE;
        while start < end {
            let mut options = GetOptions::new().with_range(end.clone()).with_limit(page);
            if reverse {
                options = options.with_sort(SortTarget::Key, SortOrder::Descend);
            }
            let mut response = self.range(&start, options)?;
            let more = response.more();
            let kvs = response.take_kvs();
            for kv in &kvs {
                if !visit(kv.key(), kv.value()) {
                    return Ok(());
                }
            }
            let Some(last) = kvs.last() else {
                return Ok(());
            };
            if !more {
                return Ok(());
            }
            if reverse {
                end = last.key().to_vec();
            } else {
                start = last.key().to_vec();
                start.push(0);
            }
            page = (page * 4).min(MAX_PAGE);
        }
        Ok(())
    }

    /// The number of etcd keys in `[start, end)` at this snapshot.
    fn count_raw(&self, start: Vec<u8>, end: Vec<u8>) -> Result<u64, Error> {
        let response = self.range(&start, GetOptions::new().with_range(end).with_count_only())?;
        Ok(response.count().max(0) as u64)
    }

    /// Names of every table in this snapshot, in name order.
    pub fn table_names(&self) -> Result<Vec<String>, Error> {
        let (start, end) = self.shared.layout.catalog_range();
        let skip = start.len();
        let mut names = Vec::new();
        let mut bad = None;
        self.scan_raw(start, end, false, |k, _| {
            match std::str::from_utf8(&k[skip..]) {
                Ok(name) => names.push(name.to_string()),
                Err(_) => bad = Some(k.to_vec()),
            }
            bad.is_none()
        })?;
        if let Some(k) = bad {
            return Err(Error::Corrupted(format!(
                "etcd catalog key {} is not a table name",
                crate::error::Hex(&k)
            )));
        }
        Ok(names)
    }

    /// Whether the table called `name` exists in this snapshot.
    fn table_exists(&self, name: &str) -> Result<bool, Error> {
        Ok(self
            .get_raw(self.shared.layout.catalog_key(name))?
            .is_some())
    }

    /// Entry count of the table called `name`, `None` if it does not exist.
    pub fn table_len(&self, name: &str) -> Result<Option<u64>, Error> {
        if !self.table_exists(name)? {
            return Ok(None);
        }
        let layout = &self.shared.layout;
        self.count_raw(layout.table_start(name), layout.table_end(name))
            .map(Some)
    }

    /// The table called `name`, `None` if it does not exist.
    pub fn open_named(&self, name: &str) -> Result<Option<RawTable>, Error> {
        Ok(self.table_exists(name)?.then(|| RawTable {
            txn: self.clone(),
            name: name.to_string(),
        }))
    }

    /// Looks `key` up in the table called `name`.
    pub(super) fn get_in<R>(
        &self,
        name: &str,
        key: &[u8],
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<Option<R>, Error> {
        let value = self.get_raw(self.shared.layout.data_key(name, key))?;
        Ok(value.map(|v| f(&v)))
    }

    /// Visits the entries of the table called `name` within the bounds,
    /// handing the visitor table keys (the etcd key without its table
    /// prefix).
    pub(super) fn scan_in(
        &self,
        name: &str,
        lower: KeyBound,
        upper: KeyBound,
        reverse: bool,
        mut visit: impl FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), Error> {
        let (start, end) = self.shared.layout.bounds(name, lower, upper);
        let skip = self.shared.layout.table_start(name).len();
        self.scan_raw(start, end, reverse, |k, v| visit(&k[skip..], v))
    }
}

impl Layout {
    /// The etcd range `[start, end)` of a table's keys within the bounds.
    pub(super) fn bounds(
        &self,
        table: &str,
        lower: KeyBound,
        upper: KeyBound,
    ) -> (Vec<u8>, Vec<u8>) {
        let after = |key: &[u8]| {
            let mut k = self.data_key(table, key);
            k.push(0);
            k
        };
        let start = match lower {
            Bound::Unbounded => self.table_start(table),
            Bound::Included(a) => self.data_key(table, a),
            Bound::Excluded(a) => after(a),
        };
        let end = match upper {
            Bound::Unbounded => self.table_end(table),
            Bound::Excluded(b) => self.data_key(table, b),
            Bound::Included(b) => after(b),
        };
        (start, end)
    }
}

impl KvRead for ReadTxn {
    fn get_many(
        &self,
        table: &TableId,
        keys: &[&[u8]],
        f: impl FnMut(usize, &[u8]),
    ) -> Result<(), Error> {
        let layout = &self.shared.layout;
        let keys = keys
            .iter()
            .map(|k| layout.data_key(table.full_name(), k))
            .collect();
        self.get_many_raw(keys, f)
    }

    fn batches_reads(&self) -> bool {
        true
    }

    fn prefetch(&self, table: &TableId, keys: &[&[u8]]) -> Result<(), Error> {
        let layout = &self.shared.layout;
        self.prefetch_raw(
            keys.iter()
                .map(|k| layout.data_key(table.full_name(), k))
                .collect(),
        )
    }

    fn prefetch_ranges(
        &self,
        table: &TableId,
        ranges: &[(KeyBound, KeyBound)],
    ) -> Result<(), Error> {
        let layout = &self.shared.layout;
        self.prefetch_ranges_raw(
            ranges
                .iter()
                .map(|(lower, upper)| layout.bounds(table.full_name(), *lower, *upper))
                .collect(),
        )
    }

    fn get<R>(
        &self,
        table: &TableId,
        key: &[u8],
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<Option<R>, Error> {
        self.get_in(table.full_name(), key, f)
    }

    fn scan(
        &self,
        table: &TableId,
        lower: KeyBound,
        upper: KeyBound,
        reverse: bool,
        visit: impl FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), Error> {
        self.scan_in(table.full_name(), lower, upper, reverse, visit)
    }
}

/// A table opened by its engine-level name in a read snapshot.
pub struct RawTable {
    txn: ReadTxn,
    name: String,
}

impl RawTable {
    /// Number of entries.
    pub fn len(&self) -> Result<u64, Error> {
        Ok(self.txn.table_len(&self.name)?.unwrap_or(0))
    }

    /// etcd has no per-table tree: all zeros.
    pub fn shape(&self) -> Result<TreeShape, Error> {
        Ok(TreeShape::default())
    }

    /// Looks `key` up and hands its value to `f`.
    pub fn get<R>(&self, key: &[u8], f: impl FnOnce(&[u8]) -> R) -> Result<Option<R>, Error> {
        self.txn.get_in(&self.name, key, f)
    }

    /// Visits entries within the bounds, as [`KvRead::scan`].
    pub fn scan(
        &self,
        lower: KeyBound,
        upper: KeyBound,
        reverse: bool,
        visit: impl FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), Error> {
        self.txn.scan_in(&self.name, lower, upper, reverse, visit)
    }
}
