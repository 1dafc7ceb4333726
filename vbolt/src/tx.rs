//! Transactions: [`ReadTx`] (a snapshot) and [`WriteTx`] (the one writer),
//! and the [`Readable`] trait that lets every reading function accept both.
//!
//! # Error model
//!
//! A write never returns an error to its caller. The first failure (I/O,
//! a key or value that cannot be packed, the zero key, a write after
//! commit) is recorded in the transaction; every later write in it becomes
//! a no-op and [`WriteTx::commit`] returns that failure and commits
//! nothing. Reads return their failures as `Result`; the fill-in forms that
//! answer `bool` ([`read`](crate::read)) record them in the transaction
//! instead, so a read that could not be performed can never lead to a
//! commit built on a wrong answer. [`ReadTx::error`] and [`WriteTx::error`]
//! show the recorded failure.

use std::cell::{Cell, OnceCell, RefCell, RefMut};
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use crate::engine::{KeyBound, KvRead, ReadTxn, TableId, TableKind, WriteTxn};
use crate::error::Error;
use crate::gate::WriterTurn;
use crate::hub::{ChangeSet, Hub, Space};
use crate::links::{Links, Touched};
use crate::term_diff::TermDiff;

/// A transaction that functions can read from: [`ReadTx`] or [`WriteTx`].
///
/// Reading functions take `&impl Readable`, so they work in both kinds of
/// transaction; writing functions take `&mut WriteTx`, so writing in a read
/// transaction does not compile:
///
/// ```compile_fail
/// # use vbolt::*;
/// static NAMES: Bucket<u64, String> = Bucket::new("names", vpack::key::fuint(), vpack::string);
/// let db = Db::in_memory()?;
/// let tx = db.read_tx()?;
/// write(&tx, &NAMES, &1, &mut "x".to_string()); // error: expected `&mut WriteTx`
/// # Ok::<(), vbolt::Error>(())
/// ```
pub trait Readable: sealed::Access {}

impl Readable for ReadTx {}
impl Readable for WriteTx {}

pub(crate) mod sealed {
    use super::*;

    /// Crate-internal access shared by both transaction kinds.
    pub trait Access {
        type Kv: KvRead;
        /// The engine transaction; `None` once a write transaction finished.
        fn kv(&self) -> Option<&Self::Kv>;
        /// Records the first failure.
        fn record(&self, e: Error);
        /// The pool of reusable byte buffers.
        fn pool(&self) -> &Pool;
    }
}

use sealed::Access;

/// A byte buffer borrowed from a transaction's pool; returned (its
/// capacity kept) when dropped, so key encoding allocates once per
/// transaction, not once per call.
///
/// Most calls need one buffer at a time: the pool's first buffer is lent
/// as a plain `RefCell` borrow, the cheapest lending there is. Calls that
/// need more at once take the others from the free stack.
pub(crate) enum PooledBuf<'t> {
    First(RefMut<'t, Vec<u8>>),
    Pooled { pool: &'t Pool, buf: Vec<u8> },
}

impl Deref for PooledBuf<'_> {
    type Target = Vec<u8>;
    #[inline]
    fn deref(&self) -> &Vec<u8> {
        match self {
            PooledBuf::First(b) => b,
            PooledBuf::Pooled { buf, .. } => buf,
        }
    }
}

impl DerefMut for PooledBuf<'_> {
    #[inline]
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        match self {
            PooledBuf::First(b) => b,
            PooledBuf::Pooled { buf, .. } => buf,
        }
    }
}

impl Drop for PooledBuf<'_> {
    #[inline]
    fn drop(&mut self) {
        if let PooledBuf::Pooled { pool, buf } = self {
            give_back(pool, std::mem::take(buf));
        }
    }
}

/// A transaction's reusable byte buffers: one lent by borrow, and a small
/// stack of free buffers in fixed slots, so the pool itself never
/// allocates (only a buffer's first use does).
///
/// The first buffer outlives its transaction: a pool takes it from its
/// thread's spare and gives it back when dropped, so a transaction that
/// packs one key (a point read in its own transaction) allocates nothing.
pub struct Pool {
    first: RefCell<Vec<u8>>,
    rest: RefCell<FreeBuffers>,
}

