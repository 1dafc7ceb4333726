//! Raw engine access: the only module that knows the storage engine (redb).
//!
//! Everything above this module (buckets, indexes, iteration) speaks in
//! ordered byte keys through the small contract below. A second engine
//! (LMDB, or a distributed ordered store) replaces this file and nothing
//! else.
//!
//! # Contract
//!
//! - **Tables.** A [`TableId`] names an independent ordered map from byte
//!   keys to byte values. Keys compare as unsigned bytes, lexicographically;
//!   a shorter key sorts before any longer key it is a prefix of. A table
//!   that was never written reads as empty (it is not an error).
//! - **Snapshots.** A [`ReadTxn`] sees one consistent committed state for its
//!   whole life, whatever commits happen meanwhile. Any number may be open
//!   at once, from any threads.
//! - **The writer.** At most one [`WriteTxn`] exists at a time (`begin_write`
//!   waits for the previous one to end). It reads its own uncommitted writes.
//!   Its changes become visible to new snapshots atomically at `commit`, and
//!   are discarded entirely if it is dropped without committing. After
//!   `commit` returns `Ok` with durable settings, the changes survive a
//!   crash or power loss.
//! - **Operations.** `get(table, key)`; `scan(table, lower, upper,
//!   direction)` visits the entries within the bounds in key order (or
//!   reverse) until the visitor returns `false`; `put` inserts or replaces;
//!   `delete` removes and reports whether the key existed; each table has a
//!   `u64` sequence (`sequence`/`set_sequence`) stored with the data and
//!   committed with it.
//! - **Errors.** Every operation returns `Result`; engine failures (I/O,
//!   corruption, a value too large) are mapped to [`Error`] with the
//!   engine's reason. No operation panics on bad data.
//! - **Cost.** A table is opened at most once per transaction and cached in
//!   a slot array indexed by [`TableId::slot`]: a lookup is an index, not a
//!   hash or an `open_table`. Keys are compared a word at a time ([`Key`]).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ops::Bound;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition, TableHandle};

use crate::error::Error;
use crate::files::{Mode, Scratch};

type Bytes = &'static [u8];
type Def<'a> = TableDefinition<'a, Key, Bytes>;

/// The key type of every vbolt table: a byte string, ordered exactly as
/// `&[u8]` is (unsigned bytes, lexicographic, a prefix first), but compared
/// eight bytes at a time instead of through a `memcmp` call.
///
/// vbolt keys are short and made of fixed-width fields (an 8-byte id; a
/// term, priority and target), so most comparisons are decided by one or
/// three word compares. The engine compares keys at every level of every
/// lookup, which makes this the largest single cost the layer controls
/// (BENCHMARKS.md compares it with `memcmp` keys in the same run).
///
/// The engine records a table's key type by name, so the name is part of
/// the file format: a file whose tables were made with another key type
/// (vbolt 0.1 used the engine's plain `&[u8]`) is refused at open with
/// [`Error::Incompatible`] naming the mismatch, never misread.
#[derive(Debug)]
pub enum Key {}

/// The engine-level name of [`Key`], recorded in every table's definition.
pub(crate) const KEY_TYPE_NAME: &str = "vbolt.key";

impl redb::Value for Key {
    type SelfType<'a>
        = &'a [u8]
    where
        Self: 'a;
    type AsBytes<'a>
        = &'a [u8]
    where
        Self: 'a;

    fn fixed_width() -> Option<usize> {
        None
    }

    fn from_bytes<'a>(data: &'a [u8]) -> &'a [u8]
    where
        Self: 'a,
    {
        data
    }

    fn as_bytes<'a, 'b: 'a>(value: &'a &'b [u8]) -> &'a [u8]
    where
        Self: 'b,
    {
        value
    }

    fn type_name() -> redb::TypeName {
        redb::TypeName::new(KEY_TYPE_NAME)
    }
}

impl redb::Key for Key {
    #[inline]
    fn compare(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
        compare_keys(a, b)
    }

    /// The shortest prefix of `right` that still sorts after `left` (branch
    /// pages hold separators, so shorter ones mean wider, shallower trees);
    /// `left` itself when no prefix is shorter.
    fn separator<'a>(left: &'a [u8], right: &'a [u8]) -> std::borrow::Cow<'a, [u8]> {
        let shared = left.iter().zip(right).take_while(|(l, r)| l == r).count();
        let cut = shared + 1;
        if cut < left.len() && cut < right.len() {
            std::borrow::Cow::Borrowed(&right[..cut])
        } else {
            std::borrow::Cow::Borrowed(left)
        }
    }

