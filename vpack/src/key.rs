//! Key encodings: pack functions whose bytes sort the way their values do.
//!
//! A database keeps its keys sorted by their bytes, so wherever order
//! matters (a bucket's keys, an index's terms, targets and priorities) the
//! encoding decides what "in order" means. `vpack::string` writes a length
//! first, so `"b"` sorts before `"aa"`; `vpack::uint` is a varint, so 300
//! sorts before 2. Both are fine for values and wrong for keys.
//!
//! A [`KeyFn<T>`] is a pack function that carries that promise in its
//! type: every constructor in this module is an encoding whose byte order
//! is `T`'s [`Ord`] order, and a database API that takes a `KeyFn` cannot
//! be handed a plain [`PackFn`] by mistake:
//!
//! ```compile_fail
//! // vpack::string is a value encoding: this does not compile.
//! let by_length_first: vpack::KeyFn<String> = vpack::string;
//! ```
//!
//! ```
//! use vpack::{key, KeyFn};
//! let names: KeyFn<String> = key::string_z(); // sorts like String's Ord
//! let ids: KeyFn<u64> = key::ordered(); // u64's own key encoding
//! let mut a = String::from("b");
//! let mut b = String::from("aa");
//! assert!(names.to_bytes(&mut b)? < names.to_bytes(&mut a)?);
//! # let _ = ids;
//! # Ok::<(), vpack::Error>(())
//! ```
//!
//! | type | its key encoding ([`ordered`]) | bytes |
//! |---|---|---|
//! | `u8`, `bool` | [`byte`](fn@byte), [`bool`](fn@bool) | 1 |
//! | `u16` … `u128` | [`fuint`] | big-endian, own width |
//! | `i8` … `i128` | [`fint_ord`] | big-endian, sign bit flipped |
//! | `String` | [`string_z`] | UTF-8, then a NUL |
//! | `[u8; N]`, [`uuid::Uuid`] | [`array`](fn@array), [`uuid`](fn@uuid) | N, 16 |
//! | `(A, B)`, `(A, B, C)` | each part in turn | |
//! | your struct | `#[derive(PackKey)]`: each field's in turn | |
//!
//! Times have two key encodings and no default, because both round:
//! [`unix_time_ord`] keeps whole seconds and [`unix_time_milli_ord`] whole
//! milliseconds, so two times within one unit are the same key. Their
//! order never contradicts the times' (the right thing for a priority);
//! choose the unit on purpose.
//!
//! ## Compound keys
//!
//! Parts are written one after the other, so the first part decides and
//! later parts break ties, as `Ord` does for tuples and for a derived
//! `Ord` on a struct. That only holds if no part's bytes can be a prefix of
//! another value of the same part, so every part but the last must be
//! *self-delimiting* ([`KeyFn::is_self_delimiting`]): fixed widths and
//! NUL-terminated strings are. A compound key whose inner part is not is
//! refused when the program compiles.
//!
//! ## Encodings that do not sort by `Ord`
//!
//! Two ways remain open, each spelled so that a reader sees what it gives
//! up:
//! - [`fint_non_negative`]: Go's `FInt`, kept byte for byte to read files
//!   Go wrote. It sorts by `Ord` only while every value is non-negative.
//! - [`KeyFn::order_unchecked`]: any pack function, when you know its
//!   bytes sort as you need (a hand-written compound key) or you do not
//!   care about order (a key only ever looked up, never ranged over).
//!   Iteration follows the bytes, and nothing checks them against `Ord`.

use crate::buffer::{Buffer, PackFn, from_bytes, to_bytes};
use crate::describe::{Leaf, Shape};
use crate::error::Error;
use crate::fixed::{FixedInt, FixedSigned};
use crate::varint::{Signed, Unsigned};

/// A pack function whose bytes sort like `T`'s `Ord` (or, for the
/// encodings whose names say so, as documented there).
///
/// Build one with this module's functions ([`ordered`], [`fuint`],
/// [`string_z`], ...), with `#[derive(PackKey)]`, or with the explicit
/// opt-out [`KeyFn::order_unchecked`]. It is `Copy` and `const`, so it goes
/// into a `static` declaration.
pub struct KeyFn<T> {
    pack: PackFn<T>,
    shape: fn() -> Shape,
    name: &'static str,
    self_delimiting: bool,
    sorts_by_ord: bool,
}