thread_local! {
    /// The first buffer of the last pool this thread dropped.
    static SPARE: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// Keeps a spare buffer up to this size; a larger one is freed.
const SPARE_MAX: usize = 4096;

impl Default for Pool {
    #[inline]
    fn default() -> Pool {
        Pool {
            first: RefCell::new(SPARE.try_with(Cell::take).unwrap_or_default()),
            rest: RefCell::default(),
        }
    }
}

impl Drop for Pool {
    #[inline]
    fn drop(&mut self) {
        let mut first = std::mem::take(self.first.get_mut());
        if first.capacity() != 0 && first.capacity() <= SPARE_MAX {
            first.clear();
            // During thread exit the spare may be gone: the buffer is
            // freed then.
            let _ = SPARE.try_with(|spare| spare.set(first));
        }
    }
}

#[derive(Default)]
struct FreeBuffers {
    /// `slots[..free]` hold emptied buffers with capacity.
    slots: [Vec<u8>; 6],
    free: usize,
}

/// Takes an empty buffer from a pool (a new, unallocated one if none is free).
#[inline]
pub(crate) fn take_from(pool: &Pool) -> Vec<u8> {
    match pool.rest.try_borrow_mut() {
        Ok(mut p) if p.free > 0 => {
            p.free -= 1;
            let at = p.free;
            std::mem::take(&mut p.slots[at])
        }
        _ => Vec::new(),
    }
}

/// Returns a buffer to a pool, emptied, its capacity kept.
#[inline]
pub(crate) fn give_back(pool: &Pool, mut buf: Vec<u8>) {
    if buf.capacity() == 0 {
        return;
    }
    if let Ok(mut p) = pool.rest.try_borrow_mut()
        && p.free < p.slots.len()
    {
        buf.clear();
        let at = p.free;
        p.slots[at] = buf;
        p.free += 1;
    }
}

/// Takes an empty buffer from the transaction's pool, returned when dropped.
#[inline]
pub(crate) fn scratch<T: Access + ?Sized>(tx: &T) -> PooledBuf<'_> {
    let pool = tx.pool();
    match pool.first.try_borrow_mut() {
        Ok(mut buf) => {
            buf.clear();
            PooledBuf::First(buf)
        }
        Err(_) => PooledBuf::Pooled {
            pool,
            buf: take_from(pool),
        },
    }
}

/// The engine transaction, or [`Error::Finished`] once it has ended.
///
/// Lazy on purpose: with `ok_or(Error::Finished)` every read builds and
/// drops an `Error`, which callgrind counts as 27 more instructions per
/// count read (+3.5%) and 27 per point read on the benchmark's `--tiny`.
#[inline]
#[allow(clippy::unnecessary_lazy_evaluations)]
fn live<T: Access + ?Sized>(tx: &T) -> Result<&T::Kv, Error> {
    tx.kv().ok_or_else(|| Error::Finished)
}

/// Looks a key up; `Ok(None)` when absent, [`Error::Finished`] after commit.
#[inline]
pub(crate) fn try_get<T: Access + ?Sized, R>(
    tx: &T,
    table: &TableId,
    key: &[u8],
    f: impl FnOnce(&[u8]) -> R,
) -> Result<Option<R>, Error> {
    live(tx)?.get(table, key, f)
}

/// Looks up several keys (see [`KvRead::get_many`]); [`Error::Finished`]
/// after commit.
pub(crate) fn try_get_many<T: Access + ?Sized>(
    tx: &T,
    table: &TableId,
    keys: &[&[u8]],
    f: impl FnMut(usize, &[u8]),
) -> Result<(), Error> {
    live(tx)?.get_many(table, keys, f)
}

/// Fetches keys about to be read (see [`KvRead::prefetch`]);
/// [`Error::Finished`] after commit.
pub(crate) fn try_prefetch<T: Access + ?Sized>(
    tx: &T,
    table: &TableId,
    keys: &[&[u8]],
) -> Result<(), Error> {
    live(tx)?.prefetch(table, keys)
}

/// Fetches key ranges about to be scanned (see
/// [`KvRead::prefetch_ranges`]); [`Error::Finished`] after commit.
pub(crate) fn try_prefetch_ranges<T: Access + ?Sized>(
    tx: &T,
    table: &TableId,
    ranges: &[(KeyBound, KeyBound)],
) -> Result<(), Error> {
    live(tx)?.prefetch_ranges(table, ranges)
}

/// True when the engine prefers several keys in one read
/// ([`KvRead::batches_reads`]).
pub(crate) fn batches_reads<T: Access + ?Sized>(tx: &T) -> bool {
    tx.kv().is_some_and(|kv| kv.batches_reads())
}

