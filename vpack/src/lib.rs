//! # vpack: one function packs a type both ways
//!
//! Most serialization libraries give you two functions per type, one to
//! write and one to read, and leave you to keep them in agreement. vpack
//! gives you one. A *pack function* takes the value and a [`Buffer`]:
//!
//! ```
//! #[derive(Default, Debug, PartialEq)]
//! struct Point { x: i64, y: i64, label: String }
//!
//! fn pack_point(p: &mut Point, buf: &mut vpack::Buffer) {
//!     vpack::version(1, buf);
//!     vpack::int(&mut p.x, buf);
//!     vpack::int(&mut p.y, buf);
//!     vpack::string(&mut p.label, buf);
//! }
//!
//! let mut p = Point { x: 3, y: -4, label: "corner".into() };
//! let bytes = vpack::to_bytes(&mut p, pack_point)?;
//! let back: Point = vpack::from_bytes(&bytes, pack_point)?;
//! assert_eq!(back, p);
//! # Ok::<(), vpack::Error>(())
//! ```
//!
//! When the buffer writes, each call appends the field's bytes; when it
//! reads, each call fills the field from the bytes. Because the same lines
//! run in both directions, the field order can never disagree between
//! writer and reader.
//!
//! ## Errors without error checks
//!
//! A pack function never checks for errors. The buffer records the first
//! failure (input too short, a bool byte of 7, invalid UTF-8, a varint that
//! overflows its type, a string with a NUL written as a key...) with its
//! byte offset, and every later call becomes a no-op. The caller sees the
//! failure once: [`to_bytes`] and [`from_bytes`] return a [`Result`]
//! carrying an [`Error`] with its [`ErrorKind`] and offset, and
//! [`from_bytes_into`] returns `false`.
//!
//! Decoding is safe on any input: it never panics, always terminates, and
//! never allocates more than the input size justifies: a length prefix is
//! checked against the bytes left, and no more memory is reserved up front
//! than those bytes (a collection grows as its elements actually decode).
//! Collections nest at most [`MAX_DEPTH`] deep, so a recursive type read
//! from hostile bytes fails with [`ErrorKind::TooDeep`] instead of
//! exhausting the stack.
//!
//! ## Versions
//!
//! [`version`] is the first call of a versioned pack function. Writing
//! records the current version; reading returns the stored one, so the
//! function can skip fields that older data lacks. Data from a *newer*
//! version is an error rather than a misread. To drop a field, keep reading
//! it for the old versions and ignore its value:
//!
//! ```
//! #[derive(Default)]
//! struct Account { name: String, email: String }
//!
//! fn pack_account(a: &mut Account, buf: &mut vpack::Buffer) {
//!     let v = vpack::version(3, buf);
//!     vpack::string(&mut a.name, buf);
//!     if v < 3 {
//!         // v1 and v2 stored a nickname; v3 dropped it.
//!         let mut _nickname = String::new();
//!         vpack::string(&mut _nickname, buf);
//!     }
//!     if v >= 2 {
//!         vpack::string(&mut a.email, buf);
//!     }
//! }
//! # let mut a = Account::default();
//! # let b = vpack::to_bytes(&mut a, pack_account).unwrap();
//! # assert!(vpack::from_bytes(&b, pack_account).is_ok());
//! ```
//!
//! ## Derive
//!
//! `#[derive(Pack)]` writes the pack function from the type's declaration,
//! versions included (feature `derive`, on by default). It implements the
//! [`Pack`] trait, so the function is `Type::pack`, and `Default`, so the
//! type needs no hand-written one even with a `SystemTime` field:
//!
//! ```
//! use std::time::SystemTime;
//! use vpack::Pack;
//!
//! #[derive(Pack, Debug, PartialEq)]
//! #[pack(version = 3)]
//! struct User {
//!     #[pack(with = vpack::fint)]
//!     id: i64,
//!     handle: String,
//!     #[pack(since = 2)]
//!     email: String,
//!     #[pack(since = 3)]
//!     picture: Option<String>,
//!     #[pack(until = 2)]
//!     nickname: String,
//!     joined: SystemTime,
//! }
//!
//! let mut u = User {
//!     id: 7,
//!     handle: "ann".into(),
//!     email: "ann@example.com".into(),
//!     picture: None,
//!     nickname: String::new(),
//!     joined: SystemTime::UNIX_EPOCH,
//! };
//! let bytes = u.to_bytes()?;
//! assert_eq!(User::from_bytes(&bytes)?, u);
//! // `User::pack` is a pack function like any other:
//! assert_eq!(vpack::to_bytes(&mut u, User::pack)?, bytes);
//! # Ok::<(), vpack::Error>(())
//! ```
//!
//! It generates exactly what you would write by hand, so derived and
//! hand-written types mix freely and read each other's bytes:
//!
//! ```
//! # use std::time::SystemTime;
//! # struct User { id: i64, handle: String, email: String, picture: Option<String>, nickname: String, joined: SystemTime }
//! impl vpack::Pack for User {
//!     fn blank() -> Self {
//!         User {
//!             id: 0,
//!             handle: String::new(),
//!             email: String::new(),
//!             picture: None,
//!             nickname: String::new(),
//!             joined: SystemTime::UNIX_EPOCH,
//!         }
//!     }
//!     fn pack(&mut self, buf: &mut vpack::Buffer) {
//!         let version = vpack::version(3, buf);
//!         vpack::fint(&mut self.id, buf);
//!         vpack::string(&mut self.handle, buf);
//!         if version >= 2 {
//!             vpack::string(&mut self.email, buf);
//!         }
//!         if version >= 3 {
//!             vpack::option(&mut self.picture, buf, vpack::string);
//!         }
//!         if version <= 2 {
//!             vpack::string(&mut self.nickname, buf);
//!         }
//!         vpack::unix_time_milli(&mut self.joined, buf);
//!     }
//! }
//! impl Default for User {
//!     fn default() -> Self {
//!         <User as vpack::Pack>::blank()
//!     }
//! }
//! ```
//!
//! The attributes:
//!
//! | where | attribute | effect |
//! |---|---|---|
//! | type | `version = N` | writes version `N` first; older data reads, newer is refused |
//! | type | `own_default` | the type implements `Default` itself; it is the blank value |
//! | field | `with = f` | packs the field with `f`: any pack function or closure (key encodings too) |
//! | field | `since = N` | stored from version `N` on; older data leaves the field blank |
//! | field | `until = N` | stored up to version `N` (below the type's): still read, no longer written |
//! | field | `default = expr` | the field's blank value instead of its type's |
//! | field | `skip` | never stored; reads leave it blank |
//! | variant | `tag = N` | the variant's stable number in the data (required) |
//! | variant | `default` | the enum's blank value is this variant (else the first) |
//!
//! Each field without `with` uses its type's [`Pack`] impl: the table in
//! the trait's docs list them (integers as varints, `u8` as a byte,
//! `String` length-prefixed, `Vec`, `Option`, maps, tuples, arrays,
//! `Uuid`, `SystemTime` as [`unix_time_milli`]), and nested types that
//! derive `Pack` are packed by their own function. A blank value is each
//! field's `default`, else its type's [`Pack::blank`] (for a `with` or
//! `skip` field whose type has no `Pack` impl, its [`Blank`] if it has
//! one, else its `Default`).
//!
//! Enums write the variant's tag as an unsigned varint, then its fields; a
//! tag no variant has is [`ErrorKind::UnknownTag`], naming the type. A type
//! that refers to itself (through a `Box`, `Vec` or `Option`) is bounded by
//! [`MAX_DEPTH`] like every collection.
//!
//! Misuse does not compile, and the message points at the attribute: an
//! unknown attribute, `since` or `until` on a type without a version or
//! outside its versions, a variant without a tag or with another's, a field
//! type with no encoding and no `with`.
//!
//! `#[derive(PackKey)]` gives a struct a *key* encoding, whose bytes sort
//! like the struct's derived `Ord` (see [`key`]); a type can derive both,
//! one encoding for where order matters and one for values:
//!
//! ```
//! use std::time::{Duration, SystemTime, UNIX_EPOCH};
//! use vpack::{Pack, PackKey, key};
//!
//! #[derive(Pack, PackKey, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
//! struct OrderedTime(#[pack_key(with = key::unix_time_ord())] SystemTime);
//!
//! let early = key::ordered().to_bytes(&mut OrderedTime(UNIX_EPOCH - Duration::from_secs(60)))?;
//! let late = key::ordered().to_bytes(&mut OrderedTime(UNIX_EPOCH + Duration::from_secs(60)))?;
//! assert!(early < late);
//! # Ok::<(), vpack::Error>(())
//! ```
//!
//! ## Keys and order
//!
//! A database keeps keys sorted by their bytes, so a key encoding decides
//! the iteration order. The [`key`] module holds the encodings whose bytes
//! sort like their type's `Ord`, as [`KeyFn`] values that a database's
//! declarations require where order matters, and [`PackKey`], a type's own
//! key encoding. Each function documents whether its bytes sort in the
//! value's order:
//!
//! | for keys (sort correctly) | for values (compact, do not sort) |
//! |---|---|
//! | [`fuint`]: unsigned, big-endian | [`uint`]: unsigned varint |
//! | [`fint_ord`]: signed, sign bit flipped | [`int`]: zig-zag varint |
//! | [`string_z`]: NUL-terminated | [`string`]: length-prefixed |
//! | [`unix_time_ord`], [`unix_time_milli_ord`] | [`unix_time`], [`unix_time_milli`] |
//! | [`uuid`](fn@uuid), [`array`](fn@array), [`byte`], [`bool`](fn@bool) | [`bytes`], [`f64`](fn@f64), [`f32`](fn@f32), [`vec`](fn@vec) |
//!
//! [`fint`], [`unix_time_key`] and [`unix_time_milli_key`] are Go's
//! fixed-width encodings, kept byte-for-byte: they sort correctly only for
//! non-negative values (times from 1970 on).
//!
//! ## Damage at rest
//!
//! [`checked`] wraps any pack function: the value's bytes are followed by
//! their CRC-32, and bytes that changed since they were written fail to
//! unpack ([`ErrorKind::ChecksumMismatch`]) instead of reading as another
//! value. It is part of the encoding (4 bytes per value), so choose it per
//! type.
//!
//! ## Compatibility
//!
//! Every function that the Go vpack also has writes exactly the bytes Go
//! writes and reads them back; the repository tests this against vectors
//! generated by the Go implementation. One deliberate difference: Go writes
//! a map's entries in random order, so one map has many byte forms; vpack
//! writes them sorted by key and reads only that form
//! ([`ErrorKind::KeysOutOfOrder`]), so equal maps are equal bytes. A
//! Go-written map of two or more entries reads only if its entries happen
//! to be sorted.
//!
//! The Go names, each also a search alias in these docs:
//!
//! | Go vpack | vpack |
//! |---|---|
//! | `Version` | [`version`] |
//! | `UInt`, `VUInt64` | [`uint`] |
//! | `Int`, `VInt64` | [`int`] |
//! | `FUInt64`, `FUInt32`, `FUInt16` | [`fuint`] |
//! | `FInt`, `FInt64` | [`fint`] |
//! | `Float64` | [`f64`](fn@f64) |
//! | `Byte` | [`byte`] |
//! | `Bool` | [`bool`](fn@bool) |
//! | `String` | [`string`] |
//! | `StringZ` | [`string_z`] |
//! | `Rune` | [`rune`] |
//! | `ByteSlice` | [`bytes`] |
//! | `Slice` | [`vec`](fn@vec) |
//! | `Map` | [`btree_map`], [`hash_map`] (entries sorted: see above) |
//! | `PackUUID` | [`uuid`](fn@uuid) |
//! | `UnixTime`, `UnixTimeKey` | [`unix_time`], [`unix_time_key`] |
//! | `UnixTimeMilli`, `UnixTimeMilliKey` | [`unix_time_milli`], [`unix_time_milli_key`] |
//!
//! The rest have no Go counterpart: the order-preserving [`fint_ord`],
//! [`unix_time_ord`] and [`unix_time_milli_ord`], [`f32`](fn@f32),
//! [`array`](fn@array), [`option`](fn@option), [`option_from`], [`checked`], and
//! `#[derive(Pack)]`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

