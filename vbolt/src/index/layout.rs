//! The byte layout of an index's entries and of its pagination cursors.
//!
//! A term entry's key is `term priority target` and its value records the
//! first two lengths (two varints), so [`split_term_entry`] cuts a key into
//! its three parts without knowing their types; [`entry_value`] writes that
//! value. A count is a `u64`, big-endian. A cursor is a version byte, an
//! 8-byte tag binding it to one index and one term ([`cursor_tag`]), then
//! the position after the last entry a page consumed.
//!
//! Everything here reads bytes that may be damaged or, for cursors, forged
//! by a client: each reader answers `None` or an error, never a panic.

use crate::engine::{TableId, fnv1a};
use crate::error::Error;
use crate::window::Cursor;

/// Writes `n` as an unsigned varint at `out[at..]`; returns the end.
fn encode_len(mut n: usize, out: &mut [u8; 20], mut at: usize) -> usize {
    while n >= 0x80 {
        out[at] = n as u8 | 0x80;
        n >>= 7;
        at += 1;
    }
    out[at] = n as u8;
    at + 1
}

/// The value of a term entry: the lengths of its term and its priority, so
/// the key splits into (term, priority, target) without knowing the types.
pub(super) fn entry_value(term_len: usize, prio_len: usize, out: &mut [u8; 20]) -> usize {
    let at = encode_len(term_len, out, 0);
    encode_len(prio_len, out, at)
}

/// Splits a term entry's key into (term, priority, target) using the
/// lengths in its value; `None` if they do not fit the key.
#[inline]
pub(crate) fn split_term_entry<'k>(key: &'k [u8], value: &[u8]) -> Option<[&'k [u8]; 3]> {
    let (t, p) = match *value {
        // The usual case: both lengths below 128, one varint byte each.
        [t, p] if t < 0x80 && p < 0x80 => (usize::from(t), usize::from(p)),
        _ => long_entry_lengths(value)?,
    };
    let end = t.checked_add(p)?;
    if end > key.len() {
        return None;
    }
    Some([&key[..t], &key[t..end], &key[end..]])
}

/// The (term, priority) lengths of an entry value that is not two bytes.
#[cold]
fn long_entry_lengths(value: &[u8]) -> Option<(usize, usize)> {
    let mut buf = vpack::Buffer::reader(value);
    let (mut term_len, mut prio_len) = (0u64, 0u64);
    vpack::uint(&mut term_len, &mut buf);
    vpack::uint(&mut prio_len, &mut buf);
    buf.finish().ok()?;
    Some((
        usize::try_from(term_len).ok()?,
        usize::try_from(prio_len).ok()?,
    ))
}

pub(crate) fn count_of(bytes: &[u8]) -> Option<u64> {
    bytes.try_into().ok().map(u64::from_be_bytes)
}

/// A 64-bit FNV-1a tag binding a cursor to one index and one term: the
/// table's name hash continued over the term's bytes.
pub(crate) fn cursor_tag(table: &TableId, term: &[u8]) -> [u8; 8] {
    fnv1a(table.name_hash(), term).to_be_bytes()
}

/// The first byte of every cursor: its format.
const CURSOR_VERSION: u8 = 1;
/// Bytes before a cursor's position: the version and the tag.
const CURSOR_HEAD: usize = 9;

/// The position within its term that a window's cursor marks (the suffix
/// of the last entry consumed); `None` without a cursor or at the start.
/// A cursor not made for this index and term (its `tag`) is refused.
pub(crate) fn cursor_position<'c>(
    index: &'static str,
    tag: &[u8; 8],
    cursor: Option<&'c Cursor>,
) -> Result<Option<&'c [u8]>, Error> {
    let Some(cursor) = cursor else {
        return Ok(None);
    };
    let c = cursor.as_bytes();
    if c.len() < CURSOR_HEAD || c[0] != CURSOR_VERSION || c[1..CURSOR_HEAD] != tag[..] {
        return Err(Error::InvalidCursor { index });
    }
    Ok(Some(&c[CURSOR_HEAD..]).filter(|p| !p.is_empty()))
}

