//! Strings, chars and byte vectors.
//!
//! [`string`] and [`bytes`] are length-prefixed: the right choice inside a
//! value. [`string_z`] is NUL-terminated, so its bytes sort like the string
//! and a string is never a prefix-collision with another: the right choice
//! for keys.

use crate::buffer::{Buffer, reset_for};
use crate::error::ErrorKind;
use crate::varint::{Signed, length};

/// Packs a `String` as a zig-zag varint byte length and then its UTF-8 bytes.
/// Invalid UTF-8 is an error on read.
///
/// Sorts in string order: **no** (shorter strings sort first).
///
/// ```
/// let mut s = String::from("Hello");
/// assert_eq!(vpack::to_bytes(&mut s, vpack::string).unwrap(), b"\x0aHello");
/// ```
#[doc(alias = "String")]
#[inline]
pub fn string(v: &mut String, buf: &mut Buffer) {
    if let Some(len) = length(v.len(), buf) {
        if let Some(out) = buf.out() {
            out.extend_from_slice(v.as_bytes());
        } else if let Some(bytes) = buf.take(len) {
            match std::str::from_utf8(bytes) {
                Ok(s) => set_str(v, s),
                Err(_) => buf.fail_at(ErrorKind::InvalidUtf8, buf.position() - len),
            }
        }
    }
}

/// Replaces `v`'s contents with `s`, allocating exactly `s.len()` when `v`
/// is too small (the string form of `reset_for`).
#[inline]
fn set_str(v: &mut String, s: &str) {
    if v.capacity() < s.len() {
        *v = s.to_owned();
    } else {
        v.clear();
        v.push_str(s);
    }
}

/// Packs a `String` as its bytes followed by a NUL byte.
///
/// Writing a string that contains a NUL byte fails (no bytes are produced):
/// in a key, an inner NUL would make one key a prefix of another.
///
/// Sorts in string (byte) order: **yes**.
///
/// ```
/// let mut s = String::from("ab");
/// assert_eq!(vpack::to_bytes(&mut s, vpack::string_z).unwrap(), b"ab\0");
/// let mut bad = String::from("a\0b");
/// assert!(vpack::to_bytes(&mut bad, vpack::string_z).is_err());
/// ```
#[doc(alias = "StringZ")]
#[inline]
pub fn string_z(v: &mut String, buf: &mut Buffer) {
    if buf.is_writing() {
        if v.as_bytes().contains(&0) {
            buf.fail_kind(ErrorKind::NulInString);
        } else if let Some(out) = buf.out() {
            out.extend_from_slice(v.as_bytes());
            out.push(0);
        }
        return;
    }
    // A failed buffer has no input left, so this finds no NUL and records
    // nothing new.
    let rest = buf.rest();
    let Some(end) = rest.iter().position(|&b| b == 0) else {
        buf.fail_kind(ErrorKind::MissingNul);
        return;
    };
    match std::str::from_utf8(&rest[..end]) {
        Ok(s) => {
            set_str(v, s);
            buf.advance(end + 1);
        }
        Err(_) => buf.fail_kind(ErrorKind::InvalidUtf8),
    }
}

/// Packs a `char` as the zig-zag varint of its code point.
/// Surrogates and values above U+10FFFF are errors on read.
///
/// Sorts in code point order: **no**.
///
/// ```
/// assert_eq!(vpack::to_bytes(&mut 'a', vpack::rune).unwrap(), [0xc2, 0x01]);
/// ```
#[doc(alias = "Rune")]
#[inline]
pub fn rune(v: &mut char, buf: &mut Buffer) {
    if let Some(out) = buf.out() {
        (*v as i64).write_zigzag(out);
        return;
    }
    let at = buf.position();
    if let Some(code) = i64::read_zigzag(buf) {
        match u32::try_from(code).ok().and_then(char::from_u32) {
            Some(c) => *v = c,
            None => buf.fail_at(ErrorKind::InvalidChar(code), at),
        }
    }
}

/// Packs a `Vec<u8>` as a zig-zag varint length and then the bytes.
///
/// Sorts in byte order: **no**.
///
/// ```
/// let mut b = vec![1u8, 2, 3];
/// assert_eq!(vpack::to_bytes(&mut b, vpack::bytes).unwrap(), [6, 1, 2, 3]);
/// ```
#[doc(alias = "ByteSlice")]
#[inline]
pub fn bytes(v: &mut Vec<u8>, buf: &mut Buffer) {
    if let Some(len) = length(v.len(), buf) {
        if let Some(out) = buf.out() {
            out.extend_from_slice(v);
        } else if let Some(bytes) = buf.take(len) {
            reset_for(v, len, len);
            v.extend_from_slice(bytes);
        }
    }
}
