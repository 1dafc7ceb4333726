//! Indexes: persisted many-to-many maps `term <-> target`, with a priority
//! per pair, an exact count per term, and windowed reads.
//!
//! A *target* is usually an object id (an article); a *term* is what you
//! look targets up by (a category). Each (term, target) pair has a
//! *priority* that orders the term's targets (a publication time). You set
//! the complete term set of a target; vbolt works out what changed.
//!
//! ```
//! use vbolt::*;
//!
//! // category id (term) -> article ids (targets), ordered by publication
//! // time (the priority, an i64 of seconds).
//! static CATEGORY_ARTICLES: Index<u32, u64, i64> =
//!     Index::with_priority("category_articles", vpack::fuint, vpack::fuint, vpack::fint_ord);
//!
//! let db = Db::in_memory()?;
//! let mut tx = db.write_tx()?;
//! set_target_terms_uniform(&mut tx, &CATEGORY_ARTICLES, 100, [1, 2], 1_700_000_000);
//! set_target_terms_uniform(&mut tx, &CATEGORY_ARTICLES, 101, [2], 1_700_000_060);
//! tx.commit()?;
//!
//! let tx = db.read_tx()?;
//! let mut newest = Vec::new();
//! let next = read_term_targets(&tx, &CATEGORY_ARTICLES, 2, &mut newest, &Window::new().limit(10).reverse())?;
//! assert_eq!((newest, next), (vec![101, 100], None));
//! assert_eq!(read_term_count(&tx, &CATEGORY_ARTICLES, 2)?, 2);
//! # Ok::<(), vbolt::Error>(())
//! ```
//!
//! # One order: term, target, priority
//!
//! The type parameters (`Index<Term, Target, Priority>`), the constructors
//! ([`Index::new`], [`Index::with_priority`]) and the callbacks name the
//! term first, then the target, then the priority. Where a term and a
//! target have different types, swapping them does not compile. Where they
//! would share a type (both `u64` ids), give each its own newtype so they
//! cannot be swapped either:
//!
//! ```
//! use vbolt::*;
//! use vpack::Pack;
//!
//! // Each packs as its id, fixed-width so that ids sort.
//! #[derive(Pack, Clone, Copy, PartialEq, Debug)]
//! struct UserId(#[pack(with = vpack::fuint)] u64);
//! #[derive(Pack, Clone, Copy, PartialEq, Debug)]
//! struct GroupId(#[pack(with = vpack::fuint)] u64);
//!
//! // group (term) -> members (targets)
//! static GROUP_MEMBERS: Index<GroupId, UserId> = Index::new("group_members", GroupId::pack, UserId::pack);
//!
//! let db = Db::in_memory()?;
//! db.update(|tx| {
//!     set_target_terms_plain(tx, &GROUP_MEMBERS, UserId(7), [GroupId(1)]);
//!     Ok::<_, Error>(())
//! })?;
//! let members = db.view(|tx| {
//!     let mut members = Vec::new();
//!     read_term_targets(tx, &GROUP_MEMBERS, GroupId(1), &mut members, &Window::new())?;
//!     Ok::<_, Error>(members)
//! })?;
//! assert_eq!(members, [UserId(7)]);
//! // read_term_targets(tx, &GROUP_MEMBERS, UserId(7), ..) does not compile.
//! # Ok::<(), vbolt::Error>(())
//! ```
//!
//! # Layout
//!
//! An index is three engine tables:
//!
//! | table | key | value |
//! |---|---|---|
//! | `index:NAME` (term entries) | term priority target | lengths of the term and the priority (two varints) |
//! | `index-targets:NAME` (target entries) | target term | priority |
//! | `index-counts:NAME` | term | number of targets, u64 big-endian |
//!
//! Term entries sort by (term, priority, target), so a term's targets are one
//! contiguous, ordered range. Target entries give a target's terms (and let
//! an update find what to remove). Every vpack encoding is self-delimiting,
//! so one term's encoding is never a prefix of another's and a range never
//! leaks into the next term. Counts live in a table of their own, one entry
//! per term, so reading a count descends a tree of a few pages, not the
//! index's whole depth.
//!
//! The priority's pack function decides the order: the default `u16` packed
//! with `fuint` sorts ascending; use `fint_ord` or `unix_time_ord` for
//! signed numbers and times.

use std::borrow::Borrow;
use std::ops::Bound;

