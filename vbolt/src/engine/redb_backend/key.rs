//! vbolt's key type for redb: byte order, compared a word at a time.

/// The key type of every vbolt table: a byte string, ordered exactly as
/// `&[u8]` is (unsigned bytes, lexicographic, a prefix first), but compared
/// eight bytes at a time instead of through a `memcmp` call.
///
/// vbolt keys are short and made of fixed-width fields (an 8-byte id; a
/// term, priority and target), so most comparisons are decided by one or
/// three word compares. The engine compares keys at every level of every
/// lookup, which makes this the largest single cost the layer controls
/// (BENCHMARKS.md compares it with `memcmp` keys in the same run).
///
/// The engine records a table's key type by name, so the name is part of
/// the file format: a file whose tables were made with another key type
/// (vbolt 0.1 used the engine's plain `&[u8]`) is refused at open with
/// [`Error::Incompatible`](crate::Error::Incompatible) naming the mismatch, never misread.
#[derive(Debug)]
pub enum Key {}

/// The engine-level name of [`Key`], recorded in every table's definition.
pub(crate) const KEY_TYPE_NAME: &str = "vbolt.key";

impl redb::Value for Key {
    type SelfType<'a>
        = &'a [u8]
    where
        Self: 'a;
    type AsBytes<'a>
        = &'a [u8]
    where
        Self: 'a;

    fn fixed_width() -> Option<usize> {
        None
    }

    fn from_bytes<'a>(data: &'a [u8]) -> &'a [u8]
    where
        Self: 'a,
    {
        data
    }

    fn as_bytes<'a, 'b: 'a>(value: &'a &'b [u8]) -> &'a [u8]
    where
        Self: 'b,
    {
        value
    }

    fn type_name() -> redb::TypeName {
        redb::TypeName::new(KEY_TYPE_NAME)
    }
}

impl redb::Key for Key {
    #[inline]
    fn compare(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
        compare_keys(a, b)
    }

    /// The shortest prefix of `right` that still sorts after `left` (branch
    /// pages hold separators, so shorter ones mean wider, shallower trees);
    /// `left` itself when no prefix is shorter.
    fn separator<'a>(left: &'a [u8], right: &'a [u8]) -> std::borrow::Cow<'a, [u8]> {
        let shared = left.iter().zip(right).take_while(|(l, r)| l == r).count();
        let cut = shared + 1;
        if cut < left.len() && cut < right.len() {
            std::borrow::Cow::Borrowed(&right[..cut])
        } else {
            std::borrow::Cow::Borrowed(left)
        }
    }

    fn min_encoded_key() -> Option<std::borrow::Cow<'static, [u8]>> {
        Some(std::borrow::Cow::Borrowed(&[]))
    }
}

/// Orders byte strings as `a.cmp(b)` does, a big-endian word at a time.
#[inline]
pub(crate) fn compare_keys(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let mut a_rest = a;
    let mut b_rest = b;
    while let (Some((a_word, a_tail)), Some((b_word, b_tail))) = (
        a_rest.split_first_chunk::<8>(),
        b_rest.split_first_chunk::<8>(),
    ) {
        if a_word != b_word {
            return u64::from_be_bytes(*a_word).cmp(&u64::from_be_bytes(*b_word));
        }
        a_rest = a_tail;
        b_rest = b_tail;
    }
    // Fewer than eight bytes left on at least one side.
    for (x, y) in a_rest.iter().zip(b_rest) {
        if x != y {
            return x.cmp(y);
        }
    }
    a_rest.len().cmp(&b_rest.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use redb::Key as _;

    /// Byte strings from a two-letter alphabet (0 and 0xFF, the extremes),
    /// up to three words long: equal words, shared prefixes and every
    /// length relation come up often.
    fn key() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(prop_oneof![Just(0u8), Just(0xFF), any::<u8>()], 0..26)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5_000))]

        #[test]
        fn keys_order_exactly_as_byte_slices(a in key(), b in key()) {
            prop_assert_eq!(compare_keys(&a, &b), a.cmp(&b));
            // A key against its own prefixes, and against itself.
            for cut in 0..=a.len() {
                prop_assert_eq!(compare_keys(&a[..cut], &a), a[..cut].cmp(&a[..]));
                prop_assert_eq!(compare_keys(&a, &a[..cut]), a[..].cmp(&a[..cut]));
            }
        }

        #[test]
        fn separators_route_between_their_neighbours(a in key(), b in key()) {
            let (left, right) = match a.cmp(&b) {
                std::cmp::Ordering::Less => (a, b),
                std::cmp::Ordering::Greater => (b, a),
                std::cmp::Ordering::Equal => return Ok(()),
            };
            let sep = Key::separator(&left, &right);
            prop_assert!(left.as_slice() <= &*sep && &*sep < right.as_slice());
            prop_assert!(sep.len() <= left.len());
        }
    }

    #[test]
    fn word_boundaries_and_high_bytes_order_as_unsigned() {
        let cases: [(&[u8], &[u8]); 6] = [
            (&[], &[0]),
            (&[1, 2, 3, 4, 5, 6, 7, 8], &[1, 2, 3, 4, 5, 6, 7, 8, 0]),
            (&[0x7F; 8], &[0x80; 8]),
            (&[0, 0, 0, 0, 0, 0, 0, 0, 0xFF], &[0, 0, 0, 0, 0, 0, 0, 1]),
            (&[9; 16], &[9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 10]),
            (&[5, 0xFF], &[6]),
        ];
        for (lo, hi) in cases {
            assert_eq!(
                compare_keys(lo, hi),
                std::cmp::Ordering::Less,
                "{lo:?} < {hi:?}"
            );
            assert_eq!(compare_keys(hi, lo), std::cmp::Ordering::Greater);
            assert_eq!(compare_keys(lo, lo), std::cmp::Ordering::Equal);
        }
    }
}
