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
//! // category id -> article ids, ordered by publication time (an i64 of seconds).
//! static CATEGORY_ARTICLES: Index<u64, u32, i64> =
//!     Index::new_ext("category_articles", vpack::fuint, vpack::fint_ord, vpack::fuint);
//!
//! let db = Db::in_memory()?;
//! let mut tx = db.write_tx()?;
//! set_target_terms_uniform(&mut tx, &CATEGORY_ARTICLES, &100, &[1, 2], 1_700_000_000);
//! set_target_terms_uniform(&mut tx, &CATEGORY_ARTICLES, &101, &[2], 1_700_000_060);
//! tx.commit()?;
//!
//! let tx = db.read_tx()?;
//! let mut newest = Vec::new();
//! let window = Window { limit: 10, direction: Direction::Reverse, ..Window::default() };
//! let next = read_term_targets(&tx, &CATEGORY_ARTICLES, &2, &mut newest, &window);
//! assert_eq!((newest, next), (vec![101, 100], None));
//! assert_eq!(read_term_count(&tx, &CATEGORY_ARTICLES, &2), 2);
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
use crate::tx::{Readable, WriteTx, get, scan, scratch};
use crate::window::{Cursor, Direction, Window};
use vpack::PackFn;

/// Positions of an index's tables in [`Index::tables`].
const TERMS: usize = 0;
const TARGETS: usize = 1;
const COUNTS: usize = 2;

/// A declared index from terms `T` to targets `K`, ordered by priorities `P`.
///
/// Type parameters follow the original's order: target, term, priority.
///
/// ```
/// // keyword -> page number, priority u16 (lower first)
/// static KEYWORDS: vbolt::Index<u32, String> =
///     vbolt::Index::new("keywords", vpack::string_z, vpack::fuint);
/// ```
pub struct Index<K, T, P = u16> {
    /// Term entries, target entries and counts, in that order.
    pub(crate) tables: [TableId; 3],
    pub(crate) target: PackFn<K>,
    pub(crate) term: PackFn<T>,
    pub(crate) priority: PackFn<P>,
}

impl<K, T> Index<K, T, u16> {
    /// Declares an index with the default priority: a `u16` packed
    /// fixed-width, lower values first.
    pub const fn new(name: &'static str, term: PackFn<T>, target: PackFn<K>) -> Index<K, T, u16> {
        Index::new_ext(name, term, vpack::fuint::<u16>, target)
    }
}

impl<K, T, P> Index<K, T, P> {
    /// Declares an index with a custom priority and its pack function
    /// (the original's `IndexExt`).
    #[doc(alias = "IndexExt")]
    pub const fn new_ext(
        name: &'static str,
        term: PackFn<T>,
        priority: PackFn<P>,
        target: PackFn<K>,
    ) -> Index<K, T, P> {
        Index {
            tables: [
                TableId::new(TableKind::IndexTerms, name),
                TableId::new(TableKind::IndexTargets, name),
                TableId::new(TableKind::IndexCounts, name),
            ],
            target,
            term,
            priority,
        }
    }

    /// The index's name.
    pub fn name(&self) -> &'static str {
        self.tables[TERMS].name()
    }

    fn terms(&self) -> &TableId {
        &self.tables[TERMS]
    }

    fn targets(&self) -> &TableId {
        &self.tables[TARGETS]
    }

    fn counts(&self) -> &TableId {
        &self.tables[COUNTS]
    }
}

/// Reusable buffers for computing a target's term changes, kept in the
/// write transaction so updates allocate once per transaction.
#[derive(Default)]
pub(crate) struct Scratch {
    arena: Vec<u8>,
    new: Vec<Pair>,
    old: Vec<Pair>,
    target: Vec<u8>,
    key: Vec<u8>,
    end: Vec<u8>,
}

/// A (term, priority) pair as spans of the scratch arena.
#[derive(Clone, Copy)]
struct Pair {
    term: (usize, usize),
    prio: (usize, usize),
}

impl Scratch {
    fn bytes(&self, span: (usize, usize)) -> &[u8] {
        &self.arena[span.0..span.1]
    }

