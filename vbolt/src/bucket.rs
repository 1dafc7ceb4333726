//! Buckets: persisted maps `key -> value`, declared once as a `static` and
//! used through free functions.
//!
//! A bucket is typed by its two pack functions. The key's pack function
//! decides the iteration order (see vpack's table of key encodings); the
//! value's is usually your struct's versioned pack function.
//!
//! ```
//! use vbolt::*;
//!
//! #[derive(Default, Debug, PartialEq)]
//! struct User { name: String, admin: bool }
//!
//! fn pack_user(u: &mut User, buf: &mut vpack::Buffer) {
//!     vpack::version(1, buf);
//!     vpack::string(&mut u.name, buf);
//!     vpack::bool(&mut u.admin, buf);
//! }
//!
//! static USERS: Bucket<u64, User> = Bucket::new("users", vpack::fuint, pack_user);
//!
//! let db = Db::in_memory()?;
//! let mut tx = db.write_tx()?;
//! let id = next_int_id(&mut tx, &USERS);
//! write(&mut tx, &USERS, &id, &mut User { name: "ann".into(), admin: true });
//! tx.commit()?;
//!
//! let tx = db.read_tx()?;
//! let mut user = User::default();
//! assert!(read(&tx, &USERS, &id, &mut user));
//! assert_eq!(user.name, "ann");
//! # Ok::<(), vbolt::Error>(())
//! ```
//!
//! # Zero keys
//!
//! As in the original design, the zero value of the key type (`0`, `""`,
//! the nil UUID) means "no key": reading it finds nothing and writing it
//! writes nothing. This lets a missing id flow through code without checks.

use crate::engine::{TableId, TableKind};
use crate::error::Error;
use crate::tx::sealed::Access;
use crate::tx::{Readable, WriteTx, get, give_back, scan, scratch, sequence, take_from};
use std::borrow::Borrow;
use std::ops::Bound;
use vpack::PackFn;

/// A declared bucket: a persisted map from `K` to `V`.
///
/// Declare it once at module level; no registration is needed before use:
///
/// ```
/// static PASSWORDS: vbolt::Bucket<u64, Vec<u8>> =
///     vbolt::Bucket::new("passwords", vpack::fuint, vpack::bytes);
/// ```
pub struct Bucket<K, V> {
    pub(crate) table: TableId,
    pub(crate) key: PackFn<K>,
    pub(crate) value: PackFn<V>,
}

impl<K, V> Bucket<K, V> {
    /// Declares a bucket named `name` whose keys are packed with `key` and
    /// values with `value`.
    pub const fn new(name: &'static str, key: PackFn<K>, value: PackFn<V>) -> Bucket<K, V> {
        Bucket {
            table: TableId::new(TableKind::Bucket, name),
            key,
            value,
        }
    }

    /// The bucket's name.
    pub fn name(&self) -> &'static str {
        self.table.name()
    }
}

/// Appends the packed key to `out`; false if it is the zero key or cannot
/// be packed.
pub(crate) fn encode_key<K: Clone + Default + PartialEq>(
    pack: PackFn<K>,
    key: &K,
    out: &mut Vec<u8>,
) -> bool {
    *key != K::default() && vpack::append_bytes(&mut key.clone(), pack, out).is_ok()
}

/// Looks `key` up and hands its freshly unpacked value to `take`; false
/// when the key is absent (or zero) or its bytes do not unpack. The value
/// goes from the decoder straight to `take`, with no intermediate copies.
#[inline]
fn fetch<K, V>(tx: &impl Readable, bucket: &Bucket<K, V>, key: &K, take: impl FnOnce(V)) -> bool
where
    K: Clone + Default + PartialEq,
    V: Default,
{
    let mut kb = scratch(tx);
    if !encode_key(bucket.key, key, &mut kb) {
        return false;
    }
    get(tx, &bucket.table, &kb, |bytes| {
        match vpack::from_bytes(bytes, bucket.value) {
            Ok(v) => {
                take(v);
                true
            }
            Err(_) => false,
        }
    })
    .unwrap_or(false)
}

