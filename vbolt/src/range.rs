//! Ranges of packed keys, and a walk over one that can be resumed.
//!
//! [`Edge`] is an owned bound; [`prefix_upper`] turns "every key starting
//! with these bytes" into a range. [`Ranged`] walks a range in chunks from
//! both ends: each refill is one engine scan that decodes up to a chunk of
//! entries into a buffer, remembering the last key taken, so nothing
//! borrows the engine between two items. That is what lets an iterator live
//! as long as its transaction, in a read or a write transaction alike.
//!
//! Chunks start small (a `take(3)` decodes little more than 3 entries) and
//! grow to [`MAX_CHUNK`], so a long walk costs one range lookup per
//! `MAX_CHUNK` entries.

use std::collections::VecDeque;
use std::ops::{Bound, Range};

use crate::engine::TableId;
use crate::error::Error;
use crate::tx::{Readable, try_scan};

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

/// An owned bound on packed keys, its buffer reused as it moves.
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

    /// A bound copied from a borrowed one.
    pub(crate) fn from_bound(b: Bound<&[u8]>) -> Edge {
        let mut e = Edge::default();
        match b {
            Bound::Unbounded => {}
            Bound::Included(k) => e.set(EdgeKind::Included, k),
            Bound::Excluded(k) => e.set(EdgeKind::Excluded, k),
        }
        e
    }

    fn set(&mut self, kind: EdgeKind, key: &[u8]) {
        self.kind = kind;
        self.bytes.clear();
        self.bytes.extend_from_slice(key);
    }

    /// Moves the bound to just past `key` (exclusive).
    fn exclude(&mut self, key: &[u8]) {
        self.set(EdgeKind::Excluded, key);
    }

    fn bound(&self) -> Bound<&[u8]> {
        match self.kind {
            EdgeKind::Open => Bound::Unbounded,
            EdgeKind::Included => Bound::Included(&self.bytes),
            EdgeKind::Excluded => Bound::Excluded(&self.bytes),
        }
    }

    /// True if `key` is on the inner side of this bound taken as an upper
    /// bound.
    fn admits_below(&self, key: &[u8]) -> bool {
        match self.kind {
            EdgeKind::Open => true,
            EdgeKind::Included => key <= &self.bytes[..],
            EdgeKind::Excluded => key < &self.bytes[..],
        }
    }

    /// True if `key` is on the inner side of this bound taken as a lower
    /// bound.
    fn admits_above(&self, key: &[u8]) -> bool {
        match self.kind {
            EdgeKind::Open => true,
            EdgeKind::Included => key >= &self.bytes[..],
            EdgeKind::Excluded => key > &self.bytes[..],
        }
    }
}

/// Turns one stored entry into an item.
pub(crate) trait Decode {
    /// What the walk yields.
    type Item;
    /// Decodes the entry stored under `key`.
    fn decode(&self, key: &[u8], value: &[u8]) -> Result<Self::Item, Error>;
}

/// Decoded entries of one end of the walk, with their keys.
struct Side<I> {
    items: VecDeque<(I, Range<usize>)>,
    /// A failure met after the buffered items: yielded once they are.
    failure: Option<Error>,
    keys: Vec<u8>,
    /// The key of the item this end yielded last (a span of `keys`): the
    /// end's position, moved into its bound only when it refills.
    last: Option<Range<usize>>,
    /// The last fill reached the far bound: nothing lies beyond the buffer.
    ended: bool,
    /// This end has been read from (so the other end must check its items
    /// against it).
    used: bool,
    chunk: usize,
}

impl<I> Side<I> {
    fn new(chunk: usize) -> Side<I> {
        Side {
            items: VecDeque::new(),
            failure: None,
            keys: Vec::new(),
            last: None,
            ended: false,
            used: false,
            chunk,
        }
    }

    /// The key of the item this end yielded last.
    fn position(&self) -> Option<&[u8]> {
        self.last.clone().map(|span| &self.keys[span])
    }
}

/// A resumable walk over the entries of `table` between two bounds,
/// from either end.
pub(crate) struct Ranged<'t, R, D, I> {
    tx: &'t R,
    table: &'t TableId,
    decode: D,
    lower: Edge,
    upper: Edge,
    front: Side<I>,
    back: Side<I>,
    finished: bool,
}