use crate::engine::{TableId, TableKind, fnv1a};
use crate::error::Error;
use crate::hub::Space;
use crate::key::{AsKey, pack_nonzero, unpack_key};
use crate::range::prefix_upper;
use crate::term_diff::{Pair, TermDiff};
use crate::tx::{
    Readable, WriteTx, batches_reads, get, scan, scratch, try_get, try_prefetch,
    try_prefetch_ranges, try_scan,
};
use crate::window::{Cursor, Direction, Window};
use vpack::{Blank, PackFn};

/// Positions of an index's tables in [`Index::tables`].
const TERMS: usize = 0;
const TARGETS: usize = 1;
const COUNTS: usize = 2;

/// A declared index from terms `T` to targets `K`, each pair ordered by a
/// priority `P` (a `u16` by default, lower first).
///
/// ```
/// // keyword (term) -> page number (target)
/// static KEYWORDS: vbolt::Index<String, u32> =
///     vbolt::Index::new("keywords", vpack::string_z, vpack::fuint);
/// ```
pub struct Index<T, K, P = u16> {
    /// Term entries, target entries and counts, in that order.
    pub(crate) tables: [TableId; 3],
    pub(crate) term: PackFn<T>,
    pub(crate) target: PackFn<K>,
    pub(crate) priority: PackFn<P>,
}

impl<T, K> Index<T, K, u16> {
    /// Declares an index with the default priority: a `u16` packed
    /// fixed-width, lower values first.
    pub const fn new(name: &'static str, term: PackFn<T>, target: PackFn<K>) -> Index<T, K, u16> {
        Index::with_priority(name, term, target, vpack::fuint::<u16>)
    }
}

impl<T, K, P> Index<T, K, P> {
    /// Declares an index whose priorities are `P` packed with `priority`.
    /// Its bytes decide the order of a term's targets: use an
    /// order-preserving encoding (`fuint`, `fint_ord`, `unix_time_ord`).
    #[doc(alias = "IndexExt")]
    pub const fn with_priority(
        name: &'static str,
        term: PackFn<T>,
        target: PackFn<K>,
        priority: PackFn<P>,
    ) -> Index<T, K, P> {
        Index {
            tables: [
                TableId::new(TableKind::IndexTerms, name),
                TableId::new(TableKind::IndexTargets, name),
                TableId::new(TableKind::IndexCounts, name),
            ],
            term,
            target,
            priority,
        }
    }

    /// The index's name.
    pub fn name(&self) -> &'static str {
        self.tables[TERMS].name()
    }

    pub(crate) fn terms(&self) -> &TableId {
        &self.tables[TERMS]
    }

    pub(crate) fn targets(&self) -> &TableId {
        &self.tables[TARGETS]
    }

    pub(crate) fn counts(&self) -> &TableId {
        &self.tables[COUNTS]
    }

    /// [`Error::Decode`] for one part of an entry stored under `key`.
    pub(crate) fn bad(&self, part: &'static str, key: &[u8], source: vpack::Error) -> Error {
        Error::Decode {
            table: self.name(),
            part,
            key: key.to_vec(),
            source,
        }
    }

    /// A count that is not eight bytes.
    pub(crate) fn bad_count(&self, term: &[u8]) -> Error {
        Error::Corrupted(format!(
            "index {}: the count of term {} is not an 8-byte number",
            self.name(),
            crate::error::Hex(term)
        ))
    }

    /// A term entry whose recorded lengths do not fit its key.
    pub(crate) fn bad_entry(&self, key: &[u8]) -> Error {
        Error::Corrupted(format!(
            "index {}: the term entry under key {} records lengths that do not fit it",
            self.name(),
            crate::error::Hex(key)
        ))
    }
}

/// Writes `n` as an unsigned varint at `out[at..]`; returns the end.
fn encode_len(mut n: usize, out: &mut [u8; 20], mut at: usize) -> usize {
    while n >= 0x80 {
        out[at] = n as u8 | 0x80;
        n >>= 7;
        at += 1;
    }
    out[at] = n as u8;
    at + 1
}

/// The value of a term entry: the lengths of its term and its priority, so
/// the key splits into (term, priority, target) without knowing the types.
fn entry_value(term_len: usize, prio_len: usize, out: &mut [u8; 20]) -> usize {
    let at = encode_len(term_len, out, 0);
    encode_len(prio_len, out, at)
}

