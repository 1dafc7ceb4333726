//! Reading an index: a term's targets through a [`Window`] (with the next
//! page's cursor), a term's first target and count, a target's terms, and
//! every term with its count. These are the callback forms; the iterators
//! over the same walks are in `iter.rs`.

use std::ops::Bound;

use vpack::Blank;

use super::Index;
use super::layout::{count_of, cursor_position, cursor_tag, make_cursor, split_term_entry};
use crate::error::Error;
use crate::key::{AsKey, unpack_key};
use crate::range::prefix_upper;
use crate::tx::{Readable, scratch, try_get, try_scan};
use crate::window::{Cursor, Direction, Window};

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
    if let Some(position) = cursor_position(index.name(), &tag, window.get_cursor())? {
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
    Ok(Some(make_cursor(&tag, &last)))
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
/// static TAGGED: Index<u8, u32> = Index::new("tagged", vpack::key::byte(), vpack::key::fuint());
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
