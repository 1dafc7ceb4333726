//! Iterators over buckets and indexes: `impl Iterator<Item = Result<..>>`,
//! so `take`, `filter`, `map` and `collect::<Result<Vec<_>, _>>()` work.
//!
//! | function | yields | order |
//! |---|---|---|
//! | [`entries`] | `(key, value)` of a whole bucket | key order; `.rev()` for descending |
//! | [`entries_in`] | `(key, value)` within a key range (`a..b`, `a..`, `..=b`) | key order, double-ended |
//! | [`entries_with_prefix`] | `(key, value)` whose key starts with a packed prefix | key order, double-ended |
//! | [`term_targets`] | `(target, priority)` of a term through a [`Window`] | the window's |
//! | [`target_terms`] | `(term, priority)` of a target | term bytes, double-ended |
//! | [`terms`] | `(term, count)` of every term of an index | term bytes, double-ended |
//!
//! An entry that does not unpack is yielded as [`Error::Decode`] and ends
//! the iteration: nothing is skipped. An engine failure is yielded the
//! same way.
//!
//! The iterators borrow the transaction, not the engine: each reads its
//! range in chunks (a few entries first, then up to a few hundred), so
//! several can be open at once and other reads can run between two items.
//! The callback forms ([`iterate_all`](crate::iterate_all),
//! [`iterate_term`](crate::iterate_term), ...) walk in one engine scan.
//!
//! ```
//! use vbolt::*;
//! static SCORES: Bucket<String, u32> = Bucket::new("scores", vpack::key::string_z(), vpack::uint);
//! let db = Db::in_memory()?;
//! db.update(|tx| {
//!     for (name, score) in [("ann", 9), ("bo", 7), ("cy", 12), ("di", 3)] {
//!         write(tx, &SCORES, name, &mut { score });
//!     }
//!     Ok::<_, Error>(())
//! })?;
//! let tx = db.read_tx()?;
//! let high: Vec<(String, u32)> = entries(&tx, &SCORES)
//!     .filter(|e| e.as_ref().map_or(true, |(_, score)| *score > 5))
//!     .collect::<Result<_, _>>()?;
//! assert_eq!(high.len(), 3);
//! let last = entries(&tx, &SCORES).next_back().transpose()?;
//! assert_eq!(last, Some(("di".to_string(), 3)));
//! let from_b: Vec<String> = entries_in(&tx, &SCORES, "b".to_string()..)
//!     .map(|e| e.map(|(name, _)| name))
//!     .collect::<Result<_, _>>()?;
//! assert_eq!(from_b, ["bo", "cy", "di"]);
//! # Ok::<(), vbolt::Error>(())
//! ```

use std::iter::FusedIterator;
use std::ops::{Bound, RangeBounds};

use vpack::{Blank, KeyFn, PackFn};

use crate::bucket::Bucket;
use crate::error::Error;
use crate::index::{Index, count_of, cursor_position, cursor_tag, split_term_entry};
use crate::key::{AsKey, unpack_key};
use crate::range::{Decode, Edge, Ranged, bound_buffer};
use crate::tx::Readable;
use crate::window::{Direction, Window};

/// A bucket's entries decoded as `(key, value)`.
struct EntryOf<'t, K, V>(&'t Bucket<K, V>);

impl<K: Blank, V: Default> Decode for EntryOf<'_, K, V> {
    type Item = (K, V);
    fn decode(&self, k: &[u8], v: &[u8]) -> Result<(K, V), Box<Error>> {
        let key = unpack_key(k, self.0.key).map_err(|e| Box::new(self.0.bad_key(k, e)))?;
        let value =
            vpack::from_bytes(v, self.0.value).map_err(|e| Box::new(self.0.bad_value(k, e)))?;
        Ok((key, value))
    }
}

/// Entries of a bucket, in key order from the front and in reverse from
/// the back; see [`entries`].
pub struct Entries<'t, R, K, V> {
    walk: Ranged<'t, R, EntryOf<'t, K, V>, (K, V)>,
}

/// Every entry of `bucket`, in key order (`.rev()` for descending).
pub fn entries<'t, R: Readable, K: Blank, V: Default>(
    tx: &'t R,
    bucket: &'t Bucket<K, V>,
) -> Entries<'t, R, K, V> {
    let walk = Ranged::new(
        tx,
        &bucket.table,
        EntryOf(bucket),
        Edge::open(),
        Edge::open(),
    );
    Entries { walk }
}