/// Splits a term entry's key into (term, priority, target) using the
/// lengths in its value; `None` if they do not fit the key.
#[inline]
pub(crate) fn split_term_entry<'k>(key: &'k [u8], value: &[u8]) -> Option<[&'k [u8]; 3]> {
    let (t, p) = match *value {
        // The usual case: both lengths below 128, one varint byte each.
        [t, p] if t < 0x80 && p < 0x80 => (usize::from(t), usize::from(p)),
        _ => long_entry_lengths(value)?,
    };
    let end = t.checked_add(p)?;
    if end > key.len() {
        return None;
    }
    Some([&key[..t], &key[t..end], &key[end..]])
}

/// The (term, priority) lengths of an entry value that is not two bytes.
#[cold]
fn long_entry_lengths(value: &[u8]) -> Option<(usize, usize)> {
    let mut buf = vpack::Buffer::reader(value);
    let (mut term_len, mut prio_len) = (0u64, 0u64);
    vpack::uint(&mut term_len, &mut buf);
    vpack::uint(&mut prio_len, &mut buf);
    buf.finish().ok()?;
    Some((
        usize::try_from(term_len).ok()?,
        usize::try_from(prio_len).ok()?,
    ))
}

pub(crate) fn count_of(bytes: &[u8]) -> Option<u64> {
    bytes.try_into().ok().map(u64::from_be_bytes)
}

/// Sets the complete term set of `target`, each term with its priority.
///
/// Terms the target had but `terms` lacks are removed; terms whose priority
/// changed move; new terms are added; counts follow. Unchanged pairs are not
/// rewritten, so a call that changes nothing writes nothing. If a term
/// appears more than once, its last priority wins.
///
/// `terms` may be a map or any iterator of pairs, owned or borrowed. The
/// target follows the [zero-key rule](crate#keys): the zero target fails
/// the transaction. Terms may be zero values.
///
/// ```
/// # use vbolt::*;
/// # use std::collections::BTreeMap;
/// static WORDS: Index<String, u32> = Index::new("words", vpack::string_z, vpack::fuint);
/// let db = Db::in_memory()?;
/// let mut tx = db.write_tx()?;
/// let terms = BTreeMap::from([("rust".to_string(), 1u16), ("db".to_string(), 5)]);
/// set_target_terms(&mut tx, &WORDS, 7, &terms);
/// let mut pages = Vec::new();
/// read_term_targets(&tx, &WORDS, "rust", &mut pages, &Window::new())?;
/// assert_eq!(pages, [7]);
/// # Ok::<(), vbolt::Error>(())
/// ```
pub fn set_target_terms<T, K, P: Clone>(
    tx: &mut WriteTx,
    index: &Index<T, K, P>,
    target: impl AsKey<K>,
    terms: impl IntoIterator<Item = (impl AsKey<T>, impl Borrow<P>)>,
) {
    if !tx.can_write() {
        return;
    }
    let mut s = std::mem::take(&mut tx.term_diff);
    s.arena.clear();
    s.new.clear();
    s.old.clear();
    s.target.clear();
    if let Err(e) = collect_new(index, target, terms, &mut s) {
        tx.fail(e);
    } else {
        collect_old(tx, index, &mut s);
        prefetch_counts(tx, index, &s);
        apply_changes(tx, index, &mut s);
    }
    tx.term_diff = s;
}

/// Packs the target and the requested (term, priority) pairs, sorted by term
/// bytes with duplicates resolved to the last occurrence.
fn collect_new<T, K, P: Clone>(
    index: &Index<T, K, P>,
    target: impl AsKey<K>,
    terms: impl IntoIterator<Item = (impl AsKey<T>, impl Borrow<P>)>,
    s: &mut TermDiff,
) -> Result<(), Error> {
    let encode = |e| Error::Encode {
        table: index.name(),
        source: e,
    };
    if target.is_zero() {
        return Err(Error::ZeroKey {
            table: index.name(),
        });
    }
    target
        .pack_into(index.target, &mut s.target)
        .map_err(encode)?;
    for (term, prio) in terms {
        let t0 = s.arena.len();
        term.pack_into(index.term, &mut s.arena).map_err(encode)?;
        let p0 = s.arena.len();
        vpack::append_bytes(&mut prio.borrow().clone(), index.priority, &mut s.arena)
            .map_err(encode)?;
        s.new.push(Pair {
            term: (t0, p0),
            prio: (p0, s.arena.len()),
        });
    }
    // Reverse, then stable-sort: among equal terms the last given comes first
    // and survives the dedup.
    let (arena, new) = (&s.arena, &mut s.new);
    new.reverse();
    new.sort_by(|a, b| arena[a.term.0..a.term.1].cmp(&arena[b.term.0..b.term.1]));
    new.dedup_by(|a, b| arena[a.term.0..a.term.1] == arena[b.term.0..b.term.1]);
    Ok(())
}