impl<T> Clone for KeyFn<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for KeyFn<T> {}

impl<T> std::fmt::Debug for KeyFn<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyFn")
            .field("name", &self.name)
            .field("self_delimiting", &self.self_delimiting)
            .field("sorts_by_ord", &self.sorts_by_ord)
            .finish()
    }
}

impl<T> KeyFn<T> {
    /// An encoding vpack vouches for (or derive builds from such parts).
    const fn vetted(
        name: &'static str,
        pack: PackFn<T>,
        shape: fn() -> Shape,
        self_delimiting: bool,
    ) -> KeyFn<T> {
        KeyFn {
            pack,
            shape,
            name,
            self_delimiting,
            sorts_by_ord: true,
        }
    }

    /// Uses `pack` as a key encoding **without** the promise that its bytes
    /// sort like `T`'s `Ord`: iteration, ranges and pagination follow
    /// whatever order its bytes have. For a hand-written compound key whose
    /// order you have checked yourself, or a key that is only looked up.
    /// It is treated as not self-delimiting, so it can only be the last
    /// part of a compound key.
    ///
    /// ```
    /// // A key that is looked up by value and never ranged over.
    /// static HASHED: vpack::KeyFn<Vec<u8>> = vpack::KeyFn::order_unchecked(vpack::bytes);
    /// assert!(!HASHED.sorts_by_ord());
    /// ```
    pub const fn order_unchecked(pack: PackFn<T>) -> KeyFn<T> {
        KeyFn {
            pack,
            shape: unknown,
            name: "order_unchecked",
            self_delimiting: false,
            sorts_by_ord: false,
        }
    }

    /// The pack function itself, to call or to pass where a [`PackFn`]
    /// goes.
    #[inline]
    pub const fn pack(&self) -> PackFn<T> {
        self.pack
    }

    /// A short name for the encoding (`"fuint"`, `"string_z"`, `"pair"`,
    /// `"derived"` for `#[derive(PackKey)]`), for messages and tools.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// What the bytes hold, as data ([`Shape::Unknown`] for
    /// [`KeyFn::order_unchecked`]).
    pub fn describe(&self) -> Shape {
        (self.shape)()
    }

    /// [`KeyFn::describe`] as a function, for a `static` declaration to
    /// keep.
    pub const fn shape_fn(&self) -> fn() -> Shape {
        self.shape
    }

    /// Whether no encoded value is a prefix of another, so the encoding
    /// can be followed by more key parts without mixing up their order.
    pub const fn is_self_delimiting(&self) -> bool {
        self.self_delimiting
    }

    /// Whether the bytes are promised to sort like `T`'s `Ord`: false only
    /// for [`KeyFn::order_unchecked`] and [`fint_non_negative`].
    pub const fn sorts_by_ord(&self) -> bool {
        self.sorts_by_ord
    }

    /// Packs `value` into new bytes (as [`to_bytes`]).
    pub fn to_bytes(&self, value: &mut T) -> Result<Vec<u8>, Error> {
        to_bytes(value, self.pack)
    }

    /// Unpacks a value from all of `bytes` (as [`from_bytes`]).
    pub fn from_bytes(&self, bytes: &[u8]) -> Result<T, Error>
    where
        T: Default,
    {
        from_bytes(bytes, self.pack)
    }
}

/// A type with a key encoding of its own, whose bytes sort like its `Ord`.
///
/// vpack implements it for the types in the [module's table](self), and
/// `#[derive(PackKey)]` for a struct whose fields all have one (a field
/// may name another with `#[pack_key(with = vpack::key::...)]`). A
/// database also needs a key type's zero value ([`crate::Blank`]): derive
/// [`Pack`](crate::Pack) beside it, which gives that and a compact value
/// encoding.
///
/// ```
/// use vpack::{PackKey, key};
///
/// /// One user's day: sorts by user, then by day.
/// #[derive(PackKey, Default, Debug, PartialEq, Eq, PartialOrd, Ord)]
/// struct UserDay {
///     user: u64,
///     day: i32,
/// }
///
/// let early = key::ordered().to_bytes(&mut UserDay { user: 1, day: 30 })?;
/// let late = key::ordered().to_bytes(&mut UserDay { user: 2, day: -5 })?;
/// assert!(early < late);
/// # Ok::<(), vpack::Error>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no key encoding of its own (it does not implement `vpack::PackKey`)",
    label = "no order-preserving encoding for `{Self}`",
    note = "derive one with `#[derive(vpack::PackKey)]` (every field needs one), pick one from \
            `vpack::key`, or opt out with `vpack::KeyFn::order_unchecked(f)`"
)]
pub trait PackKey: Sized {
    /// The type's key encoding.
    const KEY: KeyFn<Self>;
}

