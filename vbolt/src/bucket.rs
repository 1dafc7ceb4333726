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
//! static USERS: Bucket<u64, User> = Bucket::new("users", vpack::key::fuint(), pack_user);
//!
//! let db = Db::in_memory()?;
//! let mut tx = db.write_tx()?;
//! let id = next_int_id(&mut tx, &USERS);
//! write(&mut tx, &USERS, id, &mut User { name: "ann".into(), admin: true });
//! tx.commit()?;
//!
//! let tx = db.read_tx()?;
//! let user = get(&tx, &USERS, id)?.expect("just written");
//! assert_eq!(user.name, "ann");
//! assert_eq!(get(&tx, &USERS, id + 1)?, None);
//! # Ok::<(), vbolt::Error>(())
//! ```
//!
//! Reads return `Result`: `Ok(None)` is "no such key"; a value that is
//! stored but does not unpack is [`Error::Decode`], naming the bucket and
//! the key. Keys follow the [zero-key rule](crate#keys).
use crate::engine::{TableId, TableKind};
use crate::error::Error;
use crate::hub::Space;
use crate::key::{AsKey, pack_nonzero, unpack_key};
use crate::tx::sealed::Access;
use crate::tx::{
    Readable, WriteTx, batches_reads, give_back, scan, scratch, sequence, take_from, try_get,
    try_get_many,
};
use std::ops::Bound;
use vpack::{Blank, KeyFn, Pack, PackFn, PackKey, Shape};

/// A declared bucket: a persisted map from `K` to `V`.
///
/// Declare it once at module level; no registration is needed before use:
///
/// ```
/// static PASSWORDS: vbolt::Bucket<u64, Vec<u8>> =
///     vbolt::Bucket::new("passwords", vpack::key::fuint(), vpack::bytes);
/// ```
pub struct Bucket<K, V> {
    pub(crate) table: TableId,
    pub(crate) key: PackFn<K>,
    pub(crate) value: PackFn<V>,
    /// What the key's and (when declared by type) the value's bytes hold,
    /// for the file's catalog.
    pub(crate) key_shape: fn() -> Shape,
    pub(crate) value_shape: Option<fn() -> Shape>,
}

impl<K, V> Bucket<K, V> {
    /// Declares a bucket named `name` whose keys are packed with `key` and
    /// values with `value`. The key encoding decides the iteration order,
    /// so it is a [`vpack::KeyFn`], whose bytes sort like `K`'s `Ord`:
    /// `vpack::key::ordered()` for the key type's own, or another from
    /// [`vpack::key`]. A value encoding does not compile here:
    ///
    /// ```compile_fail
    /// // vpack::string writes the length first: "b" would sort before "aa".
    /// static TAGS: vbolt::Bucket<String, u64> =
    ///     vbolt::Bucket::new("tags", vpack::string, vpack::uint);
    /// ```
    ///
    /// ```
    /// static TAGS: vbolt::Bucket<String, u64> =
    ///     vbolt::Bucket::new("tags", vpack::key::ordered(), vpack::uint);
    /// ```
    pub const fn new(name: &'static str, key: KeyFn<K>, value: PackFn<V>) -> Bucket<K, V> {
        Bucket {
            table: TableId::new(TableKind::Bucket, name),
            key: key.pack(),
            value,
            key_shape: key.shape_fn(),
            value_shape: None,
        }
    }