/// Reads the target's current (term, priority) pairs, in term-byte order.
fn collect_old<K, T, P>(tx: &WriteTx, index: &Index<T, K, P>, s: &mut TermDiff) {
    s.key.clear();
    s.key.extend_from_slice(&s.target);
    let prefix = std::mem::take(&mut s.key);
    let mut end = std::mem::take(&mut s.end);
    let upper = prefix_upper(&prefix, &mut end);
    scan(
        tx,
        index.targets(),
        Bound::Included(&prefix),
        upper,
        false,
        |k, v| {
            let pair = s.push(&k[prefix.len()..], v);
            s.old.push(pair);
            true
        },
    );
    s.key = prefix;
    s.end = end;
}

/// On an engine across a network, fetches the counts of every term the
/// change touches in one request, instead of one request per term.
fn prefetch_counts<K, T, P>(tx: &mut WriteTx, index: &Index<T, K, P>, s: &TermDiff) {
    if !batches_reads(tx) {
        return;
    }
    let terms: Vec<&[u8]> = s
        .old
        .iter()
        .chain(&s.new)
        .map(|p| s.bytes(p.term))
        .collect();
    if let Err(e) = try_prefetch(tx, index.counts(), &terms) {
        tx.fail(e);
    }
}

/// Writes the difference between the old and new pairs.
fn apply_changes<K, T, P>(tx: &mut WriteTx, index: &Index<T, K, P>, s: &mut TermDiff) {
    let (mut i, mut j) = (0, 0);
    while i < s.old.len() || j < s.new.len() {
        let order = match (s.old.get(i), s.new.get(j)) {
            (Some(o), Some(n)) => s.bytes(o.term).cmp(s.bytes(n.term)),
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        let term = match order {
            std::cmp::Ordering::Less => s.old[i].term,
            _ => s.new[j].term,
        };
        let changed = match order {
            std::cmp::Ordering::Equal => s.bytes(s.old[i].prio) != s.bytes(s.new[j].prio),
            _ => true,
        };
        if changed {
            tx.touched(Space::IndexTerm, index.name(), s.bytes(term));
        }
        match order {
            std::cmp::Ordering::Less => {
                let o = s.old[i];
                remove_pair(tx, index, s, o);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                let n = s.new[j];
                add_pair(tx, index, s, n, true);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                let (o, n) = (s.old[i], s.new[j]);
                if s.bytes(o.prio) != s.bytes(n.prio) {
                    delete_term_entry(tx, index, s, o);
                    add_pair(tx, index, s, n, false);
                }
                i += 1;
                j += 1;
            }
        }
        if !tx.is_ok() {
            return;
        }
    }
}

fn term_entry_key(s: &mut TermDiff, p: Pair) -> Vec<u8> {
    let mut key = std::mem::take(&mut s.key);
    key.clear();
    key.extend_from_slice(&s.arena[p.term.0..p.term.1]);
    key.extend_from_slice(&s.arena[p.prio.0..p.prio.1]);
    key.extend_from_slice(&s.target);
    key
}

fn target_entry_key(s: &mut TermDiff, p: Pair) -> Vec<u8> {
    let mut key = std::mem::take(&mut s.key);
    key.clear();
    key.extend_from_slice(&s.target);
    key.extend_from_slice(&s.arena[p.term.0..p.term.1]);
    key
}

fn delete_term_entry<K, T, P>(tx: &mut WriteTx, index: &Index<T, K, P>, s: &mut TermDiff, p: Pair) {
    let key = term_entry_key(s, p);
    tx.delete(index.terms(), &key);
    s.key = key;
}

fn remove_pair<K, T, P>(tx: &mut WriteTx, index: &Index<T, K, P>, s: &mut TermDiff, p: Pair) {
    delete_term_entry(tx, index, s, p);
    let key = target_entry_key(s, p);
    tx.delete(index.targets(), &key);
    s.key = key;
    adjust_count(tx, index, s, p, false);
}

/// Writes the term entry and the target entry; `counted` pairs are new to
/// the term and raise its count.
fn add_pair<K, T, P>(
    tx: &mut WriteTx,
    index: &Index<T, K, P>,
    s: &mut TermDiff,
    p: Pair,
    counted: bool,
) {
    let key = term_entry_key(s, p);
    let mut value = [0u8; 20];
    let n = entry_value(p.term.1 - p.term.0, p.prio.1 - p.prio.0, &mut value);
    tx.put(index.terms(), &key, &value[..n]);
    let key2 = {
        s.key = key;
        target_entry_key(s, p)
    };
    tx.put(index.targets(), &key2, &s.arena[p.prio.0..p.prio.1]);
    s.key = key2;
    if counted {
        adjust_count(tx, index, s, p, true);
    }
}

fn adjust_count<K, T, P>(
    tx: &mut WriteTx,
    index: &Index<T, K, P>,
    s: &mut TermDiff,
    p: Pair,
    up: bool,
) {
    let mut key = std::mem::take(&mut s.key);
    key.clear();
    key.extend_from_slice(&s.arena[p.term.0..p.term.1]);
    let current = match get(tx, index.counts(), &key, count_of) {
        Some(Some(n)) => n,
        Some(None) => {
            tx.fail(index.bad_count(&key));
            s.key = key;
            return;
        }
        None => 0,
    };
    let next = if up {
        current + 1
    } else {
        current.saturating_sub(1)
    };
    if next == 0 {
        tx.delete(index.counts(), &key);
    } else {
        tx.put(index.counts(), &key, &next.to_be_bytes());
    }
    s.key = key;
}

/// Fetches the current terms of `targets` ahead of setting them, for a
/// bulk load or a batch of updates: on an engine across a network (etcd)
/// it reads every target's entries in one request, where each
/// [`set_target_terms`] would otherwise make one round trip of its own.
/// On the embedded engine it does nothing. A target that cannot be packed
/// fails the transaction, as setting its terms would. The counts of the
/// terms the updates will touch are the other read: [`prefetch_terms`].
///
/// ```
/// # use vbolt::*;
/// static TAGS: Index<String, u64> = Index::new("tags", vpack::string_z, vpack::fuint);
/// let db = Db::in_memory()?;
/// let posts = [(1u64, ["rust", "db"]), (2, ["db", "etcd"])];
/// db.update(|tx| {
///     prefetch_targets(tx, &TAGS, posts.iter().map(|(id, _)| id));
///     for (id, tags) in &posts {
///         set_target_terms_plain(tx, &TAGS, id, *tags);
///     }
///     Ok::<_, Error>(())
/// })?;
/// assert_eq!(read_term_count(&db.read_tx()?, &TAGS, "db")?, 2);
/// # Ok::<(), vbolt::Error>(())
/// ```
pub fn prefetch_targets<T, K, P>(
    tx: &mut WriteTx,
    index: &Index<T, K, P>,
    targets: impl IntoIterator<Item = impl AsKey<K>>,
) {
    if !batches_reads(tx) || !tx.can_write() {
        return;
    }
    let prefixes = match pack_all(targets, index.target, index.name()) {
        Ok(p) => p,
        Err(e) => return tx.fail(e),
    };
    let mut ends = vec![Vec::new(); prefixes.len()];
    let ranges: Vec<_> = prefixes
        .iter()
        .zip(&mut ends)
        .map(|(prefix, end)| (Bound::Included(&prefix[..]), prefix_upper(prefix, end)))
        .collect();
    if let Err(e) = try_prefetch_ranges(tx, index.targets(), &ranges) {
        tx.fail(e);
    }
}

/// Fetches the counts of `terms` ahead of the index updates that will
/// change them: the other half of a bulk load's reads (with
/// [`prefetch_targets`]). Every update that adds a target to a term or
/// removes one reads the term's count; on an engine across a network
/// (etcd) this reads them all in one request instead of one per update
/// that meets a term first. On the embedded engine it does nothing.
///
/// ```
/// # use vbolt::*;
/// static TAGS: Index<String, u64> = Index::new("tags", vpack::string_z, vpack::fuint);
/// let db = Db::in_memory()?;
/// let posts = [(1u64, ["rust", "db"]), (2, ["db", "etcd"])];
/// db.update(|tx| {
///     prefetch_targets(tx, &TAGS, posts.iter().map(|(id, _)| id));
///     prefetch_terms(tx, &TAGS, posts.iter().flat_map(|(_, tags)| *tags));
///     for (id, tags) in &posts {
///         set_target_terms_plain(tx, &TAGS, id, *tags);
///     }
///     Ok::<_, Error>(())
/// })?;
/// assert_eq!(read_term_count(&db.read_tx()?, &TAGS, "db")?, 2);
/// # Ok::<(), vbolt::Error>(())
/// ```
pub fn prefetch_terms<T, K, P>(
    tx: &mut WriteTx,
    index: &Index<T, K, P>,
    terms: impl IntoIterator<Item = impl AsKey<T>>,
) {
    if !batches_reads(tx) || !tx.can_write() {
        return;
    }
    let mut packed = match pack_all(terms, index.term, index.name()) {
        Ok(p) => p,
        Err(e) => return tx.fail(e),
    };
    packed.sort_unstable();
    packed.dedup();
    let keys: Vec<&[u8]> = packed.iter().map(Vec::as_slice).collect();
    if let Err(e) = try_prefetch(tx, index.counts(), &keys) {
        tx.fail(e);
    }
}

/// Packs each key of a prefetch, leaving out zero keys (nothing is stored
/// under them).
fn pack_all<X>(
    keys: impl IntoIterator<Item = impl AsKey<X>>,
    pack: PackFn<X>,
    table: &'static str,
) -> Result<Vec<Vec<u8>>, Error> {
    let mut all = Vec::new();
    for key in keys {
        let mut bytes = Vec::new();
        if pack_nonzero(key, pack, &mut bytes).map_err(|source| Error::Encode { table, source })? {
            all.push(bytes);
        }
    }
    Ok(all)
}

/// Sets the target's terms, all with the same `priority`.
pub fn set_target_terms_uniform<T, K, P: Clone>(
    tx: &mut WriteTx,
    index: &Index<T, K, P>,
    target: impl AsKey<K>,
    terms: impl IntoIterator<Item = impl AsKey<T>>,
    priority: P,
) {
    set_target_terms(tx, index, target, terms.into_iter().map(|t| (t, &priority)));
}

/// Sets the target's terms, each with the blank priority (`P::blank()`: 0
/// for numbers, the Unix epoch for times).
pub fn set_target_terms_plain<T, K, P: Clone + Blank>(
    tx: &mut WriteTx,
    index: &Index<T, K, P>,
    target: impl AsKey<K>,
    terms: impl IntoIterator<Item = impl AsKey<T>>,
) {
    set_target_terms_uniform(tx, index, target, terms, P::blank());
}

/// Sets the target's only term, with the blank priority (`P::blank()`).
pub fn set_target_single_term<T, K, P: Clone + Blank>(
    tx: &mut WriteTx,
    index: &Index<T, K, P>,
    target: impl AsKey<K>,
    term: impl AsKey<T>,
) {
    set_target_terms(tx, index, target, [(term, P::blank())]);
}

/// Sets the target's only term, with `priority`.
pub fn set_target_single_term_ext<T, K, P: Clone>(
    tx: &mut WriteTx,
    index: &Index<T, K, P>,
    target: impl AsKey<K>,
    term: impl AsKey<T>,
    priority: P,
) {
    set_target_terms(tx, index, target, [(term, priority)]);
}

/// Removes the target from every term it has.
pub fn delete_target_terms<T, K, P: Clone>(
    tx: &mut WriteTx,
    index: &Index<T, K, P>,
    target: impl AsKey<K>,
) {
    set_target_terms(tx, index, target, std::iter::empty::<(NoTerm, &P)>());
}

/// The term type of an empty term list: there is no value of it.
enum NoTerm {}

impl<T> AsKey<T> for NoTerm {
    fn is_zero(&self) -> bool {
        match *self {}
    }
    fn pack_into(self, _: PackFn<T>, _: &mut Vec<u8>) -> Result<(), vpack::Error> {
        match self {}
    }
}

/// A 64-bit FNV-1a tag binding a cursor to one index and one term: the
/// table's name hash continued over the term's bytes.
pub(crate) fn cursor_tag(table: &TableId, term: &[u8]) -> [u8; 8] {
    fnv1a(table.name_hash(), term).to_be_bytes()
}

/// The first byte of every cursor: its format.
const CURSOR_VERSION: u8 = 1;
/// Bytes before a cursor's position: the version and the tag.
const CURSOR_HEAD: usize = 9;

/// The position within its term that a window's cursor marks (the suffix
/// of the last entry consumed); `None` without a cursor or at the start.
/// A cursor not made for this index and term (its `tag`) is refused.
pub(crate) fn cursor_position<'c, T, K, P>(
    index: &Index<T, K, P>,
    tag: &[u8; 8],
    cursor: Option<&'c Cursor>,
) -> Result<Option<&'c [u8]>, Error> {
    let Some(cursor) = cursor else {
        return Ok(None);
    };
    let c = cursor.as_bytes();
    if c.len() < CURSOR_HEAD || c[0] != CURSOR_VERSION || c[1..CURSOR_HEAD] != tag[..] {
        return Err(Error::InvalidCursor {
            index: index.name(),
        });
    }
    Ok(Some(&c[CURSOR_HEAD..]).filter(|p| !p.is_empty()))
}

