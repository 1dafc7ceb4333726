//! The write transaction: reads at its start revision with its own writes
//! laid over them, and a commit that is one guarded etcd `Txn` (see the
//! module docs of the backend for the protocol), followed, when its answer
//! is lost, by the settle step that finds out what happened.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::time::{Duration, Instant};

use etcd_client::{Compare, CompareOp, Txn, TxnOp, WatchOptions};

use super::bridge::{limit_of, to_error};
use super::claim::{self, Claim};
use super::limits::{BASE_BYTES, OP_OVERHEAD, Size};
use super::read::ReadTxn;
use crate::engine::{KeyBound, KvRead, SEQUENCES, TableId};
use crate::error::Error;

/// How long finding out a commit's outcome may keep trying, across the
/// members, before it is [`Error::CommitUnknown`].
pub(super) const SETTLE_FOR: Duration = Duration::from_secs(30);

/// The write transaction.
pub struct WriteTxn {
    read: ReadTxn,
    /// etcd key -> new value (`None`: deleted), in key order.
    changes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// The bytes `changes` adds to the commit request.
    change_bytes: usize,
    /// Tables written or created (for the catalog).
    touched: BTreeSet<String>,
    /// The priority this transaction holds, if it took it (see
    /// [`claim`]); given back when it ends without committing.
    claim: Option<Box<Claim>>,
}

impl WriteTxn {
    pub(super) fn new(read: ReadTxn) -> WriteTxn {
        WriteTxn {
            read,
            changes: BTreeMap::new(),
            change_bytes: 0,
            touched: BTreeSet::new(),
            claim: None,
        }
    }

    /// A write transaction for an attempt after `lost` lost ones: past
    /// [`claim::CLAIM_AFTER`], it first claims priority.
    pub(super) fn after_losses(read: ReadTxn, lost: u32) -> WriteTxn {
        let mut txn = WriteTxn::new(read);
        if lost >= claim::CLAIM_AFTER {
            txn.claim = claim::take(&txn.read.shared, commit_id()).map(Box::new);
        }
        txn
    }

    fn data_key(&self, table: &TableId, key: &[u8]) -> Vec<u8> {
        self.read.shared.layout.data_key(table.full_name(), key)
    }

    fn touch(&mut self, table: &TableId) {
        self.touch_named(table.full_name());
    }

    /// Marks the table called `name` (engine-level) as written.
    pub(super) fn touch_named(&mut self, name: &str) {
        if !self.touched.contains(name) {
            self.touched.insert(name.to_string());
        }
    }

    /// Records a change of etcd key `k`, keeping the request size.
    fn change(&mut self, k: Vec<u8>, v: Option<Vec<u8>>) {
        let cost = |v: &Option<Vec<u8>>| k.len() + v.as_ref().map_or(0, Vec::len) + OP_OVERHEAD;
        self.change_bytes += cost(&v);
        let klen = k.len();
        if let Some(old) = self.changes.insert(k, v) {
            self.change_bytes -= klen + old.as_ref().map_or(0, Vec::len) + OP_OVERHEAD;
        }
    }

    pub fn put(&mut self, table: &TableId, key: &[u8], value: &[u8]) -> Result<(), Error> {
        self.put_named(table.full_name(), key, value);
        Ok(())
    }

    /// Writes `key` in the table called `name` (engine-level).
    pub(super) fn put_named(&mut self, name: &str, key: &[u8], value: &[u8]) {
        let k = self.read.shared.layout.data_key(name, key);
        self.change(k, Some(value.to_vec()));
        self.touch_named(name);
    }

    pub fn delete(&mut self, table: &TableId, key: &[u8]) -> Result<bool, Error> {
        let k = self.data_key(table, key);
        let existed = match self.changes.get(&k) {
            Some(change) => change.is_some(),
            None => self.read.get_raw(k.clone())?.is_some(),
        };
        self.change(k, None);
        self.touch(table);
        Ok(existed)
    }

    /// Removes every entry of the table: one delete per entry, so a large
    /// table can exceed the cluster's operations per transaction.
    pub fn clear_table(&mut self, table: &TableId) -> Result<(), Error> {
        let mut keys = Vec::new();
        self.scan(table, Bound::Unbounded, Bound::Unbounded, false, |k, _| {
            keys.push(k.to_vec());
            true
        })?;
        for k in keys {
            self.delete(table, &k)?;
        }
        self.touch(table);
        Ok(())
    }