/// `T`'s own key encoding ([`PackKey::KEY`]): what to write where a key
/// goes when the type decides.
///
/// ```
/// static IDS: vpack::KeyFn<(u64, String)> = vpack::key::ordered();
/// assert_eq!(IDS.name(), "pair");
/// ```
pub const fn ordered<T: PackKey>() -> KeyFn<T> {
    T::KEY
}

/// Unsigned integers, big-endian at their own width ([`crate::fuint`]).
pub const fn fuint<U: FixedInt + Unsigned>() -> KeyFn<U> {
    KeyFn::vetted("fuint", crate::fuint::<U>, fixed_shape::<U, 0>, true)
}

/// Signed integers, big-endian with the sign bit flipped
/// ([`crate::fint_ord`]): negatives sort first.
pub const fn fint_ord<I: FixedSigned>() -> KeyFn<I> {
    KeyFn::vetted("fint_ord", crate::fint_ord::<I>, fixed_shape::<I, 2>, true)
}

/// Go's `FInt` ([`crate::fint`]), two's complement: it sorts by `Ord` only
/// while every value is non-negative, as its name says; negative keys sort
/// after all the others. For files Go wrote; new keys use [`fint_ord`].
pub const fn fint_non_negative<I: FixedInt + Signed>() -> KeyFn<I> {
    KeyFn {
        pack: crate::fint::<I>,
        shape: fixed_shape::<I, 1>,
        name: "fint_non_negative",
        self_delimiting: true,
        sorts_by_ord: false,
    }
}

/// One byte ([`crate::byte`]).
pub const fn byte() -> KeyFn<u8> {
    KeyFn::vetted("byte", crate::byte, || Shape::Leaf(Leaf::Byte), true)
}

/// A bool as one byte, `false` first ([`crate::bool`](fn@crate::bool)).
pub const fn bool() -> KeyFn<bool> {
    KeyFn::vetted("bool", crate::bool, || Shape::Leaf(Leaf::Bool), true)
}

/// A string as its UTF-8 bytes and a NUL ([`crate::string_z`]). A string
/// holding a NUL cannot be packed (the write fails), so the encoding stays
/// self-delimiting and `"a" < "ab" < "b"` holds in the bytes.
pub const fn string_z() -> KeyFn<String> {
    KeyFn::vetted(
        "string_z",
        crate::string_z,
        || Shape::Leaf(Leaf::StringZ),
        true,
    )
}

/// A byte array as its N bytes ([`crate::array`](fn@crate::array)).
pub const fn array<const N: usize>() -> KeyFn<[u8; N]> {
    KeyFn::vetted("array", crate::array::<N>, array_shape::<N>, true)
}

/// A UUID as its 16 bytes ([`crate::uuid`](fn@crate::uuid)), in
/// [`uuid::Uuid`]'s own order.
pub const fn uuid() -> KeyFn<uuid::Uuid> {
    KeyFn::vetted("uuid", crate::uuid, || Shape::Leaf(Leaf::Uuid), true)
}

/// A time as whole Unix seconds, sign bit flipped
/// ([`crate::unix_time_ord`]): times within one second are one key.
pub const fn unix_time_ord() -> KeyFn<std::time::SystemTime> {
    KeyFn::vetted(
        "unix_time_ord",
        crate::unix_time_ord,
        || Shape::Leaf(Leaf::UnixTimeOrd),
        true,
    )
}

/// A time as whole Unix milliseconds, sign bit flipped
/// ([`crate::unix_time_milli_ord`]): times within one millisecond are one
/// key.
pub const fn unix_time_milli_ord() -> KeyFn<std::time::SystemTime> {
    KeyFn::vetted(
        "unix_time_milli_ord",
        crate::unix_time_milli_ord,
        || Shape::Leaf(Leaf::UnixTimeMilliOrd),
        true,
    )
}

