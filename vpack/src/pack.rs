//! The [`Pack`] trait: a type's own encoding, so its pack function can be
//! named by the type (`User::pack`) and composed without being spelled out.
//!
//! `#[derive(Pack)]` implements it for structs and enums; this module
//! implements it for the standard types a record is made of (the table is
//! in the trait's docs).

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::buffer::{Buffer, from_bytes_start, to_bytes};
use crate::collections::{btree_map_of, hash_map_of, option_from, uuid, vec_of};
use crate::describe::{Leaf, Shape};
use crate::error::Error;
use crate::fixed::{bool, byte, byte_slice, f32, f64};
use crate::text::{bytes, rune, string};
use crate::time::unix_time_milli;
use crate::varint::{int, uint};

/// A type with an encoding of its own: the pack function [`Pack::pack`],
/// and the value a read starts from, [`Pack::blank`].
///
/// vpack implements it for the standard types a record is made of, each
/// with one of its pack functions, so a derived type writes exactly the
/// bytes the equivalent hand-written function writes:
///
/// | type | packed as |
/// |---|---|
/// | `u8` | [`byte`] (so `Vec<u8>` packs as [`bytes`]) |
/// | `u16` … `u128`, `usize` | [`uint`] (varint) |
/// | `i8` … `i128`, `isize` | [`int`] (zig-zag varint) |
/// | `bool`, `char`, `f32`, `f64` | [`bool`](fn@bool), [`rune`], [`f32`](fn@f32), [`f64`](fn@f64) |
/// | `String` | [`string`] (length-prefixed) |
/// | `Vec<T>`, `Option<T>` | [`vec`](fn@crate::vec), [`option`](crate::option) |
/// | `BTreeMap<K, V>`, `HashMap<K, V>` | [`btree_map`](crate::btree_map), [`hash_map`](crate::hash_map) |
/// | `[T; N]` | each element, no length (`[u8; N]` is [`array`](fn@crate::array)) |
/// | `(A, B, …)`, `Box<T>` | the parts in order; the boxed value |
/// | [`uuid::Uuid`] | [`uuid`](fn@uuid) (16 raw bytes) |
/// | [`SystemTime`] | [`unix_time_milli`] (whole milliseconds) |
///
/// None of these sort correctly as keys except `u8`, `bool`, `Uuid` and
/// arrays of bytes. Where order matters, a type's key encoding is a
/// separate one: [`PackKey`](crate::PackKey) and the [`key`](crate::key)
/// module.
///
/// Derive it (`#[derive(vpack::Pack)]`, see the [crate docs](crate#derive))
/// or write it: an impl is the hand-written pack function under a fixed
/// name. Because `Self::pack` is an ordinary function, it goes wherever a
/// pack function goes:
///
/// ```
/// use vpack::{Buffer, Pack};
///
/// #[derive(Debug, Default, PartialEq)]
/// struct Celsius(f64);
///
/// impl Pack for Celsius {
///     fn blank() -> Self {
///         Celsius(0.0)
///     }
///     fn pack(&mut self, buf: &mut Buffer) {
///         vpack::f64(&mut self.0, buf);
///     }
/// }
///
/// let mut t = Celsius(21.5);
/// let bytes = t.to_bytes()?;
/// assert_eq!(Celsius::from_bytes(&bytes)?, t);
/// // The same function, passed by name (f64 is 8 big-endian bytes):
/// let bytes = [2, 0x40, 0x35, 0, 0, 0, 0, 0, 0];
/// let readings: Vec<Celsius> = vpack::from_bytes(&bytes, |v, buf| vpack::vec(v, buf, Celsius::pack))?;
/// assert_eq!(readings, [Celsius(21.0)]);
/// # Ok::<(), vpack::Error>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no vpack encoding of its own (it does not implement `vpack::Pack`)",
    label = "no default encoding for `{Self}`",
    note = "derive one with `#[derive(vpack::Pack)]` on the type, implement `vpack::Pack` for it, \
            or choose the field's pack function with `#[pack(with = some_pack_fn)]`"
)]
pub trait Pack: Sized {
    /// The value a read starts from: what a field absent from older data
    /// keeps. For most types their `Default`; for [`SystemTime`], the
    /// Unix epoch.
    fn blank() -> Self;

