//! Composite values: [`vec`], [`btree_map`], [`hash_map`], [`option`],
//! and [`uuid`](fn@uuid).
//!
//! Composites take the pack function of their elements as an argument, so a
//! `Vec<Author>` is packed with `vpack::vec(&mut v, buf, pack_author)`.
//!
//! Lengths are zig-zag varints, as in Go. On read, a length larger than the
//! bytes left is rejected before anything is allocated: every element must
//! take at least one byte, which every vpack encoding does.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

use crate::buffer::{Buffer, reservable, reset_for};
use crate::error::ErrorKind;
use crate::fixed::{array, bool};
use crate::varint::length;

/// Packs a `Vec<T>` as its length followed by each element packed with
/// `item`.
///
/// On read the vector is cleared and refilled with fresh `T::default()`
/// values unpacked by `item`.
///
/// ```
/// let mut v = vec![1i64, 2, 300, -5];
/// let bytes = vpack::to_bytes(&mut v, |v, buf| vpack::vec(v, buf, vpack::int)).unwrap();
/// assert_eq!(bytes, [0x08, 0x02, 0x04, 0xd8, 0x04, 0x09]);
/// ```
#[doc(alias = "Slice")]
#[inline]
pub fn vec<T: Default>(v: &mut Vec<T>, buf: &mut Buffer, item: impl FnMut(&mut T, &mut Buffer)) {
    vec_of(v, buf, item, T::default)
}

/// [`vec`] with the value each element is read into made by `blank`.
#[inline]
pub(crate) fn vec_of<T>(
    v: &mut Vec<T>,
    buf: &mut Buffer,
    mut item: impl FnMut(&mut T, &mut Buffer),
    blank: impl Fn() -> T,
) {
    let Some(len) = length(v.len(), buf) else {
        return;
    };
    if !buf.enter() {
        return;
    }
    if buf.is_writing() {
        for x in v.iter_mut() {
            item(x, buf);
        }
    } else {
        reset_for(v, len, buf.remaining());
        for _ in 0..len {
            let mut x = blank();
            item(&mut x, buf);
            if !buf.is_ok() {
                break;
            }
            v.push(x);
        }
    }
    buf.leave();
}

/// Writes one map entry; keys are cloned because pack functions take `&mut`.
fn write_entry<K: Clone, V>(
    k: &K,
    v: &mut V,
    buf: &mut Buffer,
    key: &mut impl FnMut(&mut K, &mut Buffer),
    value: &mut impl FnMut(&mut V, &mut Buffer),
) {
    let mut k = k.clone();
    key(&mut k, buf);
    value(v, buf);
}

/// Reads `len` entries (each read into a fresh `blank()` pair), handing
/// each to `insert`, which refuses a key that does not come after the
/// previous one (a repeat, or out of order).
fn read_entries<K, V>(
    len: usize,
    buf: &mut Buffer,
    key: &mut impl FnMut(&mut K, &mut Buffer),
    value: &mut impl FnMut(&mut V, &mut Buffer),
    blank: &impl Fn() -> (K, V),
    mut insert: impl FnMut(K, V) -> Result<(), ErrorKind>,
) {
    for _ in 0..len {
        let at = buf.position();
        let (mut k, mut v) = blank();
        key(&mut k, buf);
        value(&mut v, buf);
        if !buf.is_ok() {
            return;
        }
        if let Err(kind) = insert(k, v) {
            return buf.fail_at(kind, at);
        }
    }
}

/// Why `key` cannot follow `previous` in a map's bytes, if it cannot:
/// entries are written in ascending key order, so a map has one byte form.
fn order<K: Ord>(previous: Option<&K>, key: &K) -> Result<(), ErrorKind> {
    match previous.map(|p| key.cmp(p)) {
        Some(std::cmp::Ordering::Equal) => Err(ErrorKind::DuplicateKey),
        Some(std::cmp::Ordering::Less) => Err(ErrorKind::KeysOutOfOrder),
        _ => Ok(()),
    }
}

/// Packs a `BTreeMap` as its length followed by key/value pairs in key
/// order. On read, a repeated key or a key out of ascending
/// order is an error, so each map has exactly one byte form. (Go writes a
/// map's entries in random order: a Go-written map of two or more entries
/// reads here only if its entries happen to be sorted.)
///
/// ```
/// use std::collections::BTreeMap;
/// let mut m = BTreeMap::from([("k".to_string(), 7i64)]);
/// let bytes = vpack::to_bytes(&mut m, |m, buf| vpack::btree_map(m, buf, vpack::string_z, vpack::int))
///     .unwrap();
/// assert_eq!(bytes, [0x02, b'k', 0, 0x0e]);
/// ```
#[doc(alias = "Map")]
pub fn btree_map<K: Ord + Clone + Default, V: Default>(
    m: &mut BTreeMap<K, V>,
    buf: &mut Buffer,
    key: impl FnMut(&mut K, &mut Buffer),
    value: impl FnMut(&mut V, &mut Buffer),
) {
    btree_map_of(m, buf, key, value, || (K::default(), V::default()))
}

/// [`btree_map`] with each entry read into a pair made by `blank`.
pub(crate) fn btree_map_of<K: Ord + Clone, V>(
    m: &mut BTreeMap<K, V>,
    buf: &mut Buffer,
    mut key: impl FnMut(&mut K, &mut Buffer),
    mut value: impl FnMut(&mut V, &mut Buffer),
    blank: impl Fn() -> (K, V),
) {
    let Some(len) = length(m.len(), buf) else {
        return;
    };
    if !buf.enter() {
        return;
    }
    if buf.is_writing() {
        for (k, v) in m.iter_mut() {
            write_entry(k, v, buf, &mut key, &mut value);
        }
    } else {
        m.clear();
        read_entries(len, buf, &mut key, &mut value, &blank, |k, v| {
            order(m.last_key_value().map(|(last, _)| last), &k)?;
            m.insert(k, v);
            Ok(())
        });
    }
    buf.leave();
}

