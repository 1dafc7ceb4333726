//! Times on [`SystemTime`], as whole seconds or milliseconds since the Unix
//! epoch, in three flavours each:
//!
//! | function | bytes | sorts in time order |
//! |---|---|---|
//! | [`unix_time`], [`unix_time_milli`] | zig-zag varint (Go) | no |
//! | [`unix_time_key`], [`unix_time_milli_key`] | 8-byte big-endian two's complement (Go) | only from 1970 on |
//! | [`unix_time_ord`], [`unix_time_milli_ord`] | 8-byte big-endian, sign bit flipped | yes, before 1970 too |
//!
//! Sub-unit precision is dropped when writing, rounding toward the past (as
//! Go's `Unix()` and `UnixMilli()` do), so a time reads back as the start of
//! its second or millisecond.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::buffer::Buffer;
use crate::error::ErrorKind;
use crate::fixed::{fint, fint_ord};
use crate::varint::int;

/// Whole units (of `unit_nanos` nanoseconds) since the epoch, floored.
fn to_units(t: SystemTime, unit_nanos: u128) -> Option<i64> {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos() / unit_nanos).ok(),
        Err(e) => {
            // Negated in i128: -2^63 fits an i64 though 2^63 does not, so
            // every time that reads back also writes back.
            let units = i128::try_from(e.duration().as_nanos().div_ceil(unit_nanos)).ok()?;
            i64::try_from(-units).ok()
        }
    }
}

fn from_units(units: i64, unit_nanos: u64) -> Option<SystemTime> {
    let magnitude = units.unsigned_abs();
    let secs = magnitude / (1_000_000_000 / unit_nanos);
    let sub = (magnitude % (1_000_000_000 / unit_nanos)) * unit_nanos;
    let d = Duration::new(secs, sub as u32);
    if units >= 0 {
        UNIX_EPOCH.checked_add(d)
    } else {
        UNIX_EPOCH.checked_sub(d)
    }
}

/// Packs a time as an `i64` count of units through `pack`.
#[inline]
fn time_as(v: &mut SystemTime, buf: &mut Buffer, unit_nanos: u64, pack: fn(&mut i64, &mut Buffer)) {
    let mut units = 0i64;
    if buf.is_writing() {
        match to_units(*v, unit_nanos as u128) {
            Some(u) => units = u,
            None => return buf.fail_kind(ErrorKind::TimeOutOfRange),
        }
    }
    let at = buf.position();
    pack(&mut units, buf);
    if buf.is_reading() && buf.is_ok() {
        match from_units(units, unit_nanos) {
            Some(t) => *v = t,
            None => buf.fail_at(ErrorKind::TimeOutOfRange, at),
        }
    }
}

const SEC: u64 = 1_000_000_000;
const MILLI: u64 = 1_000_000;

/// Packs a time as zig-zag varint Unix seconds.
///
/// Sorts in time order: **no**.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// let mut t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// assert_eq!(vpack::to_bytes(&mut t, vpack::unix_time).unwrap(), [0x80, 0xc4, 0x9f, 0xd5, 0x0c]);
/// ```
#[doc(alias = "UnixTime")]
pub fn unix_time(v: &mut SystemTime, buf: &mut Buffer) {
    time_as(v, buf, SEC, int)
}

/// Packs a time as 8-byte big-endian two's-complement Unix seconds.
///
/// Sorts in time order: **only for times from 1970 on**; use
/// [`unix_time_ord`] when earlier times can occur.
#[doc(alias = "UnixTimeKey")]
pub fn unix_time_key(v: &mut SystemTime, buf: &mut Buffer) {
    time_as(v, buf, SEC, fint)
}

/// Packs a time as 8-byte big-endian Unix seconds with the sign bit flipped.
///
/// Sorts in time order: **yes**, before 1970 too. Not a Go encoding.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// let mut before = UNIX_EPOCH - Duration::from_secs(1);
/// let mut after = UNIX_EPOCH + Duration::from_secs(1);
/// let a = vpack::to_bytes(&mut before, vpack::unix_time_ord).unwrap();
/// let b = vpack::to_bytes(&mut after, vpack::unix_time_ord).unwrap();
/// assert!(a < b);
/// ```
pub fn unix_time_ord(v: &mut SystemTime, buf: &mut Buffer) {
    time_as(v, buf, SEC, fint_ord)
}

/// Packs a time as zig-zag varint Unix milliseconds.
///
/// Sorts in time order: **no**.
#[doc(alias = "UnixTimeMilli")]
pub fn unix_time_milli(v: &mut SystemTime, buf: &mut Buffer) {
    time_as(v, buf, MILLI, int)
}

/// Packs a time as 8-byte big-endian two's-complement Unix milliseconds.
///
/// Sorts in time order: **only for times from 1970 on**.
#[doc(alias = "UnixTimeMilliKey")]
pub fn unix_time_milli_key(v: &mut SystemTime, buf: &mut Buffer) {
    time_as(v, buf, MILLI, fint)
}

/// Packs a time as 8-byte big-endian Unix milliseconds with the sign bit
/// flipped.
///
/// Sorts in time order: **yes**, before 1970 too. Not a Go encoding.
pub fn unix_time_milli_ord(v: &mut SystemTime, buf: &mut Buffer) {
    time_as(v, buf, MILLI, fint_ord)
}