    /// Packs `self` into `buf` when it writes, or unpacks into `self` when
    /// it reads (the type's pack function).
    fn pack(&mut self, buf: &mut Buffer);

    /// What [`Pack::pack`]'s bytes hold, as data (see [`describe`](crate::describe)):
    /// derived for derived types, given by vpack's own impls, and
    /// [`Shape::Unknown`] for a hand-written impl that does not say.
    fn describe() -> Shape {
        Shape::Unknown
    }

    /// How a `Vec<Self>` packs: [`vec`](fn@crate::vec) of [`Pack::pack`], unless a
    /// type has a faster form for the same bytes (`u8`'s is [`bytes`]).
    #[doc(hidden)]
    #[inline]
    fn pack_vec(v: &mut Vec<Self>, buf: &mut Buffer) {
        vec_of(v, buf, Self::pack, Self::blank);
    }

    /// How the elements of a `[Self; N]` pack: each in turn, unless a type
    /// has a faster form for the same bytes (`u8`'s copies them at once).
    #[doc(hidden)]
    #[inline]
    fn pack_each(items: &mut [Self], buf: &mut Buffer) {
        for x in items {
            x.pack(buf);
        }
    }

    /// Packs `self` into a new byte vector ([`to_bytes`](crate::to_bytes)
    /// with [`Pack::pack`]).
    fn to_bytes(&mut self) -> Result<Vec<u8>, Error> {
        to_bytes(self, Self::pack)
    }

    /// Unpacks a value from `bytes`, starting from [`Pack::blank`]; fails on
    /// malformed input and on bytes left over
    /// ([`from_bytes`](crate::from_bytes) with [`Pack::pack`]).
    fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        from_bytes_start(bytes, Self::blank(), Self::pack)
    }
}

/// Implements [`Pack`] for types whose blank is their `Default`, with the
/// pack function given.
macro_rules! pack_with {
    ($($t:ty => $f:expr, $leaf:expr);* $(;)?) => {$(
        impl Pack for $t {
            #[inline]
            fn blank() -> Self {
                <$t>::default()
            }
            #[inline]
            fn pack(&mut self, buf: &mut Buffer) {
                $f(self, buf)
            }
            fn describe() -> Shape {
                Shape::Leaf($leaf)
            }
        }
    )*};
}

pack_with! {
    u16 => uint, Leaf::Uint; u32 => uint, Leaf::Uint; u64 => uint, Leaf::Uint;
    u128 => uint, Leaf::Uint; usize => uint, Leaf::Uint;
    i8 => int, Leaf::Int; i16 => int, Leaf::Int; i32 => int, Leaf::Int; i64 => int, Leaf::Int;
    i128 => int, Leaf::Int; isize => int, Leaf::Int;
    bool => bool, Leaf::Bool; char => rune, Leaf::Rune; f32 => f32, Leaf::F32; f64 => f64, Leaf::F64;
    String => string, Leaf::String; uuid::Uuid => uuid, Leaf::Uuid;
}

impl Pack for u8 {
    #[inline]
    fn blank() -> Self {
        0
    }
    #[inline]
    fn pack(&mut self, buf: &mut Buffer) {
        byte(self, buf)
    }
    fn describe() -> Shape {
        Shape::Leaf(Leaf::Byte)
    }
    /// The same bytes as [`vec`](fn@crate::vec) of [`byte`], copied at once.
    #[inline]
    fn pack_vec(v: &mut Vec<u8>, buf: &mut Buffer) {
        bytes(v, buf)
    }
    /// The same bytes as one [`byte`] each, copied at once.
    #[inline]
    fn pack_each(items: &mut [u8], buf: &mut Buffer) {
        byte_slice(items, buf)
    }
}

