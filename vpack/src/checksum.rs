//! Checksummed values: a pack function's bytes followed by their CRC-32,
//! so that a value damaged where it is kept (a flipped bit on a disk, a
//! torn sector) fails to unpack instead of reading as another value.

use crate::buffer::{Buffer, PackFn};
use crate::error::ErrorKind;
use crate::fixed::fuint;

/// Packs `v` with `pack`, followed by the CRC-32 of the bytes `pack`
/// wrote (4 bytes, big-endian); reading checks it, and bytes that changed
/// since they were written fail with [`ErrorKind::ChecksumMismatch`].
///
/// Wrap a value's pack function in it to detect damage at rest on every
/// read, for 4 bytes per value and one pass of CRC-32 over its bytes
/// (hardware-assisted where the CPU has it). It is part of the value's
/// encoding, like a version number: adding it to a stored type changes
/// the bytes, so do it in a new version or for new data.
///
/// ```
/// #[derive(Debug, Default, PartialEq)]
/// struct Note { text: String }
///
/// fn pack_note(n: &mut Note, buf: &mut vpack::Buffer) {
///     vpack::version(1, buf);
///     vpack::string(&mut n.text, buf);
/// }
///
/// fn pack_note_checked(n: &mut Note, buf: &mut vpack::Buffer) {
///     vpack::checked(n, buf, pack_note);
/// }
///
/// let mut bytes = vpack::to_bytes(&mut Note { text: "hello".into() }, pack_note_checked)?;
/// assert_eq!(bytes.len(), 1 + 1 + 5 + 4);
/// assert_eq!(vpack::from_bytes(&bytes, pack_note_checked)?.text, "hello");
///
/// bytes[3] ^= 0x01; // "hdllo": still valid UTF-8, but not what was written
/// let err = vpack::from_bytes(&bytes, pack_note_checked).unwrap_err();
/// assert!(matches!(err.kind(), vpack::ErrorKind::ChecksumMismatch { .. }));
/// # Ok::<(), vpack::Error>(())
/// ```
pub fn checked<T>(v: &mut T, buf: &mut Buffer, pack: PackFn<T>) {
    let mark = buf.mark();
    pack(v, buf);
    if !buf.is_ok() {
        return;
    }
    let computed = crc32fast::hash(buf.since(&mark));
    let at = buf.position();
    let mut stored = computed;
    fuint(&mut stored, buf);
    if buf.is_reading() && buf.is_ok() && stored != computed {
        buf.fail_at(ErrorKind::ChecksumMismatch { stored, computed }, at);
    }
}