macro_rules! pack_key_for {
    ($($t:ty => $f:expr),* $(,)?) => {
        $(impl PackKey for $t {
            const KEY: KeyFn<$t> = $f;
        })*
    };
}

pack_key_for!(
    u8 => byte(),
    u16 => fuint(),
    u32 => fuint(),
    u64 => fuint(),
    u128 => fuint(),
    i8 => fint_ord(),
    i16 => fint_ord(),
    i32 => fint_ord(),
    i64 => fint_ord(),
    i128 => fint_ord(),
    bool => bool(),
    String => string_z(),
    uuid::Uuid => uuid(),
);

impl<const N: usize> PackKey for [u8; N] {
    const KEY: KeyFn<[u8; N]> = array();
}

/// For derive and the tuple impls: the encoding of a compound key whose
/// parts are `parts` (their encodings, in order), packed by `pack` and
/// described by `shape`.
/// Refuses (at compile time, where it is used in a constant) a part before
/// the last that is not self-delimiting, and promises `Ord` order only if
/// every part does.
#[doc(hidden)]
pub const fn compound<T>(
    name: &'static str,
    pack: PackFn<T>,
    shape: fn() -> Shape,
    parts: &[(bool, bool)],
) -> KeyFn<T> {
    let mut sorts_by_ord = true;
    let mut i = 0;
    while i < parts.len() {
        let (self_delimiting, ordered) = parts[i];
        assert!(
            self_delimiting || i + 1 == parts.len(),
            "a compound key's parts before the last must be self-delimiting \
             (fixed-width or NUL-terminated): move the other part last"
        );
        sorts_by_ord &= ordered;
        i += 1;
    }
    KeyFn {
        pack,
        shape,
        name,
        self_delimiting: match parts.last() {
            Some(&(last, _)) => last,
            None => true,
        },
        sorts_by_ord,
    }
}

/// The (self-delimiting, sorts-by-Ord) facts of a part, for [`compound`].
#[doc(hidden)]
pub const fn part<T>(key: KeyFn<T>) -> (bool, bool) {
    (key.self_delimiting, key.sorts_by_ord)
}

fn pack_pair<A: PackKey, B: PackKey>(v: &mut (A, B), buf: &mut Buffer) {
    (A::KEY.pack)(&mut v.0, buf);
    (B::KEY.pack)(&mut v.1, buf);
}

fn pack_triple<A: PackKey, B: PackKey, C: PackKey>(v: &mut (A, B, C), buf: &mut Buffer) {
    (A::KEY.pack)(&mut v.0, buf);
    (B::KEY.pack)(&mut v.1, buf);
    (C::KEY.pack)(&mut v.2, buf);
}

impl<A: PackKey, B: PackKey> PackKey for (A, B) {
    const KEY: KeyFn<(A, B)> = compound(
        "pair",
        pack_pair::<A, B>,
        || Shape::Seq(vec![A::KEY.describe(), B::KEY.describe()]),
        &[part(A::KEY), part(B::KEY)],
    );
}

impl<A: PackKey, B: PackKey, C: PackKey> PackKey for (A, B, C) {
    const KEY: KeyFn<(A, B, C)> = compound(
        "triple",
        pack_triple::<A, B, C>,
        || {
            Shape::Seq(vec![
                A::KEY.describe(),
                B::KEY.describe(),
                C::KEY.describe(),
            ])
        },
        &[part(A::KEY), part(B::KEY), part(C::KEY)],
    );
}

fn unknown() -> Shape {
    Shape::Unknown
}

/// A fixed-width integer's shape: `KIND` 0 is `fuint`, 1 `fint`, 2
/// `fint_ord`.
fn fixed_shape<I: FixedInt, const KIND: u8>() -> Shape {
    let n = I::SIZE as u8;
    Shape::Leaf(match KIND {
        0 => Leaf::Fuint(n),
        1 => Leaf::Fint(n),
        _ => Leaf::FintOrd(n),
    })
}

fn array_shape<const N: usize>() -> Shape {
    Shape::Leaf(Leaf::Array(N as u32))
}