/// Scans a key range (see [`KvRead::scan`]); [`Error::Finished`] after
/// commit.
pub(crate) fn try_scan<T: Access + ?Sized>(
    tx: &T,
    table: &TableId,
    lower: KeyBound,
    upper: KeyBound,
    reverse: bool,
    visit: impl FnMut(&[u8], &[u8]) -> bool,
) -> Result<(), Error> {
    live(tx)?.scan(table, lower, upper, reverse, visit)
}

/// Records `e` in the transaction (the first failure wins).
fn recorded<T: Access + ?Sized, R>(tx: &T, result: Result<R, Error>) -> Option<R> {
    result.map_err(|e| tx.record(e)).ok()
}

/// [`try_get`] for the write paths, which fail the transaction instead of
/// returning: `None` when absent or failed.
#[inline]
pub(crate) fn get<T: Access + ?Sized, R>(
    tx: &T,
    table: &TableId,
    key: &[u8],
    f: impl FnOnce(&[u8]) -> R,
) -> Option<R> {
    recorded(tx, try_get(tx, table, key, f)).flatten()
}

/// [`try_scan`] for the write paths, recording its failure.
pub(crate) fn scan<T: Access + ?Sized>(
    tx: &T,
    table: &TableId,
    lower: KeyBound,
    upper: KeyBound,
    reverse: bool,
    visit: impl FnMut(&[u8], &[u8]) -> bool,
) {
    recorded(tx, try_scan(tx, table, lower, upper, reverse, visit));
}

/// A table's sequence, recording engine failures (0 on failure).
pub(crate) fn sequence<T: Access + ?Sized>(tx: &T, table: &TableId) -> u64 {
    match tx.kv().map(|kv| kv.sequence(table)) {
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            tx.record(e);
            0
        }
        None => 0,
    }
}

/// A read transaction: a consistent snapshot of the database.
///
/// Any number of read transactions may be open at once, in any threads,
/// while a writer commits; each sees the state as of its beginning. It is
/// closed when dropped. Keep read transactions short: the file cannot reuse
/// pages that an open snapshot still sees.
///
/// ```
/// # use vbolt::*;
/// static NAMES: Bucket<u64, String> = Bucket::new("names", vpack::key::fuint(), vpack::string);
/// let db = Db::in_memory()?;
/// let tx = db.read_tx()?;
/// let mut name = String::new();
/// assert_eq!(get(&tx, &NAMES, 1)?, None); // never written: absent
/// # Ok::<(), vbolt::Error>(())
/// ```
pub struct ReadTx {
    kv: ReadTxn,
    error: OnceCell<Error>,
    pool: Pool,
}

impl ReadTx {
    pub(crate) fn new(kv: ReadTxn) -> ReadTx {
        ReadTx {
            kv,
            error: OnceCell::new(),
            pool: Pool::default(),
        }
    }

    /// The first engine failure met while reading, if any. When it is set,
    /// reads in this transaction may have returned less than is stored.
    pub fn error(&self) -> Option<&Error> {
        self.error.get()
    }

    /// The engine snapshot, for operations on tables named at run time.
    pub(crate) fn raw(&self) -> &ReadTxn {
        &self.kv
    }

    /// Ends the transaction, returning the first engine failure met.
    pub fn finish(mut self) -> Result<(), Error> {
        self.error.take().map_or(Ok(()), Err)
    }
}

impl Access for ReadTx {
    type Kv = ReadTxn;
    #[inline]
    fn kv(&self) -> Option<&ReadTxn> {
        Some(&self.kv)
    }
    fn record(&self, e: Error) {
        let _ = self.error.set(e);
    }
    #[inline]
    fn pool(&self) -> &Pool {
        &self.pool
    }
}

/// What every write transaction of one database shares: its
/// subscriptions and its index links.
#[derive(Clone, Copy)]
pub(crate) struct Shared<'a> {
    pub(crate) hub: &'a Arc<Hub>,
    pub(crate) links: &'a Arc<Links>,
}