    fn push(&mut self, term: &[u8], prio: &[u8]) -> Pair {
        let t0 = self.arena.len();
        self.arena.extend_from_slice(term);
        let p0 = self.arena.len();
        self.arena.extend_from_slice(prio);
        Pair {
            term: (t0, p0),
            prio: (p0, self.arena.len()),
        }
    }
}

/// The upper bound of a scan over every key that starts with `prefix`:
/// the first key after them all, written into `end`, or unbounded when
/// there is none (the prefix is all `0xFF`: the case the Go original gets
/// wrong).
fn prefix_upper<'b>(prefix: &[u8], end: &'b mut Vec<u8>) -> Bound<&'b [u8]> {
    end.clear();
    match prefix.iter().rposition(|&b| b != 0xFF) {
        Some(keep) => {
            end.extend_from_slice(&prefix[..=keep]);
            end[keep] += 1;
            Bound::Excluded(&end[..])
        }
        None => Bound::Unbounded,
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

fn count_of(bytes: &[u8]) -> Option<u64> {
    bytes.try_into().ok().map(u64::from_be_bytes)
}

/// Sets the complete term set of `target`, each term with its priority.
///
/// Terms the target had but `terms` lacks are removed; terms whose priority
/// changed move; new terms are added; counts follow. Unchanged pairs are not
/// rewritten, so a call that changes nothing writes nothing. If a term
/// appears more than once, its last priority wins.
///
/// `terms` may be a map or any iterator of pairs, owned or borrowed.
///
/// ```
/// # use vbolt::*;
/// # use std::collections::BTreeMap;
/// static WORDS: Index<u32, String> = Index::new("words", vpack::string_z, vpack::fuint);
/// let db = Db::in_memory()?;
/// let mut tx = db.write_tx()?;
/// let terms = BTreeMap::from([("rust".to_string(), 1u16), ("db".to_string(), 5)]);
/// set_target_terms(&mut tx, &WORDS, &7, &terms);
/// let mut pages = Vec::new();
/// read_term_targets(&tx, &WORDS, &"rust".to_string(), &mut pages, &Window::default());
/// assert_eq!(pages, [7]);
/// # Ok::<(), vbolt::Error>(())
/// ```
pub fn set_target_terms<K, T, P, I, BT, BP>(
    tx: &mut WriteTx,
    index: &Index<K, T, P>,
    target: impl Borrow<K>,
    terms: I,
) where
    K: Clone + Default + PartialEq,
    T: Clone,
    P: Clone,
    I: IntoIterator<Item = (BT, BP)>,
    BT: Borrow<T>,
    BP: Borrow<P>,
{
    if !tx.is_ok() {
        return;
    }
    let mut s = std::mem::take(&mut tx.index_scratch);
    s.arena.clear();
    s.new.clear();
    s.old.clear();
    s.target.clear();
    if let Err(e) = collect_new(index, target.borrow(), terms, &mut s) {
        tx.fail(e);
    } else {
        collect_old(tx, index, &mut s);
        apply_changes(tx, index, &mut s);
    }
    tx.index_scratch = s;
}

/// Packs the target and the requested (term, priority) pairs, sorted by term
/// bytes with duplicates resolved to the last occurrence.
fn collect_new<K, T, P, I, BT, BP>(
    index: &Index<K, T, P>,
    target: &K,
    terms: I,
    s: &mut Scratch,
) -> Result<(), Error>
where
    K: Clone,
    T: Clone,
    P: Clone,
    I: IntoIterator<Item = (BT, BP)>,
    BT: Borrow<T>,
    BP: Borrow<P>,
{
    let encode = |e| Error::Encode {
        table: index.name(),
        source: e,
    };
    vpack::append_bytes(&mut target.clone(), index.target, &mut s.target).map_err(encode)?;
    for (term, prio) in terms {
        let t0 = s.arena.len();
        vpack::append_bytes(&mut term.borrow().clone(), index.term, &mut s.arena)
            .map_err(encode)?;
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
fn collect_old<K, T, P>(tx: &WriteTx, index: &Index<K, T, P>, s: &mut Scratch) {
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

/// Writes the difference between the old and new pairs.
fn apply_changes<K, T, P>(tx: &mut WriteTx, index: &Index<K, T, P>, s: &mut Scratch) {
    let (mut i, mut j) = (0, 0);
    while i < s.old.len() || j < s.new.len() {
        let order = match (s.old.get(i), s.new.get(j)) {
            (Some(o), Some(n)) => s.bytes(o.term).cmp(s.bytes(n.term)),
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
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

fn term_entry_key(s: &mut Scratch, p: Pair) -> Vec<u8> {
    let mut key = std::mem::take(&mut s.key);
    key.clear();
    key.extend_from_slice(&s.arena[p.term.0..p.term.1]);
    key.extend_from_slice(&s.arena[p.prio.0..p.prio.1]);
    key.extend_from_slice(&s.target);
    key
}

fn target_entry_key(s: &mut Scratch, p: Pair) -> Vec<u8> {
    let mut key = std::mem::take(&mut s.key);
    key.clear();
    key.extend_from_slice(&s.target);
    key.extend_from_slice(&s.arena[p.term.0..p.term.1]);
    key
}

fn delete_term_entry<K, T, P>(tx: &mut WriteTx, index: &Index<K, T, P>, s: &mut Scratch, p: Pair) {
    let key = term_entry_key(s, p);
    tx.delete(index.terms(), &key);
    s.key = key;
}

fn remove_pair<K, T, P>(tx: &mut WriteTx, index: &Index<K, T, P>, s: &mut Scratch, p: Pair) {
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
    index: &Index<K, T, P>,
    s: &mut Scratch,
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
    index: &Index<K, T, P>,
    s: &mut Scratch,
    p: Pair,
    up: bool,
) {
    let mut key = std::mem::take(&mut s.key);
    key.clear();
    key.extend_from_slice(&s.arena[p.term.0..p.term.1]);
    let current = get(tx, index.counts(), &key, count_of)
        .flatten()
        .unwrap_or(0);
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

/// Sets the target's terms, all with the same `priority`.
pub fn set_target_terms_uniform<K, T, P, BT>(
    tx: &mut WriteTx,
    index: &Index<K, T, P>,
    target: impl Borrow<K>,
    terms: impl IntoIterator<Item = BT>,
    priority: P,
) where
    K: Clone + Default + PartialEq,
    T: Clone,
    P: Clone,
    BT: Borrow<T>,
{
    set_target_terms(tx, index, target, terms.into_iter().map(|t| (t, &priority)));
}

/// Sets the target's terms with the default priority (`P::default()`).
pub fn set_target_terms_plain<K, T, P, BT>(
    tx: &mut WriteTx,
    index: &Index<K, T, P>,
    target: impl Borrow<K>,
    terms: impl IntoIterator<Item = BT>,
) where
    K: Clone + Default + PartialEq,
    T: Clone,
    P: Clone + Default,
    BT: Borrow<T>,
{
    set_target_terms_uniform(tx, index, target, terms, P::default());
}

/// Sets the target's only term, with the default priority.
pub fn set_target_single_term<K, T, P>(
    tx: &mut WriteTx,
    index: &Index<K, T, P>,
    target: impl Borrow<K>,
    term: impl Borrow<T>,
) where
    K: Clone + Default + PartialEq,
    T: Clone,
    P: Clone + Default,
{
    set_target_terms(tx, index, target, [(term, P::default())]);
}

/// Sets the target's only term, with `priority`.
pub fn set_target_single_term_ext<K, T, P>(
    tx: &mut WriteTx,
    index: &Index<K, T, P>,
    target: impl Borrow<K>,
    term: impl Borrow<T>,
    priority: P,
) where
    K: Clone + Default + PartialEq,
    T: Clone,
    P: Clone,
{
    set_target_terms(tx, index, target, [(term, priority)]);
}

/// Removes the target from every term it has.
pub fn delete_target_terms<K, T, P>(
    tx: &mut WriteTx,
    index: &Index<K, T, P>,
    target: impl Borrow<K>,
) where
    K: Clone + Default + PartialEq,
    T: Clone,
    P: Clone,
{
    set_target_terms(tx, index, target, std::iter::empty::<(&T, &P)>());
}

/// A 64-bit FNV-1a tag binding a cursor to one index and one term: the
/// table's name hash continued over the term's bytes.
fn cursor_tag(table: &TableId, term: &[u8]) -> [u8; 8] {
    fnv1a(table.name_hash(), term).to_be_bytes()
}

const CURSOR_VERSION: u8 = 1;

/// Walks a term's entries through `window`, handing `visit` each entry's
/// (priority + target) suffix split at `prio_len`; returns the next cursor.
fn walk_term<K, T, P>(
    tx: &impl Readable,
    index: &Index<K, T, P>,
    term: &T,
    window: &Window,
    mut visit: impl FnMut(&[u8], &[u8]) -> bool,
) -> Option<Cursor>
where
    T: Clone,
{
    let mut prefix = scratch(tx);
    vpack::append_bytes(&mut term.clone(), index.term, &mut prefix).ok()?;
    let tag = cursor_tag(index.terms(), &prefix);
    let mut end = scratch(tx);
    let end_bound = prefix_upper(&prefix, &mut end);
    let mut start = scratch(tx);
    if let Some(cursor) = &window.cursor {
        let c = cursor.as_bytes();
        if c.len() < 9 || c[0] != CURSOR_VERSION || c[1..9] != tag {
            return None;
        }
        start.extend_from_slice(&prefix);
        start.extend_from_slice(&c[9..]);
    }
    let reverse = window.direction == Direction::Reverse;
    let (lower, upper) = match (reverse, window.cursor.is_some()) {
        (false, true) => (Bound::Excluded(&start[..]), end_bound),
        (false, false) => (Bound::Included(&prefix[..]), end_bound),
        (true, true) => (Bound::Included(&prefix[..]), Bound::Excluded(&start[..])),
        (true, false) => (Bound::Included(&prefix[..]), end_bound),
    };
    let mut skip = if window.cursor.is_some() {
        0
    } else {
        window.offset
    };
    let mut taken = 0usize;
    let mut last = scratch(tx);
    let mut more = false;
    let mut full = false;
    scan(tx, index.terms(), lower, upper, reverse, |k, v| {
        if full {
            more = true;
            return false;
        }
        let suffix = &k[prefix.len()..];
        if skip > 0 {
            skip -= 1;
            return true;
        }
        // The entry's value holds the lengths, so no priority is decoded
        // just to find where the target starts.
        let Some([term, prio, target]) = split_term_entry(k, v) else {
            return true; // damaged entry (`check` reports it): skip
        };
        if term.len() != prefix.len() {
            return true;
        }
        let keep_going = visit(prio, target);
        taken += 1;
        full = !keep_going || (window.limit != 0 && taken >= window.limit);
        if full {
            // The position of the last target returned: where a next page starts.
            last.extend_from_slice(suffix);
        }
        true
    });
    if !more {
        return None;
    }
    let mut c = Vec::with_capacity(9 + last.len());
    c.push(CURSOR_VERSION);
    c.extend_from_slice(&tag);
    c.extend_from_slice(&last);
    Some(Cursor(c))
}

/// Unpacks an entry's two halves and hands them to `visit`; an entry that
/// does not unpack is skipped (the walk continues).
fn visit_decoded<A: Default, B: Default>(
    a: &[u8],
    pack_a: PackFn<A>,
    b: &[u8],
    pack_b: PackFn<B>,
    visit: &mut impl FnMut(A, B) -> bool,
) -> bool {
    match (vpack::from_bytes(a, pack_a), vpack::from_bytes(b, pack_b)) {
        (Ok(a), Ok(b)) => visit(a, b),
        _ => true,
    }
}

/// Reads a page of the term's targets (see [`Window`]) into `targets`;
/// returns the cursor of the next page, `None` when nothing follows.
///
/// ```
/// # use vbolt::*;
/// static TAGGED: Index<u32, u8> = Index::new("tagged", vpack::byte, vpack::fuint);
/// let db = Db::in_memory()?;
/// let mut tx = db.write_tx()?;
/// for post in 1..=5u32 {
///     set_target_single_term(&mut tx, &TAGGED, &post, &7);
/// }
/// let mut page = Vec::new();
/// let mut window = Window { limit: 2, ..Window::default() };
/// let mut pages = Vec::new();
/// loop {
///     page.clear();
///     let next = read_term_targets(&tx, &TAGGED, &7, &mut page, &window);
///     pages.push(page.clone());
///     match next {
///         Some(cursor) => window.cursor = Some(cursor),
///         None => break,
///     }
/// }
/// assert_eq!(pages, [vec![1, 2], vec![3, 4], vec![5]]);
/// # Ok::<(), vbolt::Error>(())
/// ```
pub fn read_term_targets<K, T, P>(
    tx: &impl Readable,
    index: &Index<K, T, P>,
    term: impl Borrow<T>,
    targets: &mut Vec<K>,
    window: &Window,
) -> Option<Cursor>
where
    K: Default,
    T: Clone,
{
    walk_term(tx, index, term.borrow(), window, |_, target| {
        if let Ok(t) = vpack::from_bytes(target, index.target) {
            targets.push(t);
        }
        true
    })
}

/// Visits the term's targets and priorities through `window` until `visit`
/// returns `false`; returns the cursor after the last visited target, `None`
/// when nothing follows.
pub fn iterate_term<K, T, P>(
    tx: &impl Readable,
    index: &Index<K, T, P>,
    term: impl Borrow<T>,
    window: &Window,
    mut visit: impl FnMut(K, P) -> bool,
) -> Option<Cursor>
where
    K: Default,
    T: Clone,
    P: Default,
{
    walk_term(tx, index, term.borrow(), window, |prio, target| {
        visit_decoded(target, index.target, prio, index.priority, &mut visit)
    })
}

/// Reads the term's first target (lowest priority) into `target`; returns
/// whether there was one.
pub fn read_term_target_single<K, T, P>(
    tx: &impl Readable,
    index: &Index<K, T, P>,
    term: impl Borrow<T>,
    target: &mut K,
) -> bool
where
    K: Default,
    T: Clone,
{
    let mut found = false;
    let window = Window {
        limit: 1,
        ..Window::default()
    };
    walk_term(tx, index, term.borrow(), &window, |_, t| {
        found = vpack::from_bytes_into(t, target, index.target);
        !found
    });
    found
}

/// The number of targets the term has (0 if none).
#[inline]
pub fn read_term_count<K, T, P>(
    tx: &impl Readable,
    index: &Index<K, T, P>,
    term: impl Borrow<T>,
) -> usize
where
    T: Clone,
{
    let mut key = scratch(tx);
    if vpack::append_bytes(&mut term.borrow().clone(), index.term, &mut key).is_err() {
        return 0;
    }
    get(tx, index.counts(), &key, count_of)
        .flatten()
        .map_or(0, |n| n as usize)
}

/// Visits the terms of `target` with their priorities, in term-byte order,
/// until `visit` returns `false`.
pub fn iterate_target<K, T, P>(
    tx: &impl Readable,
    index: &Index<K, T, P>,
    target: impl Borrow<K>,
    mut visit: impl FnMut(T, P) -> bool,
) where
    K: Clone + Default + PartialEq,
    T: Default,
    P: Default,
{
    let mut prefix = scratch(tx);
    if vpack::append_bytes(&mut target.borrow().clone(), index.target, &mut prefix).is_err() {
        return;
    }
    let mut end = scratch(tx);
    let upper = prefix_upper(&prefix, &mut end);
    scan(
        tx,
        index.targets(),
        Bound::Included(&prefix),
        upper,
        false,
        |k, v| {
            visit_decoded(
                &k[prefix.len()..],
                index.term,
                v,
                index.priority,
                &mut visit,
            )
        },
    );
}

/// Visits every term of the index with its count, in term-byte order,
/// until `visit` returns `false`.
pub fn iterate_all_terms<K, T, P>(
    tx: &impl Readable,
    index: &Index<K, T, P>,
    mut visit: impl FnMut(T, usize) -> bool,
) where
    T: Default,
{
    scan(
        tx,
        index.counts(),
        Bound::Unbounded,
        Bound::Unbounded,
        false,
        |k, v| match (vpack::from_bytes(k, index.term), count_of(v)) {
            (Ok(t), Some(n)) => visit(t, n as usize),
            _ => true,
        },
    );
}
