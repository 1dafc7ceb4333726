//! Ranges of packed keys, and a walk over one that can be resumed.
//!
//! [`Edge`] is an owned bound; [`prefix_upper`] turns "every key starting
//! with these bytes" into a range. [`Ranged`] walks a range in chunks from
//! both ends: each refill is one engine scan that decodes up to a chunk of
//! entries into a buffer and remembers where the unread part of the range
//! now starts, so nothing borrows the engine between two items. That is
//! what lets an iterator live as long as its transaction, in a read or a
//! write transaction alike.
//!
//! Chunks start small (a `take(3)` decodes little more than 3 entries) and
//! grow to [`MAX_CHUNK`], so a long walk costs one range lookup per
//! `MAX_CHUNK` entries.
//!
//! A window's offset and limit (for `term_targets`) are applied by the walk
//! itself ([`Ranged::window`]): the offset is passed over in a scan of its
//! own without decoding, as the callback form does, and the limit caps the
//! chunks, so a page decodes exactly its entries and `next()` is a pop.

use std::ops::Bound;

use crate::engine::TableId;
use crate::error::Error;
use crate::tx::{Pool, Readable, give_back, take_from, try_scan};

/// The first chunk's size.
const FIRST_CHUNK: usize = 16;
/// The largest chunk.
const MAX_CHUNK: usize = 256;

/// The upper bound of a scan over every key that starts with `prefix`:
/// the first key after them all, written into `end`, or unbounded when
/// there is none (a prefix of `0xFF` bytes has no successor of its length).
pub(crate) fn prefix_upper<'b>(prefix: &[u8], end: &'b mut Vec<u8>) -> Bound<&'b [u8]> {
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

/// An owned bound on packed keys.
#[derive(Debug, Clone, Default)]
pub(crate) struct Edge {
    kind: EdgeKind,
    bytes: Vec<u8>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum EdgeKind {
    #[default]
    Open,
    Included,
    Excluded,
}

impl Edge {
    /// No bound.
    pub(crate) fn open() -> Edge {
        Edge::default()
    }

    /// `key` and everything after it (takes the buffer).
    pub(crate) fn included(bytes: Vec<u8>) -> Edge {
        Edge {
            kind: EdgeKind::Included,
            bytes,
        }
    }

    /// Everything after `key` (takes the buffer).
    pub(crate) fn excluded(bytes: Vec<u8>) -> Edge {
        Edge {
            kind: EdgeKind::Excluded,
            bytes,
        }
    }

    /// The upper edge of every key starting with `prefix` (see
    /// [`prefix_upper`]), built in `end`'s buffer.
    pub(crate) fn after_prefix(prefix: &[u8], mut end: Vec<u8>) -> Edge {
        match prefix_upper(prefix, &mut end) {
            Bound::Excluded(_) => Edge::excluded(end),
            _ => Edge::open(),
        }
    }

    /// Makes this edge `key` and everything after (or, as an upper edge,
    /// before) it, taking `key`'s buffer and leaving this edge's old one
    /// in its place for reuse.
    fn include_swapped(&mut self, key: &mut Vec<u8>) {
        self.kind = EdgeKind::Included;
        std::mem::swap(&mut self.bytes, key);
    }

    fn bound(&self) -> Bound<&[u8]> {
        match self.kind {
            EdgeKind::Open => Bound::Unbounded,
            EdgeKind::Included => Bound::Included(&self.bytes),
            EdgeKind::Excluded => Bound::Excluded(&self.bytes),
        }
    }
}

/// Turns one stored entry into an item.
pub(crate) trait Decode {
    /// What the walk yields.
    type Item;
    /// Decodes the entry stored under `key`. The failure is boxed: the
    /// result passes through memory once per entry, and a whole `Error`
    /// (88 bytes) there cost the loop more than the rare allocation.
    fn decode(&self, key: &[u8], value: &[u8]) -> Result<Self::Item, Box<Error>>;
    /// Checks an entry a window's offset passes over without decoding it:
    /// what the callback form checks there too (by default, nothing).
    fn check_skipped(&self, _key: &[u8], _value: &[u8]) -> Result<(), Error> {
        Ok(())
    }
}

/// The decoded items one end has read and not yet yielded, the next one
/// last (so this end takes them with `Vec::pop`).
struct Side<I> {
    items: Vec<I>,
    chunk: usize,
}

impl<I> Side<I> {
    fn new(chunk: usize) -> Side<I> {
        Side {
            items: Vec::new(),
            chunk,
        }
    }

