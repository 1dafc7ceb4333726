//! Setting a target's terms: the one write path of an index.
//!
//! [`set_target_terms`] reads what the target has (its target entries),
//! works out the difference with what it should have ([`TermDiff`]), and
//! applies only that: term entries and target entries removed, moved or
//! added, and each touched term's count adjusted once. The other setters
//! are shorthands for it. The prefetch functions warm the engine's cache
//! for a batch of such updates on a shared engine.

use std::borrow::Borrow;
use std::ops::Bound;

use vpack::{Blank, PackFn};

use super::Index;
use super::layout::{count_of, entry_value};
use crate::error::Error;
use crate::hub::Space;
use crate::key::{AsKey, pack_nonzero};
use crate::range::prefix_upper;
use crate::term_diff::{Pair, TermDiff};
use crate::tx::{WriteTx, batches_reads, get, scan, try_prefetch, try_prefetch_ranges};

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
/// static WORDS: Index<String, u32> = Index::new("words", vpack::key::string_z(), vpack::key::fuint());
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
/// static TAGS: Index<String, u64> = Index::new("tags", vpack::key::string_z(), vpack::key::fuint());
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
/// static TAGS: Index<String, u64> = Index::new("tags", vpack::key::string_z(), vpack::key::fuint());
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