/// The write transaction: at most one exists at a time.
///
/// Nothing it writes is visible to others until [`commit`](WriteTx::commit)
/// returns `Ok`; dropping it without committing discards every change. It
/// reads its own writes.
///
/// ```
/// # use vbolt::*;
/// static NAMES: Bucket<u64, String> = Bucket::new("names", vpack::key::fuint(), vpack::string);
/// let db = Db::in_memory()?;
/// let mut tx = db.write_tx()?;
/// write(&mut tx, &NAMES, 1, &mut "ann".to_string());
/// tx.commit()?;
///
/// let mut tx = db.write_tx()?;
/// write(&mut tx, &NAMES, 2, &mut "bo".to_string());
/// drop(tx); // rolled back
///
/// let tx = db.read_tx()?;
/// assert!(has_key(&tx, &NAMES, 1)?);
/// assert!(!has_key(&tx, &NAMES, 2)?);
/// # Ok::<(), vbolt::Error>(())
/// ```
///
/// A write transaction stays on the thread that began it (it is not
/// `Send`): the write turn belongs to that thread, which is what lets
/// [`Db::write_tx`](crate::Db::write_tx) refuse a second one there instead
/// of waiting forever. So an async task cannot hold one across an
/// `.await` on a multi-threaded runtime (the future would not be `Send`);
/// run the whole transaction in `spawn_blocking` with
/// [`Db::update`](crate::Db::update).
///
/// ```compile_fail
/// fn must_be_send<T: Send>() {}
/// must_be_send::<vbolt::WriteTx>(); // error: `*const ()` cannot be sent between threads
/// ```
pub struct WriteTx {
    // Dropped before `turn`: the engine transaction ends before the next
    // writer is let in.
    kv: Option<WriteTxn>,
    error: OnceCell<Error>,
    pool: Pool,
    pub(crate) term_diff: TermDiff,
    turn: Option<WriterTurn>,
    /// A part of a group commit ([`Db::update`](crate::Db::update)): the
    /// group commits, not this handle.
    grouped: bool,
    /// The database's subscriptions, told about the changes after commit.
    hub: Arc<Hub>,
    /// What this transaction changed, for the subscriptions.
    changes: ChangeSet,
    /// The database's index-to-bucket links.
    links: Arc<Links>,
    /// With strict indexes on: what to check against the links.
    strict: Option<Box<Touched>>,
    _one_thread: PhantomData<*const ()>,
}

impl WriteTx {
    pub(crate) fn new(kv: WriteTxn, turn: WriterTurn, shared: Shared<'_>) -> WriteTx {
        WriteTx::with(kv, Some(turn), shared)
    }

    fn with(kv: WriteTxn, turn: Option<WriterTurn>, shared: Shared<'_>) -> WriteTx {
        WriteTx {
            kv: Some(kv),
            error: OnceCell::new(),
            pool: Pool::default(),
            term_diff: TermDiff::default(),
            grouped: turn.is_none(),
            turn,
            changes: ChangeSet::new(shared.hub.watched()),
            hub: shared.hub.clone(),
            strict: shared.links.is_strict().then(Box::default),
            links: shared.links.clone(),
            _one_thread: PhantomData,
        }
    }

    /// A handle on the group's engine transaction for one closure of a
    /// group commit.
    pub(crate) fn grouped(kv: WriteTxn, shared: Shared<'_>) -> WriteTx {
        WriteTx::with(kv, None, shared)
    }

    /// Ends a grouped handle: the engine transaction (`None` if it was
    /// lost), the failure the closure recorded, if any (strict index
    /// links checked first), and its changes.
    pub(crate) fn into_parts(mut self) -> (Option<WriteTxn>, Option<Error>, ChangeSet) {
        self.verify_links();
        let changes = std::mem::take(&mut self.changes);
        (self.kv.take(), self.error.take(), changes)
    }

    /// With strict indexes on, checks what this transaction touched against
    /// the index links, recording a failure.
    fn verify_links(&mut self) {
        if let (Some(touched), Some(kv), None) = (&self.strict, &self.kv, self.error.get())
            && let Err(e) = touched.verify(&self.links, kv)
        {
            let _ = self.error.set(e);
        }
    }

    /// The database's index-to-bucket links (for [`init_buckets`](crate::init_buckets)).
    pub(crate) fn links(&self) -> &Links {
        &self.links
    }

    /// Records, for the subscriptions, that `key` of a bucket (or a term of
    /// an index) changed.
    #[inline]
    pub(crate) fn touched(&mut self, space: Space, name: &'static str, key: &[u8]) {
        self.changes.key(space, name, key);
    }