    /// The item this end would yield last: the other end's next, once the
    /// unread range is empty (rare, and at most a chunk's worth).
    fn take_far(&mut self) -> Option<I> {
        (!self.items.is_empty()).then(|| self.items.remove(0))
    }
}

/// A resumable walk over the entries of `table` between two bounds, from
/// either end.
///
/// The two ends share the range: `lower..upper` is the part neither end
/// has read. An end's refill reads the next chunk of that part from its
/// side and moves its bound to the first entry it did not take (one key
/// copied per chunk, none per entry). Once nothing is left unread, an end
/// whose buffer is empty takes the other end's buffered items from their
/// far side. So every entry is read once and yielded once, by one end.
///
/// The bounds' byte buffers come from the transaction's pool (see
/// [`bound_buffer`]) and go back to it when the walk is dropped, so
/// walks after the first in a transaction allocate no key buffers (a page
/// read through an iterator used to allocate three more than through the
/// callback form; `tests/alloc.rs`).
pub(crate) struct Ranged<'t, R, D, I> {
    tx: &'t R,
    pool: &'t Pool,
    table: &'t TableId,
    decode: D,
    lower: Edge,
    upper: Edge,
    /// Where a refill copies the first key it did not take; then swapped
    /// into the bound it moves.
    next_key: Vec<u8>,
    front: Side<I>,
    back: Side<I>,
    /// Entries still to pass over, undecoded, before the first item (a
    /// window's offset; see [`Ranged::window`]).
    skip: usize,
    /// Items still to yield (a window's limit); the walk is drained once
    /// it reaches 0.
    left: usize,
    /// Nothing is left between `lower` and `upper`.
    drained: bool,
    /// A failure met by a refill, yielded when an end reaches it; the
    /// walk ends there (nothing beyond it is yielded).
    failure: Option<Error>,
    failed: bool,
}

impl<'t, R: Readable, I, D: Decode<Item = I>> Ranged<'t, R, D, I> {
    pub(crate) fn new(tx: &'t R, table: &'t TableId, decode: D, lower: Edge, upper: Edge) -> Self {
        let pool = tx.pool();
        Ranged {
            tx,
            pool,
            table,
            decode,
            lower,
            upper,
            next_key: take_from(pool),
            front: Side::new(FIRST_CHUNK),
            back: Side::new(FIRST_CHUNK),
            skip: 0,
            left: usize::MAX,
            drained: false,
            failure: None,
            failed: false,
        }
    }

    /// A walk that yields `e` once and ends.
    pub(crate) fn failed(tx: &'t R, table: &'t TableId, decode: D, e: Error) -> Self {
        let mut r = Ranged::new(tx, table, decode, Edge::open(), Edge::open());
        r.drained = true;
        r.failed = true;
        r.failure = Some(e);
        r
    }

    /// This walk, yielding nothing.
    pub(crate) fn emptied(mut self) -> Self {
        self.drained = true;
        self
    }

    /// Reads this walk through a window, from one end: the first `skip`
    /// entries are passed over without being decoded (only
    /// [`Decode::check_skipped`]), and at most `limit` items are yielded.
    /// The first chunk is the limit, so a page costs one engine scan that
    /// decodes exactly the page: the entry after it is only looked at, to
    /// learn where the rest of the range starts. For a walk taken from one
    /// end only (the window's counts are the walk's, not each end's).
    pub(crate) fn window(mut self, skip: usize, limit: Option<usize>) -> Self {
        self.skip = skip;
        if let Some(limit) = limit {
            let first = limit.clamp(1, MAX_CHUNK);
            self.front.chunk = first;
            self.back.chunk = first;
            self.left = limit;
            if limit == 0 {
                self.drained = true;
            }
        }
        self
    }

    /// Reads the next chunk of the unread range into one end's buffer.
    fn fill(&mut self, reverse: bool) -> Result<(), Error> {
        if self.skip > 0 {
            self.pass_over(reverse)?;
            if self.drained {
                return Ok(());
            }
        }
        let side = if reverse {
            &mut self.back
        } else {
            &mut self.front
        };
        let want = side.chunk.min(self.left);
        side.chunk = (side.chunk * 2).min(MAX_CHUNK);
        side.items.reserve(want);
        let decode = &self.decode;
        let next_key = &mut self.next_key;
        let mut taken = 0;
        let mut more = false;
        let mut failure = None;
        try_scan(
            self.tx,
            self.table,
            self.lower.bound(),
            self.upper.bound(),
            reverse,
            |k, v| {
                if taken == want {
                    // The first entry not taken: the unread range now
                    // starts (or, walking back, ends) with it.
                    next_key.clear();
                    next_key.extend_from_slice(k);
                    more = true;
                    return false;
                }
                match decode.decode(k, v) {
                    Ok(item) => {
                        side.items.push(item);
                        taken += 1;
                        true
                    }
                    Err(e) => {
                        failure = Some(*e);
                        false
                    }
                }
            },
        )?;
        // Read in this end's order; kept with the next item last.
        side.items.reverse();
        self.left -= taken;
        self.settle(reverse, failure, more);
        if self.left == 0 {
            self.drained = true;
        }
        Ok(())
    }