    fn min_encoded_key() -> Option<std::borrow::Cow<'static, [u8]>> {
        Some(std::borrow::Cow::Borrowed(&[]))
    }
}

/// Orders byte strings as `a.cmp(b)` does, a big-endian word at a time.
#[inline]
pub(crate) fn compare_keys(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let mut a_rest = a;
    let mut b_rest = b;
    while let (Some((a_word, a_tail)), Some((b_word, b_tail))) = (
        a_rest.split_first_chunk::<8>(),
        b_rest.split_first_chunk::<8>(),
    ) {
        if a_word != b_word {
            return u64::from_be_bytes(*a_word).cmp(&u64::from_be_bytes(*b_word));
        }
        a_rest = a_tail;
        b_rest = b_tail;
    }
    // Fewer than eight bytes left on at least one side.
    for (x, y) in a_rest.iter().zip(b_rest) {
        if x != y {
            return x.cmp(y);
        }
    }
    a_rest.len().cmp(&b_rest.len())
}

/// What a table holds; the prefix of its engine-level name keeps a bucket
/// and an index of the same name apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableKind {
    /// A bucket: key -> value.
    Bucket,
    /// An index's term entries: term priority target -> priority length.
    IndexTerms,
    /// An index's target entries: target term -> priority.
    IndexTargets,
    /// An index's counts: term -> number of targets.
    IndexCounts,
    /// vbolt's own bookkeeping (sequences, processes).
    Meta,
}

impl TableKind {
    fn prefix(self) -> &'static str {
        match self {
            TableKind::Bucket => "bucket:",
            TableKind::IndexTerms => "index:",
            TableKind::IndexTargets => "index-targets:",
            TableKind::IndexCounts => "index-counts:",
            TableKind::Meta => "vbolt:",
        }
    }
}

/// The identity of a table: its kind and name, and a process-wide slot
/// number assigned on first use (tables of the same full name share it).
pub struct TableId {
    kind: TableKind,
    name: &'static str,
    resolved: OnceLock<Resolved>,
}

/// What a [`TableId`] learns on first use.
struct Resolved {
    slot: usize,
    full_name: Box<str>,
    name_hash: u64,
}

/// Continues a 64-bit FNV-1a hash over `bytes` (start from [`FNV_SEED`]).
pub(crate) fn fnv1a(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The FNV-1a offset basis.
pub(crate) const FNV_SEED: u64 = 0xcbf2_9ce4_8422_2325;

fn registry() -> &'static Mutex<HashMap<Box<str>, usize>> {
    static REGISTRY: OnceLock<Mutex<HashMap<Box<str>, usize>>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

impl TableId {
    /// A table id; usable in `static` declarations.
    pub const fn new(kind: TableKind, name: &'static str) -> TableId {
        TableId {
            kind,
            name,
            resolved: OnceLock::new(),
        }
    }

    /// The declared (user-facing) name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    #[inline]
    fn resolved(&self) -> &Resolved {
        match self.resolved.get() {
            Some(r) => r,
            None => self.resolve(),
        }
    }

    /// First use of this id in the process: assigns its slot.
    #[cold]
    #[inline(never)]
    fn resolve(&self) -> &Resolved {
        self.resolved.get_or_init(|| {
            let full: Box<str> = format!("{}{}", self.kind.prefix(), self.name).into();
            let mut map = registry().lock().unwrap_or_else(|p| p.into_inner());
            let next = map.len();
            let slot = *map.entry(full.clone()).or_insert(next);
            let name_hash = fnv1a(fnv1a(FNV_SEED, full.as_bytes()), &[0xFF]);
            Resolved {
                slot,
                full_name: full,
                name_hash,
            }
        })
    }

    /// The slot of this table in a transaction's table cache.
    #[inline]
    pub fn slot(&self) -> usize {
        self.resolved().slot
    }

    /// The engine-level name.
    pub fn full_name(&self) -> &str {
        &self.resolved().full_name
    }

    /// FNV-1a of the engine-level name and a 0xFF separator: the start of
    /// hashes that bind something (a cursor) to this table.
    pub(crate) fn name_hash(&self) -> u64 {
        self.resolved().name_hash
    }

    fn def(&self) -> Def<'_> {
        TableDefinition::new(self.full_name())
    }
}