impl Pack for SystemTime {
    /// The Unix epoch.
    #[inline]
    fn blank() -> Self {
        UNIX_EPOCH
    }
    #[inline]
    fn pack(&mut self, buf: &mut Buffer) {
        unix_time_milli(self, buf)
    }
    fn describe() -> Shape {
        Shape::Leaf(Leaf::UnixTimeMilli)
    }
}

impl<T: Pack> Pack for Vec<T> {
    #[inline]
    fn blank() -> Self {
        Vec::new()
    }
    #[inline]
    fn pack(&mut self, buf: &mut Buffer) {
        T::pack_vec(self, buf)
    }
    fn describe() -> Shape {
        Shape::Vec(Box::new(T::describe()))
    }
}

impl<T: Pack> Pack for Option<T> {
    #[inline]
    fn blank() -> Self {
        None
    }
    #[inline]
    fn pack(&mut self, buf: &mut Buffer) {
        option_from(self, buf, T::pack, T::blank)
    }
    fn describe() -> Shape {
        Shape::Option(Box::new(T::describe()))
    }
}

/// A box is how a type refers to itself, so it counts as a level of
/// nesting: hostile bytes cannot recurse past [`MAX_DEPTH`](crate::MAX_DEPTH).
impl<T: Pack> Pack for Box<T> {
    #[inline]
    fn blank() -> Self {
        Box::new(T::blank())
    }
    #[inline]
    fn pack(&mut self, buf: &mut Buffer) {
        if buf.enter() {
            T::pack(self, buf);
            buf.leave();
        }
    }
    fn describe() -> Shape {
        T::describe()
    }
}

impl<K: Pack + Ord + Clone, V: Pack> Pack for BTreeMap<K, V> {
    #[inline]
    fn blank() -> Self {
        BTreeMap::new()
    }
    fn pack(&mut self, buf: &mut Buffer) {
        btree_map_of(self, buf, K::pack, V::pack, || (K::blank(), V::blank()))
    }
    fn describe() -> Shape {
        Shape::Map(Box::new(K::describe()), Box::new(V::describe()))
    }
}

impl<K: Pack + Ord + Hash + Clone, V: Pack> Pack for HashMap<K, V> {
    #[inline]
    fn blank() -> Self {
        HashMap::new()
    }
    fn pack(&mut self, buf: &mut Buffer) {
        hash_map_of(self, buf, K::pack, V::pack, || (K::blank(), V::blank()))
    }
    fn describe() -> Shape {
        Shape::Map(Box::new(K::describe()), Box::new(V::describe()))
    }
}

impl<T: Pack, const N: usize> Pack for [T; N] {
    #[inline]
    fn blank() -> Self {
        std::array::from_fn(|_| T::blank())
    }
    #[inline]
    fn pack(&mut self, buf: &mut Buffer) {
        T::pack_each(self, buf)
    }
    fn describe() -> Shape {
        Shape::Seq(vec![T::describe(); N])
    }
}

/// Implements [`Pack`] for a tuple: its parts in order.
macro_rules! pack_tuple {
    ($($name:ident . $i:tt),+) => {
        impl<$($name: Pack),+> Pack for ($($name,)+) {
            #[inline]
            fn blank() -> Self {
                ($($name::blank(),)+)
            }
            #[inline]
            fn pack(&mut self, buf: &mut Buffer) {
                $(self.$i.pack(buf);)+
            }
            fn describe() -> Shape {
                Shape::Seq(vec![$($name::describe()),+])
            }
        }
    };
}

pack_tuple!(A.0);
pack_tuple!(A.0, B.1);
pack_tuple!(A.0, B.1, C.2);
pack_tuple!(A.0, B.1, C.2, D.3);
pack_tuple!(A.0, B.1, C.2, D.3, E.4);
pack_tuple!(A.0, B.1, C.2, D.3, E.4, F.5);
