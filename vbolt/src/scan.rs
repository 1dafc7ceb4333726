//! Walking a bucket in key order: whole-bucket iteration, resumable scans,
//! and batch processing across many transactions.
//!
//! Every resumable function returns the key of the **first entry not yet
//! visited** (`None` when the bucket is exhausted), so passing it back as
//! the start continues exactly where the last call stopped: nothing is
//! skipped, nothing repeated.
//!
//! An entry whose key or value does not unpack stops the walk with
//! [`Error::Decode`] naming it; nothing is skipped.

use std::ops::Bound;

use vpack::Blank;

use crate::bucket::{Bucket, lookup_key};
use crate::db::Db;
use crate::error::Error;
use crate::key::unpack_key;
use crate::tx::{Readable, WriteTx, scratch, try_scan};
use crate::window::Direction;

/// Visits entries from `from` (inclusive) in `direction`, until `visit`
/// returns false; returns the first key not visited.
fn walk<K, V>(
    tx: &impl Readable,
    bucket: &Bucket<K, V>,
    from: Option<&K>,
    direction: Direction,
    mut visit: impl FnMut(K, V) -> bool,
) -> Result<Option<K>, Error>
where
    K: Clone + Blank + PartialEq,
    V: Default,
{
    let mut start = scratch(tx);
    let bound = match from {
        Some(k) if lookup_key(bucket.key, k, &mut start) => Bound::Included(&start[..]),
        // The zero key, or one that cannot be packed: nothing is stored
        // there, so the walk starts at the first key (or ends at the last).
        Some(_) | None => Bound::Unbounded,
    };
    let (lower, upper) = match direction {
        Direction::Forward => (bound, Bound::Unbounded),
        Direction::Reverse => (Bound::Unbounded, bound),
    };
    let mut stopped = false;
    let mut next = None;
    let mut failure = None;
    try_scan(
        tx,
        &bucket.table,
        lower,
        upper,
        direction == Direction::Reverse,
        |k, v| {
            let key = match unpack_key(k, bucket.key) {
                Ok(key) => key,
                Err(e) => {
                    failure = Some(bucket.bad_key(k, e));
                    return false;
                }
            };
            if stopped {
                next = Some(key);
                return false;
            }
            match vpack::from_bytes::<V>(v, bucket.value) {
                Ok(value) => stopped = !visit(key, value),
                Err(e) => {
                    failure = Some(bucket.bad_value(k, e));
                    return false;
                }
            }
            true
        },
    )?;
    match failure {
        Some(e) => Err(e),
        None => Ok(next),
    }
}

/// Visits every entry in ascending key order until `visit` returns `false`.
///
/// ```
/// # use vbolt::*;
/// static SCORES: Bucket<String, u32> = Bucket::new("scores", vpack::key::string_z(), vpack::uint);
/// let db = Db::in_memory()?;
/// let mut tx = db.write_tx()?;
/// write(&mut tx, &SCORES, &"bo".to_string(), &mut 7);
/// write(&mut tx, &SCORES, &"ann".to_string(), &mut 9);
/// let mut seen = Vec::new();
/// iterate_all(&tx, &SCORES, |name, score| {
///     seen.push((name, score));
///     true
/// })?;
/// assert_eq!(seen, [("ann".to_string(), 9), ("bo".to_string(), 7)]);
/// # Ok::<(), vbolt::Error>(())
/// ```
pub fn iterate_all<K, V>(
    tx: &impl Readable,
    bucket: &Bucket<K, V>,
    visit: impl FnMut(K, V) -> bool,
) -> Result<(), Error>
where
    K: Clone + Blank + PartialEq,
    V: Default,
{
    walk(tx, bucket, None, Direction::Forward, visit).map(drop)
}

/// Visits every entry in descending key order until `visit` returns `false`.
pub fn iterate_all_reverse<K, V>(
    tx: &impl Readable,
    bucket: &Bucket<K, V>,
    visit: impl FnMut(K, V) -> bool,
) -> Result<(), Error>
where
    K: Clone + Blank + PartialEq,
    V: Default,
{
    walk(tx, bucket, None, Direction::Reverse, visit).map(drop)
}

/// Visits entries starting at `from` (inclusive) in `direction` until
/// `visit` returns `false`; returns the key of the first entry not visited,
/// or `None` if the walk reached the end.
///
/// ```
/// # use vbolt::*;
/// static N: Bucket<u32, u32> = Bucket::new("n", vpack::key::fuint(), vpack::uint);
/// let db = Db::in_memory()?;
/// let mut tx = db.write_tx()?;
/// for i in 1..=5u32 {
///     write(&mut tx, &N, &i, &mut (i * 10));
/// }
/// let mut seen = Vec::new();
/// let next = iterate_bucket_from(&tx, &N, &2, Direction::Forward, |k, _| {
///     seen.push(k);
///     k < 3 // stop after 3
/// })?;
/// assert_eq!((seen, next), (vec![2, 3], Some(4)));
/// # Ok::<(), vbolt::Error>(())
/// ```
pub fn iterate_bucket_from<K, V>(
    tx: &impl Readable,
    bucket: &Bucket<K, V>,
    from: &K,
    direction: Direction,
    visit: impl FnMut(K, V) -> bool,
) -> Result<Option<K>, Error>
where
    K: Clone + Blank + PartialEq,
    V: Default,
{
    walk(tx, bucket, Some(from), direction, visit)
}