/// Packs a `HashMap` like [`btree_map`]: entries are written in key order, so
/// equal maps always produce equal bytes, and read back only in that order.
///
/// ```
/// use std::collections::HashMap;
/// let mut a: HashMap<u32, bool> = (0..50).map(|i| (i, i % 2 == 0)).collect();
/// let mut b: HashMap<u32, bool> = (0..50).rev().map(|i| (i, i % 2 == 0)).collect();
/// let pack = |m: &mut HashMap<u32, bool>, buf: &mut vpack::Buffer| {
///     vpack::hash_map(m, buf, vpack::uint, vpack::bool)
/// };
/// assert_eq!(vpack::to_bytes(&mut a, pack).unwrap(), vpack::to_bytes(&mut b, pack).unwrap());
/// ```
pub fn hash_map<K: Ord + Hash + Clone + Default, V: Default>(
    m: &mut HashMap<K, V>,
    buf: &mut Buffer,
    key: impl FnMut(&mut K, &mut Buffer),
    value: impl FnMut(&mut V, &mut Buffer),
) {
    hash_map_of(m, buf, key, value, || (K::default(), V::default()))
}

/// [`hash_map`] with each entry read into a pair made by `blank`.
pub(crate) fn hash_map_of<K: Ord + Hash + Clone, V>(
    m: &mut HashMap<K, V>,
    buf: &mut Buffer,
    mut key: impl FnMut(&mut K, &mut Buffer),
    mut value: impl FnMut(&mut V, &mut Buffer),
    blank: impl Fn() -> (K, V),
) {
    let Some(len) = length(m.len(), buf) else {
        return;
    };
    if !buf.enter() {
        return;
    }
    if buf.is_writing() {
        let mut entries: Vec<(&K, &mut V)> = m.iter_mut().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        for (k, v) in entries {
            write_entry(k, v, buf, &mut key, &mut value);
        }
    } else {
        m.clear();
        // Half the bytes: a hash table keeps room for growth on top of
        // what it is asked for.
        m.reserve(reservable::<(K, V)>(len, buf.remaining() / 2));
        let mut previous: Option<K> = None;
        read_entries(len, buf, &mut key, &mut value, &blank, |k, v| {
            order(previous.as_ref(), &k)?;
            previous = Some(k.clone());
            m.insert(k, v);
            Ok(())
        });
    }
    buf.leave();
}

/// Packs an `Option<T>` as a bool (present or not) followed by the value
/// when present.
///
/// ```
/// let pack = |o: &mut Option<u8>, buf: &mut vpack::Buffer| vpack::option(o, buf, vpack::byte);
/// assert_eq!(vpack::to_bytes(&mut Some(9u8), pack).unwrap(), [1, 9]);
/// assert_eq!(vpack::to_bytes(&mut None, pack).unwrap(), [0]);
/// ```
pub fn option<T: Default>(
    v: &mut Option<T>,
    buf: &mut Buffer,
    item: impl FnOnce(&mut T, &mut Buffer),
) {
    option_from(v, buf, item, T::default)
}

/// [`option`] for an item type without `Default`, such as `SystemTime`: a
/// present value is read into one made by `blank`.
///
/// ```
/// use std::time::{Duration, SystemTime, UNIX_EPOCH};
///
/// // An optional deadline that sorts: `None` first, then in time order.
/// fn pack_deadline(d: &mut Option<SystemTime>, buf: &mut vpack::Buffer) {
///     vpack::option_from(d, buf, vpack::unix_time_milli_ord, || UNIX_EPOCH);
/// }
///
/// let mut due = Some(UNIX_EPOCH + Duration::from_secs(60));
/// let bytes = vpack::to_bytes(&mut due, pack_deadline)?;
/// let back = vpack::from_bytes(&bytes, pack_deadline)?;
/// assert_eq!(back, due);
/// # Ok::<(), vpack::Error>(())
/// ```
#[inline]
pub fn option_from<T>(
    v: &mut Option<T>,
    buf: &mut Buffer,
    item: impl FnOnce(&mut T, &mut Buffer),
    blank: impl FnOnce() -> T,
) {
    let mut present = v.is_some();
    bool(&mut present, buf);
    if !buf.is_ok() || !buf.enter() {
        return;
    }
    if buf.is_writing() {
        if let Some(x) = v {
            item(x, buf);
        }
    } else if present {
        let mut x = blank();
        item(&mut x, buf);
        if buf.is_ok() {
            *v = Some(x);
        }
    } else {
        *v = None;
    }
    buf.leave();
}

/// Packs a [`uuid::Uuid`] as its 16 raw bytes.
///
/// Sorts in byte order: **yes** (time-ordered UUIDs such as v7 therefore
/// sort by creation time).
///
/// ```
/// let mut id = uuid::Uuid::from_u128(0x00112233_4455_6677_8899_aabbccddeeff);
/// let bytes = vpack::to_bytes(&mut id, vpack::uuid).unwrap();
/// assert_eq!(bytes, id.as_bytes());
/// ```
#[doc(alias = "PackUUID")]
pub fn uuid(v: &mut uuid::Uuid, buf: &mut Buffer) {
    let mut bytes = *v.as_bytes();
    array(&mut bytes, buf);
    if buf.is_reading() && buf.is_ok() {
        *v = uuid::Uuid::from_bytes(bytes);
    }
}