/// Walks a term's entries through `window`, handing `visit` each entry's
/// priority, target and whole key (`visit` answers whether to go on);
/// returns the next page's cursor.
///
/// The cursor marks the position after the last entry consumed (returned,
/// or skipped by the offset); an empty position is the start of the walk.
fn walk_term<T, K, P>(
    tx: &impl Readable,
    index: &Index<T, K, P>,
    term: impl AsKey<T>,
    window: &Window,
    mut visit: impl FnMut(&[u8], &[u8], &[u8]) -> Result<bool, Error>,
) -> Result<Option<Cursor>, Error> {
    let mut prefix = scratch(tx);
    if term.pack_into(index.term, &mut prefix).is_err() {
        // A term that cannot be packed was never stored.
        return Ok(None);
    }
    let tag = cursor_tag(index.terms(), &prefix);
    let mut end = scratch(tx);
    let end_bound = prefix_upper(&prefix, &mut end);
    let reverse = window.get_direction() == Direction::Reverse;
    let mut start = scratch(tx);
    let mut resume = false;
    if let Some(position) = cursor_position(index, &tag, window.get_cursor())? {
        start.extend_from_slice(&prefix);
        start.extend_from_slice(position);
        resume = true;
    }
    let (lower, upper) = match (reverse, resume) {
        (false, true) => (Bound::Excluded(&start[..]), end_bound),
        (true, true) => (Bound::Included(&prefix[..]), Bound::Excluded(&start[..])),
        (_, false) => (Bound::Included(&prefix[..]), end_bound),
    };
    let mut skip = if window.get_cursor().is_some() {
        0
    } else {
        window.get_offset()
    };
    let limit = window.get_limit().unwrap_or(usize::MAX);
    let mut taken = 0usize;
    let mut last = scratch(tx);
    let mut more = false;
    let mut stopped = false;
    let mut failure = None;
    try_scan(tx, index.terms(), lower, upper, reverse, |k, v| {
        if skip == 0 && (taken >= limit || stopped) {
            more = true;
            return false;
        }
        // The entry's value holds the lengths, so no priority is decoded
        // just to find where the target starts.
        let split = split_term_entry(k, v).filter(|[t, ..]| t.len() == prefix.len());
        let Some([_, prio, target]) = split else {
            failure = Some(index.bad_entry(k));
            return false;
        };
        if skip > 0 {
            skip -= 1;
        } else {
            match visit(prio, target, k) {
                Ok(go_on) => stopped = !go_on,
                Err(e) => {
                    failure = Some(e);
                    return false;
                }
            }
            taken += 1;
        }
        // The position of the last entry consumed: where a next page starts.
        last.clear();
        last.extend_from_slice(&k[prefix.len()..]);
        true
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    if !more {
        return Ok(None);
    }
    let mut c = Vec::with_capacity(CURSOR_HEAD + last.len());
    c.push(CURSOR_VERSION);
    c.extend_from_slice(&tag);
    c.extend_from_slice(&last);
    Ok(Some(Cursor(c)))
}

/// Reads a page of the term's targets (see [`Window`]) into `targets`;
/// returns the cursor of the next page, `None` when nothing follows.
///
/// Fails with [`Error::InvalidCursor`] for a cursor that does not belong to
/// this index and term, and with [`Error::Decode`] for a stored target that
/// does not unpack.
///
/// ```
/// # use vbolt::*;
/// static TAGGED: Index<u8, u32> = Index::new("tagged", vpack::byte, vpack::fuint);
/// let db = Db::in_memory()?;
/// let mut tx = db.write_tx()?;
/// for post in 1..=5u32 {
///     set_target_single_term(&mut tx, &TAGGED, post, 7);
/// }
/// let mut page = Vec::new();
/// let mut window = Window::new().limit(2);
/// let mut pages = Vec::new();
/// loop {
///     page.clear();
///     let next = read_term_targets(&tx, &TAGGED, 7, &mut page, &window)?;
///     pages.push(page.clone());
///     match next {
///         Some(cursor) => window = window.after(cursor),
///         None => break,
///     }
/// }
/// assert_eq!(pages, [vec![1, 2], vec![3, 4], vec![5]]);
/// # Ok::<(), vbolt::Error>(())
/// ```
pub fn read_term_targets<T, K: Blank, P>(
    tx: &impl Readable,
    index: &Index<T, K, P>,
    term: impl AsKey<T>,
    targets: &mut Vec<K>,
    window: &Window,
) -> Result<Option<Cursor>, Error> {
    walk_term(tx, index, term, window, |_, target, key| {
        let t = unpack_key(target, index.target).map_err(|e| index.bad("target", key, e))?;
        targets.push(t);
        Ok(true)
    })
}

/// Visits the term's targets and priorities through `window` until `visit`
/// returns `false`; returns the cursor after the last visited target, `None`
/// when nothing follows.
pub fn iterate_term<T, K: Blank, P: Blank>(
    tx: &impl Readable,
    index: &Index<T, K, P>,
    term: impl AsKey<T>,
    window: &Window,
    mut visit: impl FnMut(K, P) -> bool,
) -> Result<Option<Cursor>, Error> {
    walk_term(tx, index, term, window, |prio, target, key| {
        let t = unpack_key(target, index.target).map_err(|e| index.bad("target", key, e))?;
        let p = unpack_key(prio, index.priority).map_err(|e| index.bad("priority", key, e))?;
        Ok(visit(t, p))
    })
}

/// The term's first target (lowest priority, then lowest target bytes):
/// `Ok(None)` when the term has none.
#[doc(alias = "read_term_target_single")]
pub fn first_target<T, K: Blank, P>(
    tx: &impl Readable,
    index: &Index<T, K, P>,
    term: impl AsKey<T>,
) -> Result<Option<K>, Error> {
    let mut found = None;
    walk_term(tx, index, term, &Window::new().limit(1), |_, t, key| {
        found = Some(unpack_key(t, index.target).map_err(|e| index.bad("target", key, e))?);
        Ok(false)
    })?;
    Ok(found)
}

/// The number of targets the term has (0 if none).
#[inline]
pub fn read_term_count<T, K, P>(
    tx: &impl Readable,
    index: &Index<T, K, P>,
    term: impl AsKey<T>,
) -> Result<usize, Error> {
    let mut key = scratch(tx);
    if term.pack_into(index.term, &mut key).is_err() {
        return Ok(0);
    }
    match try_get(tx, index.counts(), &key, count_of)? {
        None => Ok(0),
        Some(Some(n)) => Ok(n as usize),
        Some(None) => Err(index.bad_count(&key)),
    }
}

/// Visits the terms of `target` with their priorities, in term-byte order,
/// until `visit` returns `false`.
pub fn iterate_target<T: Blank, K, P: Blank>(
    tx: &impl Readable,
    index: &Index<T, K, P>,
    target: impl AsKey<K>,
    mut visit: impl FnMut(T, P) -> bool,
) -> Result<(), Error> {
    let mut prefix = scratch(tx);
    if target.pack_into(index.target, &mut prefix).is_err() {
        return Ok(());
    }
    let mut end = scratch(tx);
    let upper = prefix_upper(&prefix, &mut end);
    let mut failure = None;
    try_scan(
        tx,
        index.targets(),
        Bound::Included(&prefix),
        upper,
        false,
        |k, v| {
            let decoded = unpack_key(&k[prefix.len()..], index.term)
                .map_err(|e| index.bad("term", k, e))
                .and_then(|t| {
                    let p =
                        unpack_key(v, index.priority).map_err(|e| index.bad("priority", k, e))?;
                    Ok((t, p))
                });
            match decoded {
                Ok((t, p)) => visit(t, p),
                Err(e) => {
                    failure = Some(e);
                    false
                }
            }
        },
    )?;
    failure.map_or(Ok(()), Err)
}

/// Visits every term of the index with its count, in term-byte order,
/// until `visit` returns `false`.
pub fn iterate_all_terms<T: Blank, K, P>(
    tx: &impl Readable,
    index: &Index<T, K, P>,
    mut visit: impl FnMut(T, usize) -> bool,
) -> Result<(), Error> {
    let mut failure = None;
    try_scan(
        tx,
        index.counts(),
        Bound::Unbounded,
        Bound::Unbounded,
        false,
        |k, v| {
            let decoded = match (unpack_key(k, index.term), count_of(v)) {
                (Ok(t), Some(n)) => Ok((t, n as usize)),
                (Err(e), _) => Err(index.bad("term", k, e)),
                (_, None) => Err(index.bad_count(k)),
            };
            match decoded {
                Ok((t, n)) => visit(t, n),
                Err(e) => {
                    failure = Some(e);
                    false
                }
            }
        },
    )?;
    failure.map_or(Ok(()), Err)
}
