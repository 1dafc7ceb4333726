//! [`Blank`]: the value a read starts from, for code that decodes a type
//! through a pack function it was handed rather than through [`Pack`].

use crate::pack::Pack;

/// The value a read of `Self` starts from: what a pack function fills in.
///
/// A pack function reads *into* a value, so whoever decodes a type with a
/// pack function it was given needs a first value to hand it. vbolt needs
/// one for every key, index term, target and priority it reads back, and
/// uses the same value as the *zero key* ("no key"), so `Blank` is the
/// bound on those types.
///
/// Every type with a [`Pack`] impl is `Blank`, with [`Pack::blank`]:
/// integers and floats (`0`), `bool` (`false`), `String` and `Vec` (empty),
/// `Option` (`None`), `SystemTime` (the Unix epoch: `SystemTime` has no
/// `Default`), `Uuid` (nil), arrays of any length, tuples, maps, and every
/// `#[derive(Pack)]` type. A type of your own that packs only with a
/// hand-written function implements it in one line:
///
/// ```
/// use vpack::Blank;
///
/// #[derive(Clone, Copy, PartialEq, Debug)]
/// struct RoomId(u64);
///
/// fn pack_room_id(r: &mut RoomId, buf: &mut vpack::Buffer) {
///     vpack::fuint(&mut r.0, buf);
/// }
///
/// impl Blank for RoomId {
///     fn blank() -> Self {
///         RoomId(0)
///     }
/// }
///
/// let bytes = [0, 0, 0, 0, 0, 0, 0, 42];
/// let back = vpack::from_bytes_start(&bytes, RoomId::blank(), pack_room_id)?;
/// assert_eq!(back, RoomId(42));
/// # Ok::<(), vpack::Error>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no blank value to read into (it does not implement `vpack::Blank`)",
    label = "no `vpack::Blank` for `{Self}`",
    note = "derive `vpack::Pack` on the type, or implement `vpack::Blank` for it: one function \
            returning the value a read starts from (for a key, its zero value)"
)]
pub trait Blank {
    /// The value a read starts from; for a key, the zero key.
    fn blank() -> Self;
}

impl<T: Pack> Blank for T {
    #[inline]
    fn blank() -> Self {
        <T as Pack>::blank()
    }
}

#[cfg(test)]
mod tests {
    use std::time::{SystemTime, UNIX_EPOCH};

    use super::Blank;

    fn blank_of<T: Blank>() -> T {
        T::blank()
    }

    #[test]
    fn the_blank_of_a_packable_type_is_its_pack_blank() {
        assert_eq!(blank_of::<u64>(), 0);
        assert_eq!(blank_of::<String>(), "");
        assert_eq!(blank_of::<SystemTime>(), UNIX_EPOCH);
        assert_eq!(blank_of::<Option<SystemTime>>(), None);
        assert_eq!(blank_of::<[u8; 40]>(), [0; 40]);
        assert_eq!(blank_of::<(u32, SystemTime)>(), (0, UNIX_EPOCH));
    }
}