/// Packs one end of a key range into an edge.
fn edge_of<K: Clone>(
    tx: &impl Readable,
    b: Bound<&K>,
    pack: PackFn<K>,
) -> Result<Edge, vpack::Error> {
    let (k, make): (_, fn(Vec<u8>) -> Edge) = match b {
        Bound::Unbounded => return Ok(Edge::open()),
        Bound::Included(k) => (k, Edge::included),
        Bound::Excluded(k) => (k, Edge::excluded),
    };
    let mut bytes = bound_buffer(tx);
    vpack::append_bytes(&mut k.clone(), pack, &mut bytes)?;
    Ok(make(bytes))
}

/// The entries whose keys are within `range` (`a..b`, `a..=b`, `a..`,
/// `..b`), in key order. The range is on packed keys, so it follows the
/// key encoding's order (see [Keys](crate#keys)).
///
/// ```
/// # use vbolt::*;
/// static N: Bucket<u32, u32> = Bucket::new("n", vpack::key::fuint(), vpack::uint);
/// let db = Db::in_memory()?;
/// let mut tx = db.write_tx()?;
/// for i in 1..=9u32 { write(&mut tx, &N, i, &mut (i * 10)); }
/// let middle: Vec<u32> = entries_in(&tx, &N, 3..6).map(|e| e.map(|(k, _)| k)).collect::<Result<_, _>>()?;
/// assert_eq!(middle, [3, 4, 5]);
/// let newest_two: Vec<u32> = entries_in(&tx, &N, ..).rev().take(2).map(|e| e.map(|(_, v)| v)).collect::<Result<_, _>>()?;
/// assert_eq!(newest_two, [90, 80]);
/// # Ok::<(), vbolt::Error>(())
/// ```
pub fn entries_in<'t, R: Readable, K: Clone + Blank, V: Default>(
    tx: &'t R,
    bucket: &'t Bucket<K, V>,
    range: impl RangeBounds<K>,
) -> Entries<'t, R, K, V> {
    let edges = edge_of(tx, range.start_bound(), bucket.key)
        .and_then(|lower| Ok((lower, edge_of(tx, range.end_bound(), bucket.key)?)));
    match edges {
        Ok((lower, upper)) => Entries {
            walk: Ranged::new(tx, &bucket.table, EntryOf(bucket), lower, upper),
        },
        Err(source) => Entries::unpackable(tx, bucket, source),
    }
}

/// The entries whose packed keys start with `prefix` packed with `pack`
/// (the key encoding of the key's first part):
/// for composite keys, every entry that shares their first part.
///
/// ```
/// # use vbolt::*;
/// // (user, item) -> quantity; a pair's key encoding is its parts' in turn
/// static CARTS: Bucket<(u32, u32), u32> = Bucket::new("carts", vpack::key::ordered(), vpack::uint);
/// let db = Db::in_memory()?;
/// let mut tx = db.write_tx()?;
/// for (user, item) in [(1, 5), (2, 3), (2, 8), (3, 1)] {
///     write(&mut tx, &CARTS, (user, item), &mut 1);
/// }
/// let items_of_2: Vec<u32> = entries_with_prefix(&tx, &CARTS, 2u32, vpack::key::fuint())
///     .map(|e| e.map(|((_, item), _)| item))
///     .collect::<Result<_, _>>()?;
/// assert_eq!(items_of_2, [3, 8]);
/// # Ok::<(), vbolt::Error>(())
/// ```
pub fn entries_with_prefix<'t, R: Readable, K: Blank, V: Default, P>(
    tx: &'t R,
    bucket: &'t Bucket<K, V>,
    prefix: impl AsKey<P>,
    pack: KeyFn<P>,
) -> Entries<'t, R, K, V> {
    let mut bytes = bound_buffer(tx);
    match prefix.pack_into(pack.pack(), &mut bytes) {
        Ok(()) => {
            let upper = Edge::after_prefix(&bytes, bound_buffer(tx));
            let lower = Edge::included(bytes);
            Entries {
                walk: Ranged::new(tx, &bucket.table, EntryOf(bucket), lower, upper),
            }
        }
        Err(source) => Entries::unpackable(tx, bucket, source),
    }
}

impl<'t, R: Readable, K: Blank, V: Default> Entries<'t, R, K, V> {
    /// A walk whose bounds could not be packed: yields that error once.
    fn unpackable(tx: &'t R, bucket: &'t Bucket<K, V>, source: vpack::Error) -> Self {
        let e = Error::Encode {
            table: bucket.name(),
            source,
        };
        Entries {
            walk: Ranged::failed(tx, &bucket.table, EntryOf(bucket), e),
        }
    }
}

impl<R: Readable, K: Blank, V: Default> Iterator for Entries<'_, R, K, V> {
    type Item = Result<(K, V), Error>;
    fn next(&mut self) -> Option<Self::Item> {
        self.walk.next_front()
    }
}