/// Appends up to `limit` values (`None`: every value) in ascending key order,
/// starting at `from` (or the first key), to `list`; returns the key to
/// start the next call at, or `None` when the bucket is exhausted.
///
/// ```
/// # use vbolt::*;
/// static N: Bucket<u32, u32> = Bucket::new("n", vpack::key::fuint(), vpack::uint);
/// let db = Db::in_memory()?;
/// let mut tx = db.write_tx()?;
/// for i in 1..=5u32 {
///     write(&mut tx, &N, &i, &mut (i * 10));
/// }
/// let mut page = Vec::new();
/// let next = scan_list(&tx, &N, None, Some(2), &mut page)?;
/// assert_eq!((page.as_slice(), next), (&[10, 20][..], Some(3)));
/// page.clear();
/// let next = scan_list(&tx, &N, next.as_ref(), None, &mut page)?;
/// assert_eq!((page.as_slice(), next), (&[30, 40, 50][..], None));
/// # Ok::<(), vbolt::Error>(())
/// ```
pub fn scan_list<K, V>(
    tx: &impl Readable,
    bucket: &Bucket<K, V>,
    from: Option<&K>,
    limit: Option<usize>,
    list: &mut Vec<V>,
) -> Result<Option<K>, Error>
where
    K: Clone + Blank + PartialEq,
    V: Default,
{
    let limit = limit.unwrap_or(usize::MAX);
    if limit == 0 {
        // Nothing read: the next call starts where this one would have.
        let mut first = None;
        walk(tx, bucket, from, Direction::Forward, |k, _| {
            first = Some(k);
            false
        })?;
        return Ok(first);
    }
    let mut taken = 0;
    walk(tx, bucket, from, Direction::Forward, |_, v| {
        list.push(v);
        taken += 1;
        taken < limit
    })
}

/// Reads the bucket in batches of `batch_size` entries, each batch in its
/// own read transaction, handing each batch to `f` until it returns `false`.
///
/// Long walks this way never hold one snapshot open for long. Entries
/// written between batches are seen if their key is after the position
/// reached.
pub fn iterate_in_batches<K, V>(
    db: &Db,
    bucket: &Bucket<K, V>,
    batch_size: usize,
    mut f: impl FnMut(&mut Vec<(K, V)>) -> bool,
) -> Result<(), Error>
where
    K: Clone + Blank + PartialEq,
    V: Default,
{
    let batch_size = batch_size.max(1);
    let mut from: Option<K> = None;
    let mut batch = Vec::with_capacity(batch_size);
    loop {
        let tx = db.read_tx()?;
        batch.clear();
        let next = walk(&tx, bucket, from.as_ref(), Direction::Forward, |k, v| {
            batch.push((k, v));
            batch.len() < batch_size
        })?;
        tx.finish()?;
        if batch.is_empty() || !f(&mut batch) {
            return Ok(());
        }
        match next {
            Some(k) => from = Some(k),
            None => return Ok(()),
        }
    }
}

/// Processes every entry of the bucket with `f`, `batch_size` entries per
/// write transaction, committing after each batch; returns how many entries
/// were processed.
///
/// Each batch is read inside its write transaction and then handed entry by
/// entry to `f`, which may write anything, including the entry itself. If a
/// commit fails, processing stops with that error; the batches committed
/// before it stay committed. Because a crash can stop the work between
/// batches, `f` must be idempotent: running it again on an entry already
/// processed must be harmless.
pub fn tx_write_batches<K, V>(
    db: &Db,
    bucket: &Bucket<K, V>,
    batch_size: usize,
    mut f: impl FnMut(&mut WriteTx, K, V),
) -> Result<usize, Error>
where
    K: Clone + Blank + PartialEq,
    V: Default,
{
    let batch_size = batch_size.max(1);
    let mut from: Option<K> = None;
    let mut done = 0;
    let mut batch = Vec::with_capacity(batch_size);
    loop {
        let mut tx = db.write_tx()?;
        let next = walk(&tx, bucket, from.as_ref(), Direction::Forward, |k, v| {
            batch.push((k, v));
            batch.len() < batch_size
        })?;
        let n = batch.len();
        for (k, v) in batch.drain(..) {
            f(&mut tx, k, v);
        }
        tx.commit()?;
        done += n;
        match next {
            Some(k) if n > 0 => from = Some(k),
            _ => return Ok(done),
        }
    }
}
