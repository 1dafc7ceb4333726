//! Fixed-width values: big-endian integers ([`fint`], [`fuint`],
//! [`fint_ord`]), floats, bytes, bools and byte arrays.
//!
//! Fixed-width big-endian unsigned integers sort in numeric order, which
//! makes them the natural key encoding. Two's-complement signed integers
//! ([`fint`], Go's `FInt`) sort negatives *after* positives; [`fint_ord`]
//! flips the sign bit so that every value sorts in numeric order.

use crate::buffer::Buffer;
use crate::error::ErrorKind;
use crate::varint::sealed::Sealed;

/// An integer type with a fixed-width big-endian encoding of its own size.
pub trait FixedInt: Copy + Sealed {
    #[doc(hidden)]
    const SIZE: usize;
    #[doc(hidden)]
    fn put_be(self, out: &mut Vec<u8>);
    #[doc(hidden)]
    fn get_be(bytes: &[u8]) -> Self;
}

/// A signed integer type that [`fint_ord`] can pack order-preserving.
pub trait FixedSigned: FixedInt {
    #[doc(hidden)]
    fn put_ord(self, out: &mut Vec<u8>);
    #[doc(hidden)]
    fn get_ord(bytes: &[u8]) -> Self;
}

macro_rules! impl_fixed {
    ($($t:ty),*) => {$(
        impl FixedInt for $t {
            const SIZE: usize = size_of::<$t>();
            #[inline]
            fn put_be(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_be_bytes());
            }
            #[inline]
            fn get_be(bytes: &[u8]) -> Self {
                let mut a = [0u8; size_of::<$t>()];
                a.copy_from_slice(bytes);
                <$t>::from_be_bytes(a)
            }
        }
    )*};
}

macro_rules! impl_fixed_signed {
    ($($i:ty => $u:ty),*) => {$(
        impl FixedSigned for $i {
            #[inline]
            fn put_ord(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&((self as $u) ^ !(<$u>::MAX >> 1)).to_be_bytes());
            }
            #[inline]
            fn get_ord(bytes: &[u8]) -> Self {
                (<$u>::get_be(bytes) ^ !(<$u>::MAX >> 1)) as $i
            }
        }
    )*};
}

impl_fixed!(u8, u16, u32, u64, u128, i8, i16, i32, i64, i128);
impl_fixed_signed!(i8 => u8, i16 => u16, i32 => u32, i64 => u64, i128 => u128);

#[inline]
fn fixed_with<T: FixedInt>(
    v: &mut T,
    buf: &mut Buffer,
    put: impl FnOnce(T, &mut Vec<u8>),
    get: impl FnOnce(&[u8]) -> T,
) {
    if let Some(out) = buf.out() {
        put(*v, out);
    } else if let Some(bytes) = buf.take(T::SIZE) {
        *v = get(bytes);
    }
}

/// Packs an unsigned integer as big-endian bytes of its own width.
///
/// Sorts in numeric order: **yes**.
///
/// ```
/// assert_eq!(vpack::to_bytes(&mut 1000u16, vpack::fuint).unwrap(), [0x03, 0xe8]);
/// assert_eq!(vpack::from_bytes::<u32>(&[0, 1, 0, 0], vpack::fuint).unwrap(), 65536);
/// ```
#[doc(alias = "FUInt64")]
#[doc(alias = "FUInt32")]
#[doc(alias = "FUInt16")]
#[inline]
pub fn fuint<U: FixedInt + crate::Unsigned>(v: &mut U, buf: &mut Buffer) {
    fixed_with(v, buf, U::put_be, U::get_be)
}

/// Packs a signed integer as big-endian two's complement of its own width.
///
/// Sorts in numeric order: **only for non-negative values** (negatives sort
/// after positives). Use [`fint_ord`] for keys that may be negative.
///
/// ```
/// assert_eq!(vpack::to_bytes(&mut -1i64, vpack::fint).unwrap(), [0xff; 8]);
/// ```
#[doc(alias = "FInt")]
#[doc(alias = "FInt64")]
#[inline]
pub fn fint<I: FixedInt + crate::Signed>(v: &mut I, buf: &mut Buffer) {
    fixed_with(v, buf, I::put_be, I::get_be)
}

