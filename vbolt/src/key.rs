//! Key arguments: what a function accepts where a bucket's key, an index's
//! term or an index's target goes, and the zero-key rule.
//!
//! A bucket declared with keys of type `K` accepts, wherever a key is
//! expected, any [`AsKey<K>`]:
//!
//! - a `K` by value (`get(tx, &USERS, 7)`), packed in place;
//! - a `&K` (`get(tx, &USERS, &id)`), cloned to be packed (free for
//!   integers, ids and times);
//! - a `&str` where `K` is `String`, and a `&[u8]` where `K` is `Vec<u8>`,
//!   packed through a per-thread buffer: no allocation per call.
//!
//! For `String` keys, pass `&str` (`name.as_str()`) rather than `&String`,
//! which is cloned.
//!
//! # The zero key
//!
//! The zero value of a key type (`0`, `""`, an empty byte string, the nil
//! UUID, the Unix epoch: its [`Blank`] value) means "no key". Reading it finds nothing
//! (`Ok(None)`), and writing or deleting it fails the transaction with
//! [`Error::ZeroKey`](crate::Error::ZeroKey): a missing id can flow through
//! read paths without checks, but it can never be stored by mistake.

use std::cell::RefCell;

use vpack::{Blank, PackFn};

/// A value that can stand for a key of type `K`: a bucket's key, an
/// index's term or target (see [Keys](crate#keys)).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot stand for a key of type `{K}`",
    label = "not a `{K}` key",
    note = "pass a `{K}` or a `&{K}` (an integer of another width converts with `.into()`, \
            `try_into()` or `as`); a `String` key also takes `&str`, a `Vec<u8>` key `&[u8]`",
    note = "a type of your own used as a key needs `PartialEq` and `vpack::Blank` (its zero \
            key): derive `vpack::Pack` on it or implement `vpack::Blank`"
)]
pub trait AsKey<K> {
    /// True for the zero value of `K` (see [the zero key](crate#keys)).
    fn is_zero(&self) -> bool;
    /// Appends the key packed with `pack` to `out`.
    fn pack_into(self, pack: PackFn<K>, out: &mut Vec<u8>) -> Result<(), vpack::Error>;
}

impl<K: Blank + PartialEq> AsKey<K> for K {
    #[inline]
    fn is_zero(&self) -> bool {
        *self == K::blank()
    }
    #[inline]
    fn pack_into(mut self, pack: PackFn<K>, out: &mut Vec<u8>) -> Result<(), vpack::Error> {
        vpack::append_bytes(&mut self, pack, out).map(drop)
    }
}

impl<K: Clone + Blank + PartialEq> AsKey<K> for &K {
    #[inline]
    fn is_zero(&self) -> bool {
        **self == K::blank()
    }
    #[inline]
    fn pack_into(self, pack: PackFn<K>, out: &mut Vec<u8>) -> Result<(), vpack::Error> {
        self.clone().pack_into(pack, out)
    }
}

thread_local! {
    static TEXT: RefCell<String> = const { RefCell::new(String::new()) };
    static BYTES: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Packs a borrowed key through a per-thread owned buffer of its type,
/// reused from call to call (a fresh one if the buffer is in use, which
/// only a pack function that itself packs a key could cause).
fn through_buffer<O: Default>(
    slot: &'static std::thread::LocalKey<RefCell<O>>,
    fill: impl FnOnce(&mut O),
    pack: PackFn<O>,
    out: &mut Vec<u8>,
) -> Result<(), vpack::Error> {
    slot.with(|cell| match cell.try_borrow_mut() {
        Ok(mut owned) => {
            fill(&mut owned);
            vpack::append_bytes(&mut *owned, pack, out).map(drop)
        }
        Err(_) => {
            let mut owned = O::default();
            fill(&mut owned);
            vpack::append_bytes(&mut owned, pack, out).map(drop)
        }
    })
}

impl AsKey<String> for &str {
    #[inline]
    fn is_zero(&self) -> bool {
        self.is_empty()
    }
    #[inline]
    fn pack_into(self, pack: PackFn<String>, out: &mut Vec<u8>) -> Result<(), vpack::Error> {
        through_buffer(
            &TEXT,
            |s| {
                s.clear();
                s.push_str(self);
            },
            pack,
            out,
        )
    }
}

impl AsKey<Vec<u8>> for &[u8] {
    #[inline]
    fn is_zero(&self) -> bool {
        self.is_empty()
    }
    #[inline]
    fn pack_into(self, pack: PackFn<Vec<u8>>, out: &mut Vec<u8>) -> Result<(), vpack::Error> {
        through_buffer(
            &BYTES,
            |b| {
                b.clear();
                b.extend_from_slice(self);
            },
            pack,
            out,
        )
    }
}

/// Packs a key argument into `out`; `Ok(false)` (nothing packed) for the
/// zero key.
#[inline]
pub(crate) fn pack_nonzero<K>(
    key: impl AsKey<K>,
    pack: PackFn<K>,
    out: &mut Vec<u8>,
) -> Result<bool, vpack::Error> {
    if key.is_zero() {
        return Ok(false);
    }
    key.pack_into(pack, out).map(|()| true)
}

/// Unpacks a key, term, target or priority from its bytes, starting from
/// its blank value.
#[inline]
pub(crate) fn unpack_key<K: Blank>(bytes: &[u8], pack: PackFn<K>) -> Result<K, vpack::Error> {
    vpack::from_bytes_start(bytes, K::blank(), pack)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packed<A: AsKey<K>, K>(a: A, pack: PackFn<K>) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        pack_nonzero(a, pack, &mut out).unwrap().then_some(out)
    }

    #[test]
    // The borrows are the point: `&K` is one of the forms under test.
    #[allow(clippy::needless_borrows_for_generic_args)]
    fn every_form_packs_the_same_bytes_and_zero_is_no_key() {
        let owned = packed("ann".to_string(), vpack::string_z);
        assert_eq!(owned, Some(b"ann\0".to_vec()));
        assert_eq!(packed(&"ann".to_string(), vpack::string_z), owned);
        assert_eq!(packed("ann", vpack::string_z), owned);
        assert_eq!(packed("", vpack::string_z), None);
        assert_eq!(packed(String::new(), vpack::string_z), None);
        assert_eq!(packed(&b"\x01\x02"[..], vpack::bytes), Some(vec![4, 1, 2]));
        assert_eq!(packed(&b""[..], vpack::bytes), None);
        assert_eq!(packed(0u64, vpack::fuint), None);
        assert_eq!(
            packed(&7u64, vpack::fuint),
            Some(7u64.to_be_bytes().to_vec())
        );
    }

    #[test]
    fn an_unpackable_borrowed_key_is_an_error() {
        let mut out = Vec::new();
        assert!("a\0b".pack_into(vpack::string_z, &mut out).is_err());
    }
}