impl<'t, R: Readable, I, D: Decode<Item = I>> Ranged<'t, R, D, I> {
    pub(crate) fn new(tx: &'t R, table: &'t TableId, decode: D, lower: Edge, upper: Edge) -> Self {
        Ranged {
            tx,
            table,
            decode,
            lower,
            upper,
            front: Side::new(FIRST_CHUNK),
            back: Side::new(FIRST_CHUNK),
            finished: false,
        }
    }

    /// A walk that yields `e` once and ends.
    pub(crate) fn failed(tx: &'t R, table: &'t TableId, decode: D, e: Error) -> Self {
        let mut r = Ranged::new(tx, table, decode, Edge::open(), Edge::open());
        r.front.failure = Some(e);
        r.front.ended = true;
        r
    }

    /// This walk, yielding nothing.
    pub(crate) fn emptied(mut self) -> Self {
        self.finished = true;
        self
    }

    /// Sizes the first chunk of both ends to what the caller expects to
    /// take (a page's limit), so a page costs one engine scan.
    pub(crate) fn expecting(mut self, n: usize) -> Self {
        let first = n.saturating_add(1).clamp(1, MAX_CHUNK);
        self.front.chunk = first;
        self.back.chunk = first;
        self
    }

    /// Refills one side with the next chunk in its direction.
    fn fill(&mut self, reverse: bool) -> Result<(), Error> {
        let side = if reverse {
            &mut self.back
        } else {
            &mut self.front
        };
        // The end's position becomes its bound before its keys are dropped.
        if let Some(span) = side.last.take() {
            let edge = if reverse {
                &mut self.upper
            } else {
                &mut self.lower
            };
            edge.exclude(&side.keys[span]);
        }
        side.items.clear();
        side.keys.clear();
        let want = side.chunk;
        side.items.reserve(want);
        side.keys.reserve(want * 16);
        side.chunk = (side.chunk * 2).min(MAX_CHUNK);
        let decode = &self.decode;
        let mut taken = 0;
        let mut stopped = false;
        try_scan(
            self.tx,
            self.table,
            self.lower.bound(),
            self.upper.bound(),
            reverse,
            |k, v| {
                if taken == want {
                    stopped = true;
                    return false;
                }
                match decode.decode(k, v) {
                    Ok(item) => {
                        let start = side.keys.len();
                        side.keys.extend_from_slice(k);
                        side.items.push_back((item, start..side.keys.len()));
                        taken += 1;
                        true
                    }
                    Err(e) => {
                        // A failure ends the walk: nothing after it is read.
                        side.failure = Some(e);
                        false
                    }
                }
            },
        )?;
        side.ended = !stopped;
        Ok(())
    }

    /// The next item from one end.
    #[inline]
    fn step(&mut self, reverse: bool) -> Option<Result<I, Error>> {
        loop {
            if self.finished {
                return None;
            }
            let (side, other, far) = if reverse {
                (&mut self.back, &self.front, &self.lower)
            } else {
                (&mut self.front, &self.back, &self.upper)
            };
            side.used = true;
            if let Some((item, span)) = side.items.pop_front() {
                // Only once the other end has moved can this end's buffer
                // hold items it already yielded.
                if other.used {
                    let key = &side.keys[span.clone()];
                    let inside = match other.position() {
                        Some(pos) if reverse => key > pos,
                        Some(pos) => key < pos,
                        None if reverse => far.admits_above(key),
                        None => far.admits_below(key),
                    };
                    if !inside {
                        self.finished = true;
                        return None;
                    }
                }
                side.last = Some(span);
                return Some(Ok(item));
            }
            if let Some(e) = side.failure.take() {
                self.finished = true;
                return Some(Err(e));
            }
            if side.ended {
                self.finished = true;
                return None;
            }
            if let Err(e) = self.fill(reverse) {
                self.finished = true;
                return Some(Err(e));
            }
        }
    }

    pub(crate) fn next_front(&mut self) -> Option<Result<I, Error>> {
        self.step(false)
    }

    pub(crate) fn next_back(&mut self) -> Option<Result<I, Error>> {
        self.step(true)
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

    #[test]
    fn edges_admit_what_their_bound_admits() {
        let inc = Edge::from_bound(Bound::Included(b"m"));
        let exc = Edge::from_bound(Bound::Excluded(b"m"));
        assert!(inc.admits_below(b"m") && !exc.admits_below(b"m"));
        assert!(inc.admits_above(b"m") && !exc.admits_above(b"m"));
        assert!(exc.admits_below(b"l") && exc.admits_above(b"n"));
        assert!(Edge::open().admits_below(&[0xFF; 9]));
    }
}