/// Packs a signed integer as big-endian bytes with the sign bit flipped.
///
/// Sorts in numeric order: **yes**, negatives included. Not a Go encoding.
///
/// ```
/// let neg = vpack::to_bytes(&mut -1i32, vpack::fint_ord).unwrap();
/// let pos = vpack::to_bytes(&mut 1i32, vpack::fint_ord).unwrap();
/// assert_eq!(neg, [0x7f, 0xff, 0xff, 0xff]);
/// assert!(neg < pos);
/// ```
#[inline]
pub fn fint_ord<I: FixedSigned>(v: &mut I, buf: &mut Buffer) {
    fixed_with(v, buf, I::put_ord, I::get_ord)
}

/// Packs an `f64` as its IEEE-754 bits, big-endian.
///
/// Sorts in numeric order: **no** (negative values reverse).
///
/// ```
/// assert_eq!(vpack::to_bytes(&mut 1.0f64, vpack::f64).unwrap(), [0x3f, 0xf0, 0, 0, 0, 0, 0, 0]);
/// ```
#[doc(alias = "Float64")]
#[inline]
pub fn f64(v: &mut f64, buf: &mut Buffer) {
    let mut bits = v.to_bits();
    fuint(&mut bits, buf);
    if buf.is_reading() && buf.is_ok() {
        *v = f64::from_bits(bits);
    }
}

/// Packs an `f32` as its IEEE-754 bits, big-endian.
///
/// Sorts in numeric order: **no**.
///
/// ```
/// assert_eq!(vpack::from_bytes::<f32>(&[0x3f, 0x80, 0, 0], vpack::f32).unwrap(), 1.0);
/// ```
#[inline]
pub fn f32(v: &mut f32, buf: &mut Buffer) {
    let mut bits = v.to_bits();
    fuint(&mut bits, buf);
    if buf.is_reading() && buf.is_ok() {
        *v = f32::from_bits(bits);
    }
}

/// Packs one byte as itself.
///
/// Sorts in numeric order: **yes**.
///
/// ```
/// assert_eq!(vpack::to_bytes(&mut 200u8, vpack::byte).unwrap(), [200]);
/// ```
#[doc(alias = "Byte")]
#[inline]
pub fn byte(v: &mut u8, buf: &mut Buffer) {
    fuint(v, buf)
}

/// Packs a bool as one byte, 0 or 1; any other byte is an error on read.
///
/// Sorts in order (`false` < `true`): **yes**.
///
/// ```
/// assert_eq!(vpack::to_bytes(&mut true, vpack::bool).unwrap(), [1]);
/// assert!(vpack::from_bytes::<bool>(&[7], vpack::bool).is_err());
/// ```
#[doc(alias = "Bool")]
#[inline]
pub fn bool(v: &mut bool, buf: &mut Buffer) {
    if let Some(out) = buf.out() {
        out.push(*v as u8);
    } else if let Some(&[b]) = buf.take(1) {
        match b {
            0 => *v = false,
            1 => *v = true,
            _ => buf.fail_at(ErrorKind::InvalidBool(b), buf.position() - 1),
        }
    }
}

/// Packs a fixed-size byte array as its `N` raw bytes.
///
/// Sorts in lexicographic byte order: **yes**.
///
/// ```
/// let mut hash = [0xabu8; 4];
/// assert_eq!(vpack::to_bytes(&mut hash, vpack::array).unwrap(), [0xab; 4]);
/// ```
#[inline]
pub fn array<const N: usize>(v: &mut [u8; N], buf: &mut Buffer) {
    if let Some(out) = buf.out() {
        out.extend_from_slice(v);
    } else if let Some(a) = buf.take_array::<N>() {
        *v = a;
    }
}

/// Packs a slice of bytes in place as its raw bytes (the bytes of
/// [`array`] for any length): for `[u8; N]` fields of derived types.
#[inline]
pub(crate) fn byte_slice(v: &mut [u8], buf: &mut Buffer) {
    if let Some(out) = buf.out() {
        out.extend_from_slice(v);
    } else if let Some(bytes) = buf.take(v.len()) {
        v.copy_from_slice(bytes);
    }
}