/// The cursor of the page that starts after `position` (the suffix of the
/// last entry consumed) in the term `tag` was made for.
pub(super) fn make_cursor(tag: &[u8; 8], position: &[u8]) -> Cursor {
    let mut c = Vec::with_capacity(CURSOR_HEAD + position.len());
    c.push(CURSOR_VERSION);
    c.extend_from_slice(tag);
    c.extend_from_slice(position);
    Cursor(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::TableKind;

    /// A term entry's key and value for parts of these lengths.
    fn entry(term: usize, prio: usize, target: usize) -> (Vec<u8>, Vec<u8>) {
        let key: Vec<u8> = (0..term + prio + target).map(|i| i as u8).collect();
        let mut value = [0u8; 20];
        let n = entry_value(term, prio, &mut value);
        (key, value[..n].to_vec())
    }

    #[test]
    fn an_entry_splits_into_the_lengths_its_value_records() {
        // One-byte and multi-byte varints, on both sides of each boundary.
        for (t, p) in [(0, 0), (1, 2), (127, 1), (128, 0), (3, 128), (300, 16_384)] {
            let (key, value) = entry(t, p, 5);
            let [term, prio, target] = split_term_entry(&key, &value).unwrap();
            assert_eq!(
                (term, prio, target),
                (&key[..t], &key[t..t + p], &key[t + p..])
            );
        }
        // The usual value is two bytes.
        assert_eq!(entry(10, 8, 8).1, [10, 8]);
        assert_eq!(entry(128, 8, 8).1, [0x80, 0x01, 8]);
    }

    #[test]
    fn a_value_that_does_not_fit_its_key_is_refused() {
        let (key, value) = entry(4, 4, 0);
        assert!(split_term_entry(&key, &value).is_some());
        // Lengths longer than the key.
        assert!(split_term_entry(&key[..7], &value).is_none());
        assert!(split_term_entry(&key, &[5, 4]).is_none());
        // Lengths whose sum overflows.
        let mut huge = [0u8; 20];
        let n = entry_value(usize::MAX, 1, &mut huge);
        assert!(split_term_entry(&key, &huge[..n]).is_none());
        // Not two varints: empty, one, truncated, trailing bytes.
        for value in [&[][..], &[4], &[0x84], &[4, 0x84], &[4, 4, 0]] {
            assert!(split_term_entry(&key, value).is_none(), "{value:?}");
        }
        // A length over 64 bits.
        let long = [0xFF; 11];
        assert!(split_term_entry(&key, &long).is_none());
    }

    #[test]
    fn a_count_is_exactly_eight_bytes() {
        assert_eq!(count_of(&7u64.to_be_bytes()), Some(7));
        assert_eq!(count_of(&[0; 7]), None);
        assert_eq!(count_of(&[0; 9]), None);
        assert_eq!(count_of(&[]), None);
    }

    #[test]
    fn a_cursor_is_accepted_only_by_the_term_it_was_made_for() {
        let table = TableId::new(TableKind::IndexTerms, "layout_test");
        let tag = cursor_tag(&table, b"term");
        let cursor = make_cursor(&tag, b"position");
        assert_eq!(
            cursor_position("i", &tag, Some(&cursor)).unwrap(),
            Some(&b"position"[..])
        );
        assert_eq!(cursor_position("i", &tag, None).unwrap(), None);
        // An empty position is the start of the walk.
        assert_eq!(
            cursor_position("i", &tag, Some(&make_cursor(&tag, b""))).unwrap(),
            None
        );

        let refused = |c: &Cursor| {
            matches!(
                cursor_position("i", &tag, Some(c)),
                Err(Error::InvalidCursor { index: "i" })
            )
        };
        // Another term, another index.
        assert!(refused(&make_cursor(
            &cursor_tag(&table, b"terms"),
            b"position"
        )));
        let other = TableId::new(TableKind::IndexTerms, "layout_test_2");
        assert!(refused(&make_cursor(
            &cursor_tag(&other, b"term"),
            b"position"
        )));
        // Another version, too short, empty.
        let mut bytes = cursor.as_bytes().to_vec();
        bytes[0] = CURSOR_VERSION + 1;
        assert!(refused(&Cursor(bytes)));
        assert!(refused(&Cursor(
            cursor.as_bytes()[..CURSOR_HEAD - 1].to_vec()
        )));
        assert!(refused(&Cursor(Vec::new())));
    }
}