/// Reads the value stored under `key` into `item`.
///
/// Returns `true` and replaces `*item` when the key exists and its value
/// unpacks; returns `false` and leaves `*item` untouched when the key is
/// absent (or zero), or the stored bytes do not unpack.
#[inline]
pub fn read<K, V>(
    tx: &impl Readable,
    bucket: &Bucket<K, V>,
    key: impl Borrow<K>,
    item: &mut V,
) -> bool
where
    K: Clone + Default + PartialEq,
    V: Default,
{
    fetch(tx, bucket, key.borrow(), |v| *item = v)
}

/// True if `key` has a value in the bucket (the value is not unpacked).
pub fn has_key<K, V>(tx: &impl Readable, bucket: &Bucket<K, V>, key: impl Borrow<K>) -> bool
where
    K: Clone + Default + PartialEq,
{
    let mut kb = scratch(tx);
    encode_key(bucket.key, key.borrow(), &mut kb) && get(tx, &bucket.table, &kb, |_| ()).is_some()
}

/// Reads the value under `key` and appends it to `list`; returns whether it
/// was found.
pub fn read_append<K, V>(
    tx: &impl Readable,
    bucket: &Bucket<K, V>,
    key: impl Borrow<K>,
    list: &mut Vec<V>,
) -> bool
where
    K: Clone + Default + PartialEq,
    V: Default,
{
    fetch(tx, bucket, key.borrow(), |v| list.push(v))
}

/// Reads the value under `key` and inserts `(key, value)` into `map` (any
/// `Extend`, such as a `HashMap` or `BTreeMap`); returns whether it was found.
pub fn read_to_map<K, V>(
    tx: &impl Readable,
    bucket: &Bucket<K, V>,
    key: impl Borrow<K>,
    map: &mut impl Extend<(K, V)>,
) -> bool
where
    K: Clone + Default + PartialEq,
    V: Default,
{
    let key = key.borrow();
    fetch(tx, bucket, key, |v| map.extend(Some((key.clone(), v))))
}

/// Reads the values of `keys`, in order, appending those found to `list`;
/// returns how many were found.
///
/// ```
/// # use vbolt::*;
/// static SQUARES: Bucket<u64, u64> = Bucket::new("squares", vpack::fuint, vpack::uint);
/// let db = Db::in_memory()?;
/// let mut tx = db.write_tx()?;
/// for n in 1..=3u64 {
///     write(&mut tx, &SQUARES, &n, &mut (n * n));
/// }
/// let mut found = Vec::new();
/// assert_eq!(read_slice(&tx, &SQUARES, &[3, 7, 1], &mut found), 2);
/// assert_eq!(found, [9, 1]);
/// # Ok::<(), vbolt::Error>(())
/// ```
pub fn read_slice<K, V>(
    tx: &impl Readable,
    bucket: &Bucket<K, V>,
    keys: &[K],
    list: &mut Vec<V>,
) -> usize
where
    K: Clone + Default + PartialEq,
    V: Default,
{
    keys.iter()
        .filter(|k| read_append(tx, bucket, *k, list))
        .count()
}

/// Reads the values of `keys` into `map` as `(key, value)` pairs; returns
/// how many were found.
pub fn read_slice_to_map<K, V>(
    tx: &impl Readable,
    bucket: &Bucket<K, V>,
    keys: &[K],
    map: &mut impl Extend<(K, V)>,
) -> usize
where
    K: Clone + Default + PartialEq,
    V: Default,
{
    keys.iter()
        .filter(|k| read_to_map(tx, bucket, *k, map))
        .count()
}