/// The table holding per-table sequences: key = full table name, value =
/// 8-byte big-endian counter.
pub static SEQUENCES: TableId = TableId::new(TableKind::Meta, "sequences");

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

/// Engine settings chosen at open time.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    pub durability: Durability,
    pub cache_size: Option<usize>,
    pub read_only: bool,
    pub verify_on_open: bool,
}

enum Database {
    ReadWrite(redb::Database),
    ReadOnly(redb::ReadOnlyDatabase),
}

/// An open database file (or in-memory database).
pub struct Store {
    /// `None` only while the store is dropped.
    db: Option<Database>,
    durability: Durability,
}

impl Drop for Store {
    /// Closing a read-write database commits the engine's allocator state,
    /// which reads pages and can panic on a damaged one, like any other
    /// engine step: guarded too, so dropping a `Db` never panics (and never
    /// aborts a thread that is already unwinding).
    fn drop(&mut self) {
        if let Some(db) = self.db.take() {
            let _ = catch_unwind(AssertUnwindSafe(move || drop(db)));
        }
    }
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Marks where a guarded operation hands control to code that is not the
/// engine's (a visitor, a pack function): a panic raised there is the
/// caller's own and is passed on unchanged.
struct Handoff(Cell<bool>);

impl Handoff {
    #[inline]
    fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        self.0.set(true);
        let r = f();
        self.0.set(false);
        r
    }
}

/// An engine failure inside a guarded step: [`Error`] (48 bytes) boxed to
/// one pointer, so what crosses the unwind guard stays small. A whole
/// `Result<T, Error>` there was copied through memory on every call; with
/// this and `get_in`'s in-place match, a count went from 870 to 846
/// instructions (BENCHMARKS.md).
struct Fault(Box<Error>);

impl<E: Into<Error>> From<E> for Fault {
    fn from(e: E) -> Fault {
        Fault(Box::new(e.into()))
    }
}

/// Runs a whole engine operation, including the calls it makes to the
/// caller's code through [`Handoff::run`], under one unwind guard. The
/// engine trusts its pages and can panic on a damaged one (an offset out of
/// range): such a panic becomes [`Error::Corrupted`]. A panic in the
/// caller's code continues unwinding as if there were no guard, so it is
/// never hidden. One guard per operation, not one per engine step, keeps a
/// scan step or a lookup free of extra moves; the step's value leaves
/// through `out`, so only a pointer-sized status crosses the guard.
#[inline]
fn guarded_op<T>(what: &str, f: impl FnOnce(&Handoff) -> Result<T, Fault>) -> Result<T, Error> {
    let handoff = Handoff(Cell::new(false));
    let mut out = None;
    let status = catch_unwind(AssertUnwindSafe(|| {
        out = Some(f(&handoff)?);
        Ok::<(), Fault>(())
    }));
    match status {
        Ok(Ok(())) => out.ok_or_else(|| Error::Engine(format!("{what}: no result"))),
        Ok(Err(Fault(e))) => Err(*e),
        Err(p) if handoff.0.get() => resume_unwind(p),
        Err(p) => Err(Error::Corrupted(format!(
            "{what}: the storage engine failed: {}",
            panic_message(p)
        ))),
    }
}

/// [`guarded_op`] for an engine call that runs no caller code.
fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T, Fault>) -> Result<T, Error> {
    guarded_op(what, |_| f())
}

/// [`guarded`] for a step that reads pages.
#[inline]
fn shielded<T>(f: impl FnOnce() -> Result<T, Fault>) -> Result<T, Error> {
    guarded_op("read", |_| f())
}

/// [`guarded_op`] for a read that hands data to caller code.
#[inline]
fn shielded_op<T>(f: impl FnOnce(&Handoff) -> Result<T, Fault>) -> Result<T, Error> {
    guarded_op("read", f)
}