    /// Declares a bucket whose types decide both encodings: keys by `K`'s
    /// own key encoding ([`vpack::PackKey`]), values by `V`'s
    /// [`vpack::Pack`]. Because the encodings are the types', vbolt also
    /// knows what they hold ([`vpack::Pack::describe`]):
    /// [`init_buckets`](crate::init_buckets) records that in the file,
    /// refuses a program whose declaration no longer matches it, and the
    /// `vbolt` tool shows the values.
    ///
    /// ```
    /// use vbolt::*;
    /// use vpack::Pack;
    ///
    /// #[derive(Pack, Debug, PartialEq)]
    /// #[pack(version = 1)]
    /// struct Bookmark { url: String, title: String }
    ///
    /// static BOOKMARKS: Bucket<u64, Bookmark> = Bucket::of("bookmarks");
    /// static INFO: Info = Info::new(&[&BOOKMARKS]);
    ///
    /// let db = Db::in_memory()?;
    /// ensure_buckets(&db, &INFO)?;
    /// db.update(|tx| {
    ///     write(tx, &BOOKMARKS, 1, &mut Bookmark { url: "https://example.com".into(), title: "Example".into() });
    ///     Ok::<_, Error>(())
    /// })?;
    /// # Ok::<(), vbolt::Error>(())
    /// ```
    pub const fn of(name: &'static str) -> Bucket<K, V>
    where
        K: PackKey,
        V: Pack,
    {
        Bucket::of_key(name, K::KEY)
    }

    /// [`Bucket::of`] with another key encoding than `K`'s own (a
    /// [`vpack::KeyFn`] from [`vpack::key`]); values by `V`'s
    /// [`vpack::Pack`], described.
    pub const fn of_key(name: &'static str, key: KeyFn<K>) -> Bucket<K, V>
    where
        V: Pack,
    {
        Bucket {
            table: TableId::new(TableKind::Bucket, name),
            key: key.pack(),
            value: V::pack,
            key_shape: key.shape_fn(),
            value_shape: Some(V::describe),
        }
    }

    /// The bucket's name.
    pub fn name(&self) -> &'static str {
        self.table.name()
    }

    /// [`Error::Decode`] for this bucket's value under the packed `key`.
    pub(crate) fn bad_value(&self, key: &[u8], source: vpack::Error) -> Error {
        Error::Decode {
            table: self.name(),
            part: "value",
            key: key.to_vec(),
            source,
        }
    }

    /// [`Error::Decode`] for a stored key of this bucket.
    pub(crate) fn bad_key(&self, key: &[u8], source: vpack::Error) -> Error {
        Error::Decode {
            table: self.name(),
            part: "key",
            key: key.to_vec(),
            source,
        }
    }
}

/// Packs `key` into `out`; false for the zero key and for a key that
/// cannot be packed (neither can be stored, so a read finds nothing).
#[inline]
pub(crate) fn lookup_key<K>(pack: PackFn<K>, key: impl AsKey<K>, out: &mut Vec<u8>) -> bool {
    matches!(pack_nonzero(key, pack, out), Ok(true))
}

/// Looks `key` up and hands its freshly unpacked value to `take`;
/// `Ok(false)` when the key is absent (or zero). The value goes from the
/// decoder straight to `take`, with no intermediate copies.
#[inline]
fn fetch<K, V: Default>(
    tx: &impl Readable,
    bucket: &Bucket<K, V>,
    key: impl AsKey<K>,
    take: impl FnOnce(V),
) -> Result<bool, Error> {
    let mut kb = scratch(tx);
    if !lookup_key(bucket.key, key, &mut kb) {
        return Ok(false);
    }
    match try_get(tx, &bucket.table, &kb, |bytes| {
        vpack::from_bytes(bytes, bucket.value).map(take)
    })? {
        None => Ok(false),
        Some(Ok(())) => Ok(true),
        Some(Err(e)) => Err(bucket.bad_value(&kb, e)),
    }
}

/// The value stored under `key`: `Ok(None)` when there is none (and for
/// the zero key), [`Error::Decode`] when it is stored but does not unpack.
///
/// ```
/// # use vbolt::*;
/// static HANDLES: Bucket<String, u64> = Bucket::new("handles", vpack::key::string_z(), vpack::uint);
/// let db = Db::in_memory()?;
/// let mut tx = db.write_tx()?;
/// write(&mut tx, &HANDLES, "ann", &mut 1);
/// assert_eq!(get(&tx, &HANDLES, "ann")?, Some(1)); // a &str for a String key
/// assert_eq!(get(&tx, &HANDLES, "bo")?, None);
/// # Ok::<(), vbolt::Error>(())
/// ```
#[inline]
pub fn get<K, V: Default>(
    tx: &impl Readable,
    bucket: &Bucket<K, V>,
    key: impl AsKey<K>,
) -> Result<Option<V>, Error> {
    let mut value = None;
    fetch(tx, bucket, key, |v| value = Some(v))?;
    Ok(value)
}

/// Reads the value stored under `key` into `item` (the fill-in form of
/// [`get`]): `true` when found.
///
/// Returns `false` and leaves `*item` untouched when the key is absent
/// (or zero). A failure (a value that does not unpack, an engine error) is
/// not "absent": it is recorded in the transaction, so
/// [`WriteTx::commit`], [`ReadTx::finish`](crate::ReadTx::finish) and
/// [`Db::view`](crate::Db::view) return it, and `false` is returned. Use
/// [`get`] to handle the error at the call.
#[inline]
pub fn read<K, V: Default>(
    tx: &impl Readable,
    bucket: &Bucket<K, V>,
    key: impl AsKey<K>,
    item: &mut V,
) -> bool {
    match fetch(tx, bucket, key, |v| *item = v) {
        Ok(found) => found,
        Err(e) => {
            tx.record(e);
            false
        }
    }
}

/// True if `key` has a value in the bucket (the value is not unpacked).
pub fn has_key<K, V>(
    tx: &impl Readable,
    bucket: &Bucket<K, V>,
    key: impl AsKey<K>,
) -> Result<bool, Error> {
    let mut kb = scratch(tx);
    if !lookup_key(bucket.key, key, &mut kb) {
        return Ok(false);
    }
    Ok(try_get(tx, &bucket.table, &kb, |_| ())?.is_some())
}

/// Reads the value under `key` and appends it to `list`; `Ok(true)` if it
/// was found.
pub fn read_append<K, V: Default>(
    tx: &impl Readable,
    bucket: &Bucket<K, V>,
    key: impl AsKey<K>,
    list: &mut Vec<V>,
) -> Result<bool, Error> {
    fetch(tx, bucket, key, |v| list.push(v))
}

/// Reads the value under `key` and inserts `(key, value)` into `map` (any
/// `Extend`, such as a `HashMap` or `BTreeMap`); `Ok(true)` if it was found.
pub fn read_to_map<K, V>(
    tx: &impl Readable,
    bucket: &Bucket<K, V>,
    key: &K,
    map: &mut impl Extend<(K, V)>,
) -> Result<bool, Error>
where
    K: Clone + Blank + PartialEq,
    V: Default,
{
    fetch(tx, bucket, key, |v| map.extend(Some((key.clone(), v))))
}

/// Reads the values of `keys`, in order, appending those found to `list`;
/// returns how many were found. Any key form works (`&[u64]`, a `Vec` of
/// ids, an iterator of `&str`).
///
/// ```
/// # use vbolt::*;
/// static SQUARES: Bucket<u64, u64> = Bucket::new("squares", vpack::key::fuint(), vpack::uint);
/// let db = Db::in_memory()?;
/// let mut tx = db.write_tx()?;
/// for n in 1..=3u64 {
///     write(&mut tx, &SQUARES, n, &mut (n * n));
/// }
/// let mut found = Vec::new();
/// assert_eq!(read_slice(&tx, &SQUARES, &[3, 7, 1], &mut found)?, 2);
/// assert_eq!(found, [9, 1]);
/// # Ok::<(), vbolt::Error>(())
/// ```
pub fn read_slice<K, V: Default, A: AsKey<K>>(
    tx: &impl Readable,
    bucket: &Bucket<K, V>,
    keys: impl IntoIterator<Item = A>,
    list: &mut Vec<V>,
) -> Result<usize, Error> {
    if batches_reads(tx) {
        return read_slice_batched(tx, bucket, keys, list);
    }
    let mut found = 0;
    for key in keys {
        found += usize::from(read_append(tx, bucket, key, list)?);
    }
    Ok(found)
}

/// [`read_slice`] on an engine whose reads are round trips: every key
/// packed first, then one multi-key read.
fn read_slice_batched<K, V: Default, A: AsKey<K>>(
    tx: &impl Readable,
    bucket: &Bucket<K, V>,
    keys: impl IntoIterator<Item = A>,
    list: &mut Vec<V>,
) -> Result<usize, Error> {
    let packed: Vec<Vec<u8>> = keys
        .into_iter()
        .filter_map(|key| {
            let mut kb = Vec::new();
            lookup_key(bucket.key, key, &mut kb).then_some(kb)
        })
        .collect();
    let refs: Vec<&[u8]> = packed.iter().map(Vec::as_slice).collect();
    let (mut found, mut failed) = (0, None);
    try_get_many(tx, &bucket.table, &refs, |i, bytes| {
        if failed.is_some() {
            return;
        }
        match vpack::from_bytes(bytes, bucket.value) {
            Ok(v) => {
                list.push(v);
                found += 1;
            }
            Err(e) => failed = Some(bucket.bad_value(&packed[i], e)),
        }
    })?;
    match failed {
        Some(e) => Err(e),
        None => Ok(found),
    }
}

/// Reads the values of `keys` into `map` as `(key, value)` pairs; returns
/// how many were found.
pub fn read_slice_to_map<K, V>(
    tx: &impl Readable,
    bucket: &Bucket<K, V>,
    keys: &[K],
    map: &mut impl Extend<(K, V)>,
) -> Result<usize, Error>
where
    K: Clone + Blank + PartialEq,
    V: Default,
{
    let mut found = 0;
    for key in keys {
        found += usize::from(read_to_map(tx, bucket, key, map)?);
    }
    Ok(found)
}

/// Packs a key and value into the transaction's reusable buffers and hands
/// them to `apply`. The zero key, a key or value that cannot be packed,
/// and a finished transaction fail the transaction instead.
fn with_encoded<K, V>(
    tx: &mut WriteTx,
    bucket: &Bucket<K, V>,
    key: impl AsKey<K>,
    value: Option<&mut V>,
    apply: impl FnOnce(&mut WriteTx, &[u8], &[u8]),
) {
    if !tx.can_write() {
        return;
    }
    let mut kb = take_from(tx.pool());
    let mut vb = take_from(tx.pool());
    let packed = pack_nonzero(key, bucket.key, &mut kb).and_then(|nonzero| {
        value
            .map_or(Ok(0), |v| vpack::append_bytes(v, bucket.value, &mut vb))
            .map(|_| nonzero)
    });
    match packed {
        Ok(true) => apply(tx, &kb, &vb),
        Ok(false) => tx.fail(Error::ZeroKey {
            table: bucket.name(),
        }),
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
/// The zero key, a key or value that cannot be packed, and a write after
/// commit fail the transaction (see the [error model](crate#errors)).
pub fn write<K, V>(tx: &mut WriteTx, bucket: &Bucket<K, V>, key: impl AsKey<K>, value: &mut V) {
    let table = &bucket.table;
    with_encoded(tx, bucket, key, Some(value), |tx, k, v| {
        tx.put(table, k, v);
        tx.touched(Space::BucketKey, bucket.name(), k);
    });
}

/// Removes `key` and its value (nothing happens if it is absent; the zero
/// key fails the transaction, as in [`write()`]).
pub fn delete<K, V>(tx: &mut WriteTx, bucket: &Bucket<K, V>, key: impl AsKey<K>) {
    let table = &bucket.table;
    with_encoded(tx, bucket, key, None, |tx, k, _| {
        tx.delete(table, k);
        tx.touched(Space::BucketKey, bucket.name(), k);
    });
}

/// Returns the next id of the bucket's sequence (1, 2, 3...), committed
/// with the transaction.
///
/// If the transaction has failed or was committed, or the id does not fit
/// `K` ([`Error::SequenceOverflow`]), the failure is recorded and the zero
/// key is returned (writing under it fails too, so nothing is stored under
/// a wrong id).
///
/// ```
/// # use vbolt::*;
/// static NOTES: Bucket<i64, String> = Bucket::new("notes", vpack::key::fint_non_negative(), vpack::string);
/// let db = Db::in_memory()?;
/// let mut tx = db.write_tx()?;
/// assert_eq!(next_int_id(&mut tx, &NOTES), 1);
/// assert_eq!(next_int_id(&mut tx, &NOTES), 2);
/// # Ok::<(), vbolt::Error>(())
/// ```
pub fn next_int_id<K, V>(tx: &mut WriteTx, bucket: &Bucket<K, V>) -> K
where
    K: TryFrom<u64> + Blank,
{
    if !tx.can_write() {
        return K::blank();
    }
    let next = sequence(tx, &bucket.table).saturating_add(1);
    match K::try_from(next) {
        Ok(id) if tx.is_ok() => {
            tx.set_sequence(&bucket.table, next);
            id
        }
        Ok(_) => K::blank(),
        Err(_) => {
            tx.fail(Error::SequenceOverflow {
                bucket: bucket.name(),
            });
            K::blank()
        }
    }
}

/// Raises the bucket's sequence to its largest key, for buckets whose ids
/// were also written directly (imports, restores); returns the sequence.
///
/// The largest key is the last in key order, so the key must use an
/// order-preserving encoding (`fuint`, `fint` with non-negative ids,
/// `fint_ord`). The sequence never goes down, so deleted ids are not reused.
/// A last key that does not unpack fails the transaction.
#[doc(alias = "raw_set_sequence_correctly")]
pub fn raise_sequence<K, V>(tx: &mut WriteTx, bucket: &Bucket<K, V>) -> u64
where
    K: TryInto<u64> + Blank,
{
    if !tx.can_write() {
        return 0;
    }
    let current = sequence(tx, &bucket.table);
    let mut last = Ok(None);
    scan(
        tx,
        &bucket.table,
        Bound::Unbounded,
        Bound::Unbounded,
        true,
        |k, _| {
            last = unpack_key(k, bucket.key)
                .map(|key| key.try_into().ok())
                .map_err(|e| bucket.bad_key(k, e));
            false
        },
    );
    match last {
        Ok(last) => {
            let target = current.max(last.unwrap_or(0));
            if target != current {
                tx.set_sequence(&bucket.table, target);
            }
            target
        }
        Err(e) => {
            tx.fail(e);
            current
        }
    }
}