/// Packs a key and value into the transaction's reusable buffers and hands
/// them to `apply`; a packing failure fails the transaction instead.
fn with_encoded<K, V>(
    tx: &mut WriteTx,
    bucket: &Bucket<K, V>,
    key: impl Borrow<K>,
    value: Option<&mut V>,
    apply: impl FnOnce(&mut WriteTx, &[u8], &[u8]),
) where
    K: Clone + Default + PartialEq,
{
    let key = key.borrow();
    if *key == K::default() || !tx.is_ok() {
        return;
    }
    let mut kb = take_from(tx.pool());
    let mut vb = take_from(tx.pool());
    let packed = vpack::append_bytes(&mut key.clone(), bucket.key, &mut kb)
        .and_then(|_| value.map_or(Ok(0), |v| vpack::append_bytes(v, bucket.value, &mut vb)));
    match packed {
        Ok(_) => apply(tx, &kb, &vb),
        Err(source) => tx.fail(Error::Encode {
            table: bucket.name(),
            source,
        }),
    }
    give_back(tx.pool(), kb);
    give_back(tx.pool(), vb);
}

/// Writes `value` under `key`, replacing any previous value.
///
/// A zero key writes nothing. A key or value that cannot be packed fails the
/// transaction (see the [error model](crate#errors)).
pub fn write<K, V>(tx: &mut WriteTx, bucket: &Bucket<K, V>, key: impl Borrow<K>, value: &mut V)
where
    K: Clone + Default + PartialEq,
{
    let table = &bucket.table;
    with_encoded(tx, bucket, key.borrow(), Some(value), |tx, k, v| {
        tx.put(table, k, v)
    });
}

/// Removes `key` and its value (nothing happens if it is absent).
pub fn delete<K, V>(tx: &mut WriteTx, bucket: &Bucket<K, V>, key: impl Borrow<K>)
where
    K: Clone + Default + PartialEq,
{
    let table = &bucket.table;
    with_encoded(tx, bucket, key.borrow(), None, |tx, k, _| {
        tx.delete(table, k);
    });
}

/// Returns the next id of the bucket's sequence (1, 2, 3...), committed
/// with the transaction.
///
/// Returns the zero key (which writes nothing) if the transaction has failed
/// or the id does not fit `K`; the failure is recorded.
///
/// ```
/// # use vbolt::*;
/// static NOTES: Bucket<i64, String> = Bucket::new("notes", vpack::fint, vpack::string);
/// let db = Db::in_memory()?;
/// let mut tx = db.write_tx()?;
/// assert_eq!(next_int_id(&mut tx, &NOTES), 1);
/// assert_eq!(next_int_id(&mut tx, &NOTES), 2);
/// # Ok::<(), vbolt::Error>(())
/// ```
pub fn next_int_id<K, V>(tx: &mut WriteTx, bucket: &Bucket<K, V>) -> K
where
    K: TryFrom<u64> + Default,
{
    if !tx.is_ok() {
        return K::default();
    }
    let next = sequence(tx, &bucket.table).saturating_add(1);
    match K::try_from(next) {
        Ok(id) if tx.is_ok() => {
            tx.set_sequence(&bucket.table, next);
            id
        }
        Ok(_) => K::default(),
        Err(_) => {
            tx.fail(Error::Engine(format!(
                "the id sequence of {} overflowed its key type",
                bucket.name()
            )));
            K::default()
        }
    }
}

/// Raises the bucket's sequence to its largest key, for buckets whose ids
/// were also written directly (imports, restores); returns the sequence.
///
/// The largest key is the last in key order, so the key must use an
/// order-preserving encoding (`fuint`, `fint` with non-negative ids,
/// `fint_ord`). The sequence never goes down, so deleted ids are not reused.
pub fn raw_set_sequence_correctly<K, V>(tx: &mut WriteTx, bucket: &Bucket<K, V>) -> u64
where
    K: TryInto<u64> + Default,
{
    let current = sequence(tx, &bucket.table);
    let mut last = None;
    scan(
        tx,
        &bucket.table,
        Bound::Unbounded,
        Bound::Unbounded,
        true,
        |k, _| {
            last = vpack::from_bytes::<K>(k, bucket.key)
                .ok()
                .and_then(|k| k.try_into().ok());
            last.is_none()
        },
    );
    let target = current.max(last.unwrap_or(0));
    if target != current {
        tx.set_sequence(&bucket.table, target);
    }
    target
}