/// Makes a new, empty database file at `path` that appears whole or not at
/// all: built under a scratch name beside it, synced, then linked into
/// place. A crash or a full disk meanwhile leaves `path` absent (and the
/// next open simply creates it), never a file without the engine's header
/// that no open could use. If another process created `path` meanwhile,
/// its file is kept.
fn create_fresh(path: &Path, builder: &redb::Builder) -> Result<(), Error> {
    let mut scratch = Scratch::beside(path, "creating", Mode::Default)?;
    let file = scratch
        .take_file()
        .ok_or_else(|| Error::Engine("scratch file already taken".into()))?;
    drop(guarded("create", || {
        let backend = redb::backends::FileBackend::new(file)?;
        Ok(builder.create_with_backend(backend)?)
    })?);
    match scratch.publish(path, false) {
        Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    }
}

/// Visits the entries of `t` within the bounds (see [`KvRead::scan`]).
fn scan_in<T: ReadableTable<Key, Bytes>>(
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
        let range = t.range::<&[u8]>((lower, upper))?;
        run_scan(range, reverse, handoff, visit)
    })
}

/// Looks `key` up in `t` and hands the value's bytes to `f`.
#[inline]
fn get_in<R, T: ReadableTable<Key, Bytes>>(
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

impl Store {
    pub fn open(path: &Path, opts: &EngineOptions) -> Result<Store, Error> {
        let mut builder = redb::Builder::new();
        if let Some(size) = opts.cache_size {
            builder.set_cache_size(size);
        }
        builder.set_check_integrity_on_open(opts.verify_on_open && !opts.read_only);
        if !opts.read_only && !path.exists() {
            create_fresh(path, &builder)?;
        }
        let db = guarded("open", || {
            if opts.read_only {
                Ok(Database::ReadOnly(builder.open_read_only(path)?))
            } else {
                Ok(Database::ReadWrite(builder.create(path)?))
            }
        })?;
        let store = Store {
            db: Some(db),
            durability: opts.durability,
        };
        store.check_table_types()?;
        Ok(store)
    }

    /// Refuses a file whose tables were made with another key type (a file
    /// from vbolt 0.1): left to the first read, the mismatch would make
    /// every read of such a table come back empty instead of failing.
    fn check_table_types(&self) -> Result<(), Error> {
        let txn = self.begin_read()?;
        for handle in shielded(|| Ok(txn.txn.list_tables()?))? {
            shielded(|| Ok(txn.txn.open_table(Def::new(handle.name())).map(drop)?))?;
        }
        Ok(())
    }

    pub fn in_memory() -> Result<Store, Error> {
        let db = redb::Builder::new().create_with_backend(redb::backends::InMemoryBackend::new())?;
        Ok(Store {
            db: Some(Database::ReadWrite(db)),
            durability: Durability::Immediate,
        })
    }

    fn database(&self) -> Result<&Database, Error> {
        self.db
            .as_ref()
            .ok_or_else(|| Error::Engine("the database is closed".into()))
    }

    /// The read-write engine handle; [`Error::ReadOnly`] for a read-only open.
    fn writable(&self) -> Result<&redb::Database, Error> {
        match self.database()? {
            Database::ReadWrite(db) => Ok(db),
            Database::ReadOnly(_) => Err(Error::ReadOnly),
        }
    }

    pub fn begin_read(&self) -> Result<ReadTxn, Error> {
        let txn = match self.database()? {
            Database::ReadWrite(db) => shielded(|| Ok(db.begin_read()?))?,
            Database::ReadOnly(db) => shielded(|| Ok(db.begin_read()?))?,
        };
        Ok(ReadTxn {
            txn,
            tables: RefCell::new(Vec::new()),
        })
    }

    pub fn begin_write(&self) -> Result<WriteTxn, Error> {
        let db = self.writable()?;
        let mut txn = guarded("begin", || Ok(db.begin_write()?))?;
        if self.durability == Durability::None {
            txn.set_durability(redb::Durability::None)
                .map_err(|e| Error::Engine(e.to_string()))?;
        }
        Ok(WriteTxn {
            cell: WriteCell::new(txn, |_| RefCell::new(Vec::new())),
        })
    }

    /// Runs the engine's own check of the whole file (page checksums and
    /// tree structure). `Ok(true)`: clean; `Ok(false)`: damage was found and
    /// repaired (the file was rewritten); `Err`: damaged beyond repair.
    pub fn check_engine(&mut self) -> Result<bool, Error> {
        match self.db.as_mut() {
            Some(Database::ReadWrite(db)) => guarded("check", || Ok(db.check_integrity()?)),
            Some(Database::ReadOnly(_)) => Err(Error::ReadOnly),
            None => Err(Error::Engine("the database is closed".into())),
        }
    }

    /// Moves live pages to the front of the file and truncates it; `true`
    /// if anything moved.
    pub fn compact(&mut self) -> Result<bool, Error> {
        match self.db.as_mut() {
            Some(Database::ReadWrite(db)) => guarded("compact", || {
                db.compact()
                    .map_err(|e| Error::Engine(e.to_string()).into())
            }),
            Some(Database::ReadOnly(_)) => Err(Error::ReadOnly),
            None => Err(Error::Engine("the database is closed".into())),
        }
    }

    /// How the file's space is used, from a write transaction that is
    /// dropped without committing (nothing is written).
    pub fn space(&self) -> Result<Space, Error> {
        let db = self.writable()?;
        // Guarded whole: the statistics walk every page, and dropping the
        // transaction reads the allocator state.
        guarded("space", || {
            let txn = db.begin_write()?;
            let stats = txn.stats()?;
            Ok(Space {
                stored_bytes: stats.stored_bytes(),
                metadata_bytes: stats.metadata_bytes(),
                fragmented_bytes: stats.fragmented_bytes(),
                page_size: stats.page_size() as u64,
            })
        })
    }

    /// Writes `entries` into the table called `name` (created if needed) in
    /// one transaction that is not made durable by itself: call
    /// [`Store::sync`] after the last one.
    pub fn load(&self, name: &str, entries: &[(Vec<u8>, Vec<u8>)]) -> Result<(), Error> {
        let db = self.writable()?;
        guarded("load", || {
            let mut txn = db.begin_write()?;
            txn.set_durability(redb::Durability::None)
                .map_err(|e| Error::Engine(e.to_string()))?;
            {
                let mut table = txn.open_table(Def::new(name))?;
                for (k, v) in entries {
                    table.insert(&k[..], &v[..])?;
                }
            }
            txn.commit()?;
            Ok(())
        })
    }

    /// Makes every earlier commit durable (an empty durable commit).
    pub fn sync(&self) -> Result<(), Error> {
        let db = self.writable()?;
        guarded("sync", || Ok(db.begin_write()?.commit()?))
    }

    /// Names and entry counts of every table, in name order.
    pub fn list_tables(&self) -> Result<Vec<(String, u64)>, Error> {
        let txn = self.begin_read()?;
        let mut out = guarded("list tables", || {
            let mut out = Vec::new();
            for handle in txn.txn.list_tables()? {
                let def: Def = TableDefinition::new(handle.name());
                let table = txn.txn.open_table(def)?;
                out.push((handle.name().to_string(), table.len()?));
            }
            Ok(out)
        })?;
        out.sort();
        Ok(out)
    }
}

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

/// Drives a range to its end or until `visit` returns `false`; runs inside
/// the caller's [`shielded_op`], with the visitor handed off.
fn run_scan<'t, I>(
    mut iter: I,
    reverse: bool,
    handoff: &Handoff,
    mut visit: impl FnMut(&[u8], &[u8]) -> bool,
) -> Result<(), Fault>
where
    I: DoubleEndedIterator<
        Item = Result<
            (redb::AccessGuard<'t, Key>, redb::AccessGuard<'t, Bytes>),
            redb::StorageError,
        >,
    >,
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
        let (key, value) = (k.value(), v.value());
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
enum ReadSlot {
    Unknown,
    /// The table does not exist in this snapshot.
    Missing,
    Open(redb::ReadOnlyTable<Key, Bytes>),
}