    /// Creates the table if it does not exist.
    pub fn create_table(&mut self, table: &TableId) -> Result<(), Error> {
        self.touch(table);
        Ok(())
    }

    pub fn set_sequence(&mut self, table: &TableId, value: u64) -> Result<(), Error> {
        self.put(
            &SEQUENCES,
            table.full_name().as_bytes(),
            &value.to_be_bytes(),
        )
    }

    /// The tables this transaction creates, as `visit` sees them (their
    /// catalog entries go into its commit).
    fn each_new_table(&self, mut visit: impl FnMut(&str)) {
        let known = self
            .read
            .shared
            .cataloged
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        for t in self.touched.iter().filter(|t| !known.contains(*t)) {
            visit(t);
        }
    }

    /// What the commit request holds: every change, the new tables'
    /// catalog entries, the token, and the claim's delete. Counted without
    /// copying a name: group commit asks after every closure.
    fn size(&self) -> Size {
        let layout = &self.read.shared.layout;
        let (mut tables, mut catalog) = (0, 0);
        self.each_new_table(|t| {
            tables += 1;
            catalog += layout.catalog_key(t).len() + OP_OVERHEAD;
        });
        Size {
            ops: self.changes.len() + tables + 1 + usize::from(self.claim.is_some()),
            bytes: BASE_BYTES + self.change_bytes + catalog,
        }
    }

    /// `Ok` if this transaction's commit is within the cluster's limits;
    /// [`Error::LimitExceeded`] naming the limit otherwise.
    pub fn fits(&self) -> Result<(), Error> {
        self.read.shared.limits.check(self.size())
    }

    /// Commits every change at once if no other commit happened since this
    /// transaction began; [`Error::Conflict`] (nothing written) otherwise.
    pub fn commit(mut self) -> Result<(), Error> {
        let mut new_tables = Vec::new();
        self.each_new_table(|t| new_tables.push(t.to_string()));
        if self.changes.is_empty() && new_tables.is_empty() {
            return Ok(());
        }
        let size = self.size();
        let shared = &self.read.shared;
        shared.limits.check(size)?;
        // The revision this transaction read at (pinned now, for a
        // transaction that wrote without reading).
        let start = self.read.pin()?;
        let token = shared.layout.token();
        let id = commit_id();
        let mut ops: Vec<TxnOp> = Vec::with_capacity(size.ops);
        for (k, v) in &self.changes {
            ops.push(match v {
                Some(v) => TxnOp::put(k.clone(), v.clone(), None),
                None => TxnOp::delete(k.clone(), None),
            });
        }
        for t in &new_tables {
            ops.push(TxnOp::put(shared.layout.catalog_key(t), Vec::new(), None));
        }
        ops.push(TxnOp::put(token.clone(), id.to_vec(), None));
        if let Some(claim) = &self.claim {
            ops.push(claim::release_op(claim));
        }
        let txn = Txn::new()
            .when([
                unmoved_since(&token, start),
                claim::compare(shared, self.claim.as_deref()),
            ])
            .and_then(ops);

        let outcome = match shared.bridge.once(|mut c| async move { c.txn(txn).await }) {
            Ok(response) if response.succeeded() => Ok(()),
            Ok(_) => Err(Error::Conflict),
            Err(e) => match limit_of(&e) {
                Some(limit) => {
                    shared.limits.learn(limit, size);
                    Err(to_error(e))
                }
                // Every other failure may have happened after the cluster
                // applied the commit: find out.
                None => self.settle(&token, &id, start, &e),
            },
        };
        if outcome.is_ok() {
            // The commit took this writer out of the queue.
            self.claim = None;
            let mut known = shared.cataloged.lock().unwrap_or_else(|p| p.into_inner());
            known.extend(new_tables);
        }
        outcome
    }