impl<R: Readable, K: Blank, V: Default> DoubleEndedIterator for Entries<'_, R, K, V> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.walk.next_back()
    }
}

impl<R: Readable, K: Blank, V: Default> FusedIterator for Entries<'_, R, K, V> {}

/// A term's entries decoded as `(target, priority)`.
struct TargetOf<'t, T, K, P> {
    index: &'t Index<T, K, P>,
    term_len: usize,
}

impl<T, K: Blank, P: Blank> Decode for TargetOf<'_, T, K, P> {
    type Item = (K, P);
    fn decode(&self, k: &[u8], v: &[u8]) -> Result<(K, P), Box<Error>> {
        let index = self.index;
        let [_, prio, target] = split_term_entry(k, v)
            .filter(|[t, ..]| t.len() == self.term_len)
            .ok_or_else(|| Box::new(index.bad_entry(k)))?;
        let t =
            unpack_key(target, index.target).map_err(|e| Box::new(index.bad("target", k, e)))?;
        let p =
            unpack_key(prio, index.priority).map_err(|e| Box::new(index.bad("priority", k, e)))?;
        Ok((t, p))
    }
    /// An entry an offset passes over is split, not decoded, as the
    /// callback form does.
    fn check_skipped(&self, k: &[u8], v: &[u8]) -> Result<(), Error> {
        match split_term_entry(k, v) {
            Some([t, ..]) if t.len() == self.term_len => Ok(()),
            _ => Err(self.index.bad_entry(k)),
        }
    }
}

/// A term's targets through a window; see [`term_targets`].
pub struct TermTargets<'t, R, T, K, P> {
    walk: Ranged<'t, R, TargetOf<'t, T, K, P>, (K, P)>,
    reverse: bool,
}

/// The term's `(target, priority)` pairs through `window` (its direction,
/// offset, limit and cursor), as [`read_term_targets`](crate::read_term_targets)
/// reads them. A cursor that does not belong to this index and term is
/// yielded as [`Error::InvalidCursor`]. For pages to hand to a client, with
/// the cursor of the next one, use `read_term_targets`.
///
/// ```
/// # use vbolt::*;
/// // tag (term) -> post (target), priority: a score
/// static TAGGED: Index<String, u32> = Index::new("tagged", vpack::key::string_z(), vpack::key::fuint());
/// let db = Db::in_memory()?;
/// let mut tx = db.write_tx()?;
/// for (post, score) in [(1u32, 30u16), (2, 10), (3, 20)] {
///     set_target_single_term_ext(&mut tx, &TAGGED, post, "rust", score);
/// }
/// let best: Vec<u32> = term_targets(&tx, &TAGGED, "rust", &Window::new().limit(2))
///     .map(|e| e.map(|(post, _)| post))
///     .collect::<Result<_, _>>()?;
/// assert_eq!(best, [2, 3]); // lowest priority first
/// # Ok::<(), vbolt::Error>(())
/// ```
pub fn term_targets<'t, R: Readable, T, K: Blank, P: Blank>(
    tx: &'t R,
    index: &'t Index<T, K, P>,
    term: impl AsKey<T>,
    window: &Window,
) -> TermTargets<'t, R, T, K, P> {
    let mut prefix = bound_buffer(tx);
    let packed = term.pack_into(index.term, &mut prefix);
    let decode = TargetOf {
        index,
        term_len: prefix.len(),
    };
    let reverse = window.get_direction() == Direction::Reverse;
    let walk = match packed {
        // A term that cannot be packed was never stored.
        Err(_) => Ranged::new(tx, index.terms(), decode, Edge::open(), Edge::open()).emptied(),
        Ok(()) => {
            let tag = cursor_tag(index.terms(), &prefix);
            match cursor_position(index.name(), &tag, window.get_cursor()) {
                Err(e) => Ranged::failed(tx, index.terms(), decode, e),
                Ok(position) => {
                    let (lower, upper) = match position {
                        None => {
                            let upper = Edge::after_prefix(&prefix, bound_buffer(tx));
                            (Edge::included(prefix), upper)
                        }
                        Some(position) if reverse => {
                            let mut start = bound_buffer(tx);
                            start.extend_from_slice(&prefix);
                            start.extend_from_slice(position);
                            (Edge::included(prefix), Edge::excluded(start))
                        }
                        Some(position) => {
                            let upper = Edge::after_prefix(&prefix, bound_buffer(tx));
                            prefix.extend_from_slice(position);
                            (Edge::excluded(prefix), upper)
                        }
                    };
                    Ranged::new(tx, index.terms(), decode, lower, upper)
                }
            }
        }
    };
    // A cursor already marks where the page starts: no offset after it.
    let skip = if window.get_cursor().is_some() {
        0
    } else {
        window.get_offset()
    };
    TermTargets {
        walk: walk.window(skip, window.get_limit()),
        reverse,
    }
}