/// A read snapshot with its table cache.
pub struct ReadTxn {
    txn: redb::ReadTransaction,
    tables: RefCell<Vec<ReadSlot>>,
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
            match self.txn.open_table(id.def()) {
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
        // A read-only table's range owns its snapshot: the cache is released
        // before the visitor runs (and the visitor may read other tables).
        shielded_op(|handoff| {
            let range =
                self.with_table(table, None, |t| Ok(Some(t.range::<&[u8]>((lower, upper))?)))?;
            match range {
                Some(range) => run_scan(range, reverse, handoff, visit),
                None => Ok(()),
            }
        })
    }
}

/// redb panics on a range whose start is after its end; vbolt treats it as
/// empty.
fn bounds_empty(lower: KeyBound, upper: KeyBound) -> bool {
    match (lower, upper) {
        (Bound::Included(a), Bound::Included(b)) => a > b,
        (Bound::Included(a) | Bound::Excluded(a), Bound::Excluded(b))
        | (Bound::Excluded(a), Bound::Included(b)) => a >= b,
        _ => false,
    }
}

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
    shielded(|| Ok(txn.open_table(id.def())?))
}

impl WriteTxn {
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
            txn.delete_table(table.def())?;
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

// Engine errors are converted here, in the one module that knows the
// engine (error.rs names no engine). Every redb error type
// converts into `redb::Error`, which is mapped once.
impl From<redb::Error> for Error {
    fn from(e: redb::Error) -> Error {
        match e {
            // The engine reports a file that is not one of its own (wrong
            // magic bytes, impossible header) as invalid data.
            redb::Error::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => {
                Error::Corrupted(io.to_string())
            }
            redb::Error::Io(io) => Error::Io(io),
            redb::Error::DatabaseAlreadyOpen => Error::InUse,
            redb::Error::Corrupted(why) => Error::Corrupted(why),
            redb::Error::UpgradeRequired(v) => Error::UpgradeRequired(v),
            // vbolt never aborts a repair itself, so this is a read-only
            // open that found the file in need of one.
            redb::Error::RepairAborted => Error::NeedsRecovery,
            redb::Error::TableTypeMismatch { table, key, value } => Error::Incompatible(format!(
                "table {table:?} has keys of type {:?} and values of type {:?}; \
                 this version reads keys of type {:?}",
                key.name(),
                value.name(),
                KEY_TYPE_NAME
            )),
            other => Error::Engine(other.to_string()),
        }
    }
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Error {
                Error::from(redb::Error::from(e))
            }
        }
    )*};
}