    /// Finds out whether the commit with `id`, whose request failed with
    /// `first` (in flight, or before it was sent), was applied: `Ok` if it
    /// was, [`Error::Conflict`] if it was not and never will be,
    /// [`Error::CommitUnknown`] if the cluster gave no answer on any
    /// member for [`SETTLE_FOR`], or compacted the history that tells.
    fn settle(
        &self,
        token: &[u8],
        id: &[u8; 16],
        start: i64,
        first: &etcd_client::Error,
    ) -> Result<(), Error> {
        let bridge = &self.read.shared.bridge;
        let mut fence = b"fence:".to_vec();
        fence.extend_from_slice(id);
        let began = Instant::now();
        let mut pause = Duration::from_millis(10);
        let mut last = first.to_string();
        let mut n: u32 = 0;
        loop {
            // Move the token on, if it is where this transaction left it:
            // then the lost commit's compare can never succeed.
            let fenced = Txn::new()
                .when([unmoved_since(token, start)])
                .and_then([TxnOp::put(token.to_vec(), fence.clone(), None)]);
            let round = n / bridge.members() as u32;
            let attempt = bridge
                .attempt(round, |mut c| async move { c.txn(fenced).await })
                .and_then(|r| {
                    if r.succeeded() {
                        Ok(None)
                    } else {
                        // The token moved: the first change after this
                        // transaction began tells whose it was.
                        self.first_token_change(token, start, round).map(Some)
                    }
                });
            match attempt {
                Ok(None) => return Err(Error::Conflict),
                Ok(Some(Some(value))) => {
                    return if value == id {
                        Ok(())
                    } else {
                        Err(Error::Conflict)
                    };
                }
                Ok(Some(None)) => {
                    return Err(Error::CommitUnknown(
                        "the cluster compacted the history that would tell".into(),
                    ));
                }
                Err(e) if began.elapsed() < SETTLE_FOR => {
                    last = e.to_string();
                    n += 1;
                    // Every member once without a pause; then wait for
                    // the cluster between rounds.
                    if n.is_multiple_of(bridge.members() as u32) {
                        std::thread::sleep(pause);
                        pause = (pause * 2).min(Duration::from_millis(500));
                    }
                }
                Err(_) => {
                    return Err(Error::CommitUnknown(format!(
                        "no member answered for {SETTLE_FOR:?} (last: {last})"
                    )));
                }
            }
        }
    }

    /// The token's value at its first change after this transaction
    /// began; `None` if that history is compacted.
    fn first_token_change(
        &self,
        token: &[u8],
        start: i64,
        round: u32,
    ) -> Result<Option<Vec<u8>>, etcd_client::Error> {
        let options = WatchOptions::new().with_start_revision(start + 1);
        let token = token.to_vec();
        self.read.shared.bridge.attempt(round, |mut c| async move {
            let mut stream = c.watch(token, Some(options)).await?;
            while let Some(response) = stream.message().await? {
                if response.compact_revision() > 0 || response.canceled() {
                    return Ok(None);
                }
                if let Some(kv) = response.events().first().and_then(|e| e.kv()) {
                    return Ok(Some(kv.value().to_vec()));
                }
            }
            Ok(None)
        })
    }

    /// This transaction's changes within `[start, end)`, in key order.
    fn changes_in(&self, start: &[u8], end: &[u8]) -> Vec<(&[u8], Option<&[u8]>)> {
        if start >= end {
            return Vec::new();
        }
        self.changes
            .range::<[u8], _>((Bound::Included(start), Bound::Excluded(end)))
            .map(|(k, v)| (k.as_slice(), v.as_deref()))
            .collect()
    }
}

/// "No commit since revision `start`": the token was last changed at or
/// before it.
fn unmoved_since(token: &[u8], start: i64) -> Compare {
    Compare::mod_revision(token.to_vec(), CompareOp::Less, start + 1)
}

impl Drop for WriteTxn {
    /// A transaction that ends holding the claim (it did not commit) gives
    /// it back, so the writers it holds back need not wait for its lease.
    fn drop(&mut self) {
        if let Some(claim) = self.claim.take() {
            claim::give_back(&self.read.shared, &claim);
        }
    }
}