    /// The failure recorded in this transaction, if any. Once set, later
    /// writes are no-ops and `commit` returns this failure.
    pub fn error(&self) -> Option<&Error> {
        self.error.get()
    }

    /// True while no failure has been recorded and the transaction is open.
    pub fn is_ok(&self) -> bool {
        self.error.get().is_none() && self.kv.is_some()
    }

    /// Records a failure: the transaction will not commit.
    pub(crate) fn fail(&mut self, e: Error) {
        let _ = self.error.set(e);
    }

    /// The engine transaction for writing, if the transaction is still good.
    pub(crate) fn writer(&mut self) -> Option<&mut WriteTxn> {
        if self.error.get().is_some() {
            return None;
        }
        match self.kv.as_mut() {
            Some(kv) => Some(kv),
            None => {
                let _ = self.error.set(Error::Finished);
                None
            }
        }
    }

    /// Inserts or replaces a raw entry, recording failure.
    pub(crate) fn put(&mut self, table: &TableId, key: &[u8], value: &[u8]) {
        if let Some(touched) = &mut self.strict {
            touched.put(table, key);
        }
        if let Some(kv) = self.writer()
            && let Err(e) = kv.put(table, key, value)
        {
            self.fail(e);
        }
    }

    /// Removes a raw entry, recording failure; whether it existed.
    pub(crate) fn delete(&mut self, table: &TableId, key: &[u8]) -> bool {
        if let Some(touched) = &mut self.strict {
            touched.delete(table, key);
        }
        match self.writer().map(|kv| kv.delete(table, key)) {
            Some(Ok(existed)) => existed,
            Some(Err(e)) => {
                self.fail(e);
                false
            }
            None => false,
        }
    }

    /// Empties a table, recording failure.
    pub(crate) fn clear_table(&mut self, table: &TableId) {
        if let Some(kv) = self.writer()
            && let Err(e) = kv.clear_table(table)
        {
            self.fail(e);
        }
        match table.kind() {
            TableKind::Bucket => self.changes.table(Space::BucketKey, table.name()),
            TableKind::IndexTerms => self.changes.table(Space::IndexTerm, table.name()),
            _ => {}
        }
    }

    /// True once committed (or after a failed commit).
    pub(crate) fn is_finished(&self) -> bool {
        self.kv.is_none()
    }

    /// True if writes can go on; records [`Error::Finished`] after commit,
    /// so a write that is skipped is never skipped silently.
    pub(crate) fn can_write(&mut self) -> bool {
        self.writer().is_some()
    }

    /// Creates a table if missing, recording failure.
    pub(crate) fn create_table(&mut self, table: &TableId) {
        if let Some(kv) = self.writer()
            && let Err(e) = kv.create_table(table)
        {
            self.fail(e);
        }
    }

    /// Sets a table's sequence, recording failure.
    pub(crate) fn set_sequence(&mut self, table: &TableId, value: u64) {
        if let Some(kv) = self.writer()
            && let Err(e) = kv.set_sequence(table, value)
        {
            self.fail(e);
        }
    }

    /// Commits every change of this transaction atomically, or none.
    ///
    /// Returns the recorded failure (committing nothing) if any write failed.
    /// After `commit` the transaction is finished: writes record
    /// [`Error::Finished`] and reads find nothing.
    pub fn commit(&mut self) -> Result<(), Error> {
        if self.grouped {
            let e = || {
                Error::Unsupported(
                    "commit inside Db::update (update commits when its closure returns Ok)",
                )
            };
            let _ = self.error.set(e());
            return Err(e());
        }
        self.verify_links();
        let kv = self.kv.take();
        let result = match (self.error.take(), kv) {
            (Some(e), kv) => {
                drop(kv); // rolled back
                Err(e)
            }
            (None, Some(kv)) => kv.commit(),
            (None, None) => Err(Error::Finished),
        };
        // The engine transaction is gone: let the next writer in.
        self.turn = None;
        let changes = std::mem::take(&mut self.changes);
        if result.is_ok() {
            self.hub.publish(&changes);
        }
        result
    }
}

impl Access for WriteTx {
    type Kv = WriteTxn;
    #[inline]
    fn kv(&self) -> Option<&WriteTxn> {
        self.kv.as_ref()
    }
    fn record(&self, e: Error) {
        let _ = self.error.set(e);
    }
    #[inline]
    fn pool(&self) -> &Pool {
        &self.pool
    }
}