// The derive writes `::vpack::...` paths; this lets vpack derive its own
// types (the shapes in `describe`).
extern crate self as vpack;

mod blank;
mod buffer;
mod checksum;
mod collections;
pub mod describe;
mod error;
mod fixed;
pub mod key;
mod pack;
mod private;
mod text;
mod time;
mod value;
mod varint;
mod version;

pub use blank::Blank;
pub use buffer::{
    Buffer, MAX_DEPTH, PackFn, append_bytes, from_bytes, from_bytes_into, from_bytes_start,
    to_bytes,
};
pub use checksum::checked;
pub use collections::{btree_map, hash_map, option, option_from, uuid, vec};
pub use describe::Shape;
pub use error::{Error, ErrorKind};
pub use key::{KeyFn, PackKey};
pub use pack::Pack;
pub use value::{Value, format_millis};
/// `#[derive(Pack)]`: see [Derive](crate#derive).
#[cfg(feature = "derive")]
pub use vpack_derive::Pack;
/// `#[derive(PackKey)]`: a struct's key encoding from its fields' (see
/// [`key`]).
#[cfg(feature = "derive")]
pub use vpack_derive::PackKey;
#[doc(hidden)]
pub mod __private {
    pub use crate::private::*;
}
pub use fixed::{FixedInt, FixedSigned, array, bool, byte, f32, f64, fint, fint_ord, fuint};
pub use text::{bytes, rune, string, string_z};
pub use time::{
    unix_time, unix_time_key, unix_time_milli, unix_time_milli_key, unix_time_milli_ord,
    unix_time_ord,
};
pub use varint::{Signed, Unsigned, int, uint};
pub use version::version;