impl<R: Readable, T, K: Blank, P: Blank> Iterator for TermTargets<'_, R, T, K, P> {
    type Item = Result<(K, P), Error>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.reverse {
            self.walk.next_back()
        } else {
            self.walk.next_front()
        }
    }
}

impl<R: Readable, T, K: Blank, P: Blank> FusedIterator for TermTargets<'_, R, T, K, P> {}

/// A target's entries decoded as `(term, priority)`.
struct TermOf<'t, T, K, P> {
    index: &'t Index<T, K, P>,
    target_len: usize,
}

impl<T: Blank, K, P: Blank> Decode for TermOf<'_, T, K, P> {
    type Item = (T, P);
    fn decode(&self, k: &[u8], v: &[u8]) -> Result<(T, P), Box<Error>> {
        let index = self.index;
        let term = k.get(self.target_len..).unwrap_or_default();
        let t = unpack_key(term, index.term).map_err(|e| Box::new(index.bad("term", k, e)))?;
        let p = unpack_key(v, index.priority).map_err(|e| Box::new(index.bad("priority", k, e)))?;
        Ok((t, p))
    }
}

/// A target's terms; see [`target_terms`].
pub struct TargetTerms<'t, R, T, K, P> {
    walk: Ranged<'t, R, TermOf<'t, T, K, P>, (T, P)>,
}

/// The `(term, priority)` pairs of `target`, in term-byte order.
pub fn target_terms<'t, R: Readable, T: Blank, K, P: Blank>(
    tx: &'t R,
    index: &'t Index<T, K, P>,
    target: impl AsKey<K>,
) -> TargetTerms<'t, R, T, K, P> {
    let mut prefix = bound_buffer(tx);
    let packed = target.pack_into(index.target, &mut prefix);
    let decode = TermOf {
        index,
        target_len: prefix.len(),
    };
    let walk = match packed {
        Err(_) => Ranged::new(tx, index.targets(), decode, Edge::open(), Edge::open()).emptied(),
        Ok(()) => {
            let upper = Edge::after_prefix(&prefix, bound_buffer(tx));
            Ranged::new(tx, index.targets(), decode, Edge::included(prefix), upper)
        }
    };
    TargetTerms { walk }
}

impl<R: Readable, T: Blank, K, P: Blank> Iterator for TargetTerms<'_, R, T, K, P> {
    type Item = Result<(T, P), Error>;
    fn next(&mut self) -> Option<Self::Item> {
        self.walk.next_front()
    }
}

impl<R: Readable, T: Blank, K, P: Blank> DoubleEndedIterator for TargetTerms<'_, R, T, K, P> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.walk.next_back()
    }
}

impl<R: Readable, T: Blank, K, P: Blank> FusedIterator for TargetTerms<'_, R, T, K, P> {}

/// Counts decoded as `(term, count)`.
struct CountOf<'t, T, K, P>(&'t Index<T, K, P>);

impl<T: Blank, K, P> Decode for CountOf<'_, T, K, P> {
    type Item = (T, usize);
    fn decode(&self, k: &[u8], v: &[u8]) -> Result<(T, usize), Box<Error>> {
        let index = self.0;
        let t = unpack_key(k, index.term).map_err(|e| Box::new(index.bad("term", k, e)))?;
        let n = count_of(v).ok_or_else(|| Box::new(index.bad_count(k)))?;
        Ok((t, n as usize))
    }
}

/// Every term of an index with its count; see [`terms`].
pub struct Terms<'t, R, T, K, P> {
    walk: Ranged<'t, R, CountOf<'t, T, K, P>, (T, usize)>,
}

/// Every term of `index` with its number of targets, in term-byte order.
pub fn terms<'t, R: Readable, T: Blank, K, P>(
    tx: &'t R,
    index: &'t Index<T, K, P>,
) -> Terms<'t, R, T, K, P> {
    let walk = Ranged::new(
        tx,
        index.counts(),
        CountOf(index),
        Edge::open(),
        Edge::open(),
    );
    Terms { walk }
}

impl<R: Readable, T: Blank, K, P> Iterator for Terms<'_, R, T, K, P> {
    type Item = Result<(T, usize), Error>;
    fn next(&mut self) -> Option<Self::Item> {
        self.walk.next_front()
    }
}

impl<R: Readable, T: Blank, K, P> DoubleEndedIterator for Terms<'_, R, T, K, P> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.walk.next_back()
    }
}

impl<R: Readable, T: Blank, K, P> FusedIterator for Terms<'_, R, T, K, P> {}