    /// Passes over the window's offset from one end: checks each entry
    /// with [`Decode::check_skipped`] and moves that end's bound to the
    /// first entry after them. A scan of its own, so the chunk's loop
    /// carries no offset test, and out of line (once per walk).
    #[cold]
    #[inline(never)]
    fn pass_over(&mut self, reverse: bool) -> Result<(), Error> {
        let decode = &self.decode;
        let next_key = &mut self.next_key;
        let skip = &mut self.skip;
        let mut more = false;
        let mut failure = None;
        try_scan(
            self.tx,
            self.table,
            self.lower.bound(),
            self.upper.bound(),
            reverse,
            |k, v| {
                if *skip == 0 {
                    next_key.clear();
                    next_key.extend_from_slice(k);
                    more = true;
                    return false;
                }
                match decode.check_skipped(k, v) {
                    Ok(()) => {
                        *skip -= 1;
                        true
                    }
                    Err(e) => {
                        failure = Some(e);
                        false
                    }
                }
            },
        )?;
        if !more {
            self.skip = 0;
        }
        self.settle(reverse, failure, more);
        Ok(())
    }

    /// Where a scan from one end left the walk: failed at `failure`; or
    /// stopped before the key it left in `next_key` (`more`), which that
    /// end's bound (the lower one from the front) moves to; or at the end
    /// of the range.
    fn settle(&mut self, reverse: bool, failure: Option<Error>, more: bool) {
        match (failure, more) {
            (Some(e), _) => {
                self.failure = Some(e);
                self.failed = true;
                self.drained = true;
            }
            (None, true) => {
                let edge = if reverse {
                    &mut self.upper
                } else {
                    &mut self.lower
                };
                edge.include_swapped(&mut self.next_key);
            }
            (None, false) => self.drained = true,
        }
    }

    /// The next item from one end once its buffer is empty: refills it,
    /// or yields the failure, or takes the other end's items.
    /// [`next_front`](Ranged::next_front) and
    /// [`next_back`](Ranged::next_back) try the buffer first, so the
    /// per-item path is a `Vec::pop` (3–4% fewer instructions on a term
    /// walk and on a page than going through here for every item;
    /// `examples/iter_cost.rs`).
    #[inline]
    fn step(&mut self, reverse: bool) -> Option<Result<I, Error>> {
        loop {
            let (own, other) = if reverse {
                (&mut self.back, &mut self.front)
            } else {
                (&mut self.front, &mut self.back)
            };
            if let Some(item) = own.items.pop() {
                return Some(Ok(item));
            }
            if self.failed {
                // The failure sits between the two buffers: nothing past it.
                return self.failure.take().map(Err);
            }
            if self.drained {
                return other.take_far().map(Ok);
            }
            if let Err(e) = self.fill(reverse) {
                self.failed = true;
                self.drained = true;
                return Some(Err(e));
            }
        }
    }

    #[inline]
    pub(crate) fn next_front(&mut self) -> Option<Result<I, Error>> {
        match self.front.items.pop() {
            Some(item) => Some(Ok(item)),
            None => self.step(false),
        }
    }

    #[inline]
    pub(crate) fn next_back(&mut self) -> Option<Result<I, Error>> {
        match self.back.items.pop() {
            Some(item) => Some(Ok(item)),
            None => self.step(true),
        }
    }
}

/// An empty byte buffer from `tx`'s pool, for a walk's bound: the walk
/// gives it back when dropped.
#[inline]
pub(crate) fn bound_buffer<R: Readable>(tx: &R) -> Vec<u8> {
    take_from(tx.pool())
}

impl<R, D, I> Drop for Ranged<'_, R, D, I> {
    fn drop(&mut self) {
        for buf in [
            std::mem::take(&mut self.lower.bytes),
            std::mem::take(&mut self.upper.bytes),
            std::mem::take(&mut self.next_key),
        ] {
            give_back(self.pool, buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_upper_is_the_first_key_after_the_prefix() {
        let mut end = Vec::new();
        assert_eq!(prefix_upper(b"ab", &mut end), Bound::Excluded(&b"ac"[..]));
        assert_eq!(
            prefix_upper(&[1, 0xFF, 0xFF], &mut end),
            Bound::Excluded(&[2][..])
        );
        assert_eq!(prefix_upper(&[0xFF, 0xFF], &mut end), Bound::Unbounded);
        assert_eq!(prefix_upper(&[], &mut end), Bound::Unbounded);
    }
}
