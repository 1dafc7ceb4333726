//! Schema versions: the first thing a versioned pack function packs.

use crate::buffer::Buffer;
use crate::error::ErrorKind;
use crate::varint::int;

/// Writes `current` as the version of the value (a zig-zag varint, as Go's
/// `Version`), or reads the stored version; returns the version the rest of
/// the pack function must follow.
///
/// - Writing: records `current` and returns it.
/// - Reading data of version `current` or older: returns the stored version,
///   so the pack function skips the fields that version did not have (they
///   keep their default).
/// - Reading data of a *newer* version (or a negative one): an error, never a
///   guess; the returned value is `current` and all further reads are no-ops.
///
/// ```
/// #[derive(Default, Debug, PartialEq)]
/// struct User { name: String, admin: bool, email: String }
///
/// fn pack_user_v1(u: &mut User, buf: &mut vpack::Buffer) {
///     vpack::version(1, buf);
///     vpack::string(&mut u.name, buf);
///     vpack::bool(&mut u.admin, buf);
/// }
///
/// fn pack_user(u: &mut User, buf: &mut vpack::Buffer) {
///     let v = vpack::version(2, buf);
///     vpack::string(&mut u.name, buf);
///     vpack::bool(&mut u.admin, buf);
///     if v >= 2 {
///         vpack::string(&mut u.email, buf);
///     }
/// }
///
/// let mut old = User { name: "ann".into(), admin: true, email: String::new() };
/// let bytes = vpack::to_bytes(&mut old, pack_user_v1).unwrap();
/// // New code reads old data: the new field keeps its default.
/// assert_eq!(vpack::from_bytes(&bytes, pack_user).unwrap(), old);
///
/// // Old code refuses new data instead of misreading it.
/// let mut new = User { email: "a@b.c".into(), ..old };
/// let bytes = vpack::to_bytes(&mut new, pack_user).unwrap();
/// let err = vpack::from_bytes(&bytes, pack_user_v1).unwrap_err();
/// assert_eq!(err.kind(), &vpack::ErrorKind::NewerVersion { stored: 2, current: 1 });
/// ```
#[doc(alias = "Version")]
pub fn version(current: u32, buf: &mut Buffer) -> u32 {
    if buf.is_writing() {
        let mut v = current as i64;
        int(&mut v, buf);
        return current;
    }
    let at = buf.position();
    let mut stored = 0i64;
    int(&mut stored, buf);
    if !buf.is_ok() {
        return current;
    }
    match u32::try_from(stored) {
        Ok(s) if s <= current => s,
        Ok(s) => {
            buf.fail_at(ErrorKind::NewerVersion { stored: s, current }, at);
            current
        }
        Err(_) => {
            buf.fail_at(ErrorKind::OutOfRange, at);
            current
        }
    }
}