/// A commit's id: 16 bytes that no other commit has (time, process,
/// counter and the standard library's random hash keys).
pub(super) fn commit_id() -> [u8; 16] {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(nanos);
    h.write_u32(std::process::id());
    h.write_u64(n);
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&h.finish().to_be_bytes());
    id[8..12].copy_from_slice(&std::process::id().to_be_bytes());
    id[12..].copy_from_slice(&(n as u32).to_be_bytes());
    id
}

impl KvRead for WriteTxn {
    /// This transaction's changes first; the rest from the snapshot, in
    /// one batch.
    fn get_many(
        &self,
        table: &TableId,
        keys: &[&[u8]],
        mut f: impl FnMut(usize, &[u8]),
    ) -> Result<(), Error> {
        let mut found: Vec<(usize, Option<Vec<u8>>)> = Vec::new();
        let mut fetch = Vec::new();
        let mut fetch_at = Vec::new();
        for (i, k) in keys.iter().enumerate() {
            let full = self.data_key(table, k);
            match self.changes.get(&full) {
                Some(change) => found.push((i, change.clone())),
                None => {
                    fetch.push(full);
                    fetch_at.push(i);
                }
            }
        }
        self.read
            .get_many_raw(fetch, |j, v| found.push((fetch_at[j], Some(v.to_vec()))))?;
        found.sort_by_key(|(i, _)| *i);
        for (i, v) in found {
            if let Some(v) = v {
                f(i, &v);
            }
        }
        Ok(())
    }

    fn batches_reads(&self) -> bool {
        true
    }

    /// The keys this transaction has not changed, fetched from the
    /// snapshot.
    fn prefetch(&self, table: &TableId, keys: &[&[u8]]) -> Result<(), Error> {
        let wanted = keys
            .iter()
            .map(|k| self.data_key(table, k))
            .filter(|k| !self.changes.contains_key(k))
            .collect();
        self.read.prefetch_raw(wanted)
    }

    /// The ranges as the snapshot has them: a scan merges this
    /// transaction's changes over them, as over any snapshot read.
    fn prefetch_ranges(
        &self,
        table: &TableId,
        ranges: &[(KeyBound, KeyBound)],
    ) -> Result<(), Error> {
        self.read.prefetch_ranges(table, ranges)
    }

    fn get<R>(
        &self,
        table: &TableId,
        key: &[u8],
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<Option<R>, Error> {
        match self.changes.get(&self.data_key(table, key)) {
            Some(change) => Ok(change.as_deref().map(f)),
            None => self.read.get(table, key, f),
        }
    }

    /// The snapshot's entries merged with this transaction's changes.
    fn scan(
        &self,
        table: &TableId,
        lower: KeyBound,
        upper: KeyBound,
        reverse: bool,
        mut visit: impl FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), Error> {
        let layout = &self.read.shared.layout;
        let name = table.full_name();
        let (start, end) = layout.bounds(name, lower, upper);
        let mut pending = self.changes_in(&start, &end);
        if pending.is_empty() {
            return self.read.scan_in(name, lower, upper, reverse, visit);
        }
        if reverse {
            pending.reverse();
        }
        let skip = layout.table_start(name).len();
        // `ahead(a, b)`: `a` comes before `b` in the walk's direction.
        let ahead = |a: &[u8], b: &[u8]| if reverse { a > b } else { a < b };
        let mut next = 0;
        let mut stopped = false;
        self.read.scan_raw(start, end, reverse, |k, v| {
            // Changes that come first in the walk.
            while let Some(&(ck, cv)) = pending.get(next) {
                if !ahead(ck, k) {
                    break;
                }
                next += 1;
                if let Some(cv) = cv
                    && !visit(&ck[skip..], cv)
                {
                    stopped = true;
                    return false;
                }
            }
            // A change to this very key replaces it.
            let (key, value) = match pending.get(next) {
                Some(&(ck, cv)) if ck == k => {
                    next += 1;
                    match cv {
                        Some(cv) => (ck, cv),
                        None => return true,
                    }
                }
                _ => (k, v),
            };
            if !visit(&key[skip..], value) {
                stopped = true;
                return false;
            }
            true
        })?;
        if !stopped {
            for &(ck, cv) in &pending[next..] {
                if let Some(cv) = cv
                    && !visit(&ck[skip..], cv)
                {
                    break;
                }
            }
        }
        Ok(())
    }
}