from_redb!(
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use redb::Key as _;

    /// Byte strings from a two-letter alphabet (0 and 0xFF, the extremes),
    /// up to three words long: equal words, shared prefixes and every
    /// length relation come up often.
    fn key() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(prop_oneof![Just(0u8), Just(0xFF), any::<u8>()], 0..26)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5_000))]

        #[test]
        fn keys_order_exactly_as_byte_slices(a in key(), b in key()) {
            prop_assert_eq!(compare_keys(&a, &b), a.cmp(&b));
            // A key against its own prefixes, and against itself.
            for cut in 0..=a.len() {
                prop_assert_eq!(compare_keys(&a[..cut], &a), a[..cut].cmp(&a[..]));
                prop_assert_eq!(compare_keys(&a, &a[..cut]), a[..].cmp(&a[..cut]));
            }
        }

        #[test]
        fn separators_route_between_their_neighbours(a in key(), b in key()) {
            let (left, right) = match a.cmp(&b) {
                std::cmp::Ordering::Less => (a, b),
                std::cmp::Ordering::Greater => (b, a),
                std::cmp::Ordering::Equal => return Ok(()),
            };
            let sep = Key::separator(&left, &right);
            prop_assert!(left.as_slice() <= &*sep && &*sep < right.as_slice());
            prop_assert!(sep.len() <= left.len());
        }
    }

    #[test]
    fn word_boundaries_and_high_bytes_order_as_unsigned() {
        let cases: [(&[u8], &[u8]); 6] = [
            (&[], &[0]),
            (&[1, 2, 3, 4, 5, 6, 7, 8], &[1, 2, 3, 4, 5, 6, 7, 8, 0]),
            (&[0x7F; 8], &[0x80; 8]),
            (&[0, 0, 0, 0, 0, 0, 0, 0, 0xFF], &[0, 0, 0, 0, 0, 0, 0, 1]),
            (&[9; 16], &[9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 10]),
            (&[5, 0xFF], &[6]),
        ];
        for (lo, hi) in cases {
            assert_eq!(
                compare_keys(lo, hi),
                std::cmp::Ordering::Less,
                "{lo:?} < {hi:?}"
            );
            assert_eq!(compare_keys(hi, lo), std::cmp::Ordering::Greater);
            assert_eq!(compare_keys(lo, lo), std::cmp::Ordering::Equal);
        }
    }
}
