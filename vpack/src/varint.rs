//! Variable-length integers: [`uint`] (unsigned LEB128) and [`int`]
//! (zig-zag, then LEB128), for every Rust integer width.
//!
//! Small magnitudes take few bytes, which suits values; the bytes do **not**
//! sort in numeric order, so use [`fint`](crate::fint) or
//! [`fint_ord`](crate::fint_ord) for keys.
//!
//! Reads are canonical: a varint longer than its width allows, one with
//! redundant trailing zero groups, or one whose value does not fit the
//! target type is an error.

use crate::buffer::Buffer;
use crate::error::ErrorKind;

/// An unsigned integer type that [`uint`] can pack.
pub trait Unsigned: Copy + sealed::Sealed {
    #[doc(hidden)]
    fn write_uvarint(self, out: &mut Vec<u8>);
    #[doc(hidden)]
    fn read_uvarint(buf: &mut Buffer<'_>) -> Option<Self>;
}

/// A signed integer type that [`int`] can pack.
pub trait Signed: Copy + sealed::Sealed {
    #[doc(hidden)]
    fn write_zigzag(self, out: &mut Vec<u8>);
    #[doc(hidden)]
    fn read_zigzag(buf: &mut Buffer<'_>) -> Option<Self>;
}

pub(crate) mod sealed {
    pub trait Sealed {}
}

#[inline]
pub(crate) fn write_u64(mut v: u64, out: &mut Vec<u8>) {
    let mut tmp = [0u8; 10];
    let mut n = 0;
    while v >= 0x80 {
        tmp[n] = (v as u8) | 0x80;
        v >>= 7;
        n += 1;
    }
    tmp[n] = v as u8;
    out.extend_from_slice(&tmp[..=n]);
}

fn write_u128(mut v: u128, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads an unsigned LEB128 (at most ten bytes) into a u64.
#[inline]
pub(crate) fn read_u64(buf: &mut Buffer<'_>) -> Option<u64> {
    // A failed buffer has no input left: every path below ends at once.
    let rest = buf.rest();
    // Fast path: one byte.
    if let Some(&b) = rest.first()
        && b < 0x80
    {
        buf.advance(1);
        return Some(b as u64);
    }
    if let Some(word) = rest.first_chunk::<8>()
        && let Some((value, len)) = decode_word(u64::from_le_bytes(*word))
    {
        // `len` is at least 2: the first byte has its high bit set, or the
        // one-byte path above would have taken it.
        if value >> (7 * (len - 1)) == 0 {
            // The last group is zero: the same value fits in fewer bytes.
            buf.fail_kind(ErrorKind::VarintOverlong);
            return None;
        }
        buf.advance(len);
        return Some(value);
    }
    read_u64_bytewise(buf)
}

/// Decodes a varint of up to eight bytes from the first eight bytes of the
/// input, read as a little-endian word, without a loop: returns the value
/// and its length, or `None` if no byte of the word ends the varint.
///
/// Timestamps (five bytes) and ids (three) are the common multi-byte values;
/// this takes a fixed dozen operations where the byte loop took a branch
/// per byte (BENCHMARKS.md, "varint reads").
#[inline]
fn decode_word(word: u64) -> Option<(u64, usize)> {
    const HIGH_BITS: u64 = 0x8080_8080_8080_8080;
    // The high bit of the last byte is clear; find the first such byte.
    let ends = !word & HIGH_BITS;
    if ends == 0 {
        return None;
    }
    let len = (ends.trailing_zeros() as usize + 1) / 8;
    let kept = if len == 8 {
        word
    } else {
        word & ((1u64 << (8 * len)) - 1)
    };
    // Squeeze out the continuation bits: 8 groups of 7 bits become 56
    // contiguous bits, pairs of groups first, then pairs of pairs.
    let mut x = kept & !HIGH_BITS;
    x = (x & 0x007f_007f_007f_007f) | ((x & 0x7f00_7f00_7f00_7f00) >> 1);
    x = (x & 0x0000_3fff_0000_3fff) | ((x & 0x3fff_0000_3fff_0000) >> 2);
    x = (x & 0x0000_0000_0fff_ffff) | ((x & 0x0fff_ffff_0000_0000) >> 4);
    Some((x, len))
}

/// The general case of [`read_u64`]: one byte at a time, up to ten.
fn read_u64_bytewise(buf: &mut Buffer<'_>) -> Option<u64> {
    let rest = buf.rest();
    let mut value: u64 = 0;
    for (i, &b) in rest.iter().enumerate() {
        if i == 9 && b > 1 {
            buf.fail_kind(ErrorKind::VarintTooLong);
            return None;
        }
        value |= ((b & 0x7f) as u64) << (7 * i);
        if b < 0x80 {
            if b == 0 && i > 0 {
                buf.fail_kind(ErrorKind::VarintOverlong);
                return None;
            }
            buf.advance(i + 1);
            return Some(value);
        }
    }
    buf.fail_kind(ErrorKind::UnexpectedEnd);
    None
}

fn read_u128(buf: &mut Buffer<'_>) -> Option<u128> {
    // A failed buffer has no input left: the loop below ends at once.
    let rest = buf.rest();
    let mut value: u128 = 0;
    for (i, &b) in rest.iter().enumerate() {
        // 18 groups carry 126 bits; the 19th may carry the last 2.
        if i == 18 && b > 3 {
            buf.fail_kind(ErrorKind::VarintTooLong);
            return None;
        }
        value |= ((b & 0x7f) as u128) << (7 * i);
        if b < 0x80 {
            if b == 0 && i > 0 {
                buf.fail_kind(ErrorKind::VarintOverlong);
                return None;
            }
            buf.advance(i + 1);
            return Some(value);
        }
    }
    buf.fail_kind(ErrorKind::UnexpectedEnd);
    None
}

macro_rules! impl_varint_64 {
    ($($u:ty, $i:ty);*) => {$(
        impl sealed::Sealed for $u {}
        impl sealed::Sealed for $i {}
        impl Unsigned for $u {
            #[inline]
            fn write_uvarint(self, out: &mut Vec<u8>) {
                write_u64(self as u64, out)
            }
            #[inline]
            fn read_uvarint(buf: &mut Buffer<'_>) -> Option<Self> {
                let at = buf.position();
                let v = read_u64(buf)?;
                match <$u>::try_from(v) {
                    Ok(v) => Some(v),
                    Err(_) => {
                        buf.fail_at(ErrorKind::OutOfRange, at);
                        None
                    }
                }
            }
        }
        impl Signed for $i {
            #[inline]
            fn write_zigzag(self, out: &mut Vec<u8>) {
                let v = self as i64;
                write_u64(((v << 1) ^ (v >> 63)) as u64, out)
            }
            #[inline]
            fn read_zigzag(buf: &mut Buffer<'_>) -> Option<Self> {
                let at = buf.position();
                let u = read_u64(buf)?;
                let v = ((u >> 1) as i64) ^ -((u & 1) as i64);
                match <$i>::try_from(v) {
                    Ok(v) => Some(v),
                    Err(_) => {
                        buf.fail_at(ErrorKind::OutOfRange, at);
                        None
                    }
                }
            }
        }
    )*};
}

impl_varint_64!(u8, i8; u16, i16; u32, i32; u64, i64; usize, isize);

impl sealed::Sealed for u128 {}
impl sealed::Sealed for i128 {}

impl Unsigned for u128 {
    fn write_uvarint(self, out: &mut Vec<u8>) {
        write_u128(self, out)
    }
    fn read_uvarint(buf: &mut Buffer<'_>) -> Option<Self> {
        read_u128(buf)
    }
}

impl Signed for i128 {
    fn write_zigzag(self, out: &mut Vec<u8>) {
        write_u128(((self << 1) ^ (self >> 127)) as u128, out)
    }
    fn read_zigzag(buf: &mut Buffer<'_>) -> Option<Self> {
        let u = read_u128(buf)?;
        Some(((u >> 1) as i128) ^ -((u & 1) as i128))
    }
}

/// Packs an unsigned integer as a varint.
///
/// Sorts in numeric order: **no**.
///
/// ```
/// assert_eq!(vpack::to_bytes(&mut 300u64, vpack::uint).unwrap(), [0xac, 0x02]);
/// // Reading into a narrower type checks the range.
/// assert!(vpack::from_bytes::<u8>(&[0xac, 0x02], vpack::uint).is_err());
/// ```
#[doc(alias = "UInt")]
#[doc(alias = "VUInt64")]
#[inline]
pub fn uint<U: Unsigned>(v: &mut U, buf: &mut Buffer) {
    if let Some(out) = buf.out() {
        v.write_uvarint(out);
    } else if let Some(x) = U::read_uvarint(buf) {
        *v = x;
    }
}

/// Packs a signed integer as a zig-zag varint.
///
/// Sorts in numeric order: **no**.
///
/// ```
/// assert_eq!(vpack::to_bytes(&mut -65i64, vpack::int).unwrap(), [0x81, 0x01]);
/// assert_eq!(vpack::from_bytes::<i16>(&[0x81, 0x01], vpack::int).unwrap(), -65);
/// ```
#[doc(alias = "Int")]
#[doc(alias = "VInt64")]
#[inline]
pub fn int<I: Signed>(v: &mut I, buf: &mut Buffer) {
    if let Some(out) = buf.out() {
        v.write_zigzag(out);
    } else if let Some(x) = I::read_zigzag(buf) {
        *v = x;
    }
}

/// Reads or writes a length prefix (zig-zag varint, as Go writes it) and
/// returns the length; on a reader it is checked against the bytes left.
#[inline]
pub(crate) fn length(len: usize, buf: &mut Buffer) -> Option<usize> {
    if let Some(out) = buf.out() {
        (len as i64).write_zigzag(out);
        return Some(len);
    }
    let at = buf.position();
    let n = i64::read_zigzag(buf)?;
    if n < 0 {
        buf.fail_at(ErrorKind::NegativeLength, at);
        return None;
    }
    buf.check_len(n as u64, at)
}
