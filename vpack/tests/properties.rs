//! Property tests: random values round-trip exactly, key encodings sort in
//! value order, and random bytes never panic any decoder.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proptest::prelude::*;
use vpack::Buffer;

mod common;
use common::article::{Article, pack_article};

fn round_trip<T: Default + PartialEq + std::fmt::Debug + Clone>(
    value: &T,
    pack: impl Fn(&mut T, &mut Buffer),
) -> Result<(), TestCaseError> {
    let bytes = vpack::to_bytes(&mut value.clone(), &pack).unwrap();
    let back = vpack::from_bytes(&bytes, &pack).unwrap();
    prop_assert_eq!(&back, value);
    Ok(())
}

fn bytes_of<T: Clone>(value: &T, pack: impl Fn(&mut T, &mut Buffer)) -> Vec<u8> {
    vpack::to_bytes(&mut value.clone(), pack).unwrap()
}

fn time_from_secs(s: i64) -> SystemTime {
    let d = Duration::from_secs(s.unsigned_abs());
    if s >= 0 {
        UNIX_EPOCH + d
    } else {
        UNIX_EPOCH - d
    }
}

fn time_round_trip(
    t: SystemTime,
    pack: fn(&mut SystemTime, &mut Buffer),
) -> Result<(), TestCaseError> {
    let bytes = vpack::to_bytes(&mut t.clone(), pack).unwrap();
    let mut back = UNIX_EPOCH + Duration::from_secs(1);
    let mut r = Buffer::reader(&bytes);
    pack(&mut back, &mut r);
    prop_assert_eq!(r.finish(), Ok(bytes.len()));
    prop_assert_eq!(back, t);
    Ok(())
}

fn article() -> impl Strategy<Value = Article> {
    (
        any::<i64>(),
        any::<i64>(),
        any::<i64>(),
        prop::collection::vec(any::<i64>(), 0..5),
        ".*",
        ".*",
    )
        .prop_map(
            |(id, author_id, published, category_ids, title, body)| Article {
                id,
                author_id,
                published,
                category_ids,
                title,
                body,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn integers_round_trip(a in any::<i64>(), b in any::<u64>(), c in any::<i8>(), d in any::<u16>(),
                           e in any::<i128>(), f in any::<u128>(), g in any::<i32>(), h in any::<u32>()) {
        round_trip(&a, vpack::int)?;
        round_trip(&a, vpack::fint)?;
        round_trip(&a, vpack::fint_ord)?;
        round_trip(&b, vpack::uint)?;
        round_trip(&b, vpack::fuint)?;
        round_trip(&c, vpack::int)?;
        round_trip(&c, vpack::fint_ord)?;
        round_trip(&d, vpack::uint)?;
        round_trip(&d, vpack::fuint)?;
        round_trip(&e, vpack::int)?;
        round_trip(&e, vpack::fint_ord)?;
        round_trip(&f, vpack::uint)?;
        round_trip(&f, vpack::fuint)?;
        round_trip(&g, vpack::int)?;
        round_trip(&g, vpack::fint)?;
        round_trip(&h, vpack::uint)?;
        round_trip(&h, vpack::fuint)?;
        round_trip(&(a as isize), vpack::int)?;
        round_trip(&(b as usize), vpack::uint)?;
    }

    #[test]
    fn floats_round_trip_bit_exact(a in any::<u64>(), b in any::<u32>()) {
        let x = f64::from_bits(a);
        let back: f64 = vpack::from_bytes(&bytes_of(&x, vpack::f64), vpack::f64).unwrap();
        prop_assert_eq!(back.to_bits(), a);
        let y = f32::from_bits(b);
        let back: f32 = vpack::from_bytes(&bytes_of(&y, vpack::f32), vpack::f32).unwrap();
        prop_assert_eq!(back.to_bits(), b);
    }

    #[test]
    fn text_round_trips(s in ".*", z in "[^\u{0}]*", c in any::<char>(), raw in any::<Vec<u8>>(),
                        arr in any::<[u8; 7]>(), u in any::<u128>(), flag in any::<bool>()) {
        round_trip(&s, vpack::string)?;
        round_trip(&z, vpack::string_z)?;
        round_trip(&c, vpack::rune)?;
        round_trip(&raw, vpack::bytes)?;
        round_trip(&arr, vpack::array)?;
        round_trip(&uuid::Uuid::from_u128(u), vpack::uuid)?;
        round_trip(&flag, vpack::bool)?;
    }

    #[test]
    fn composites_round_trip(v in prop::collection::vec(".*", 0..8),
                             m in prop::collection::btree_map(any::<i32>(), ".*", 0..8),
                             h in prop::collection::hash_map("[a-z]*", any::<u64>(), 0..8),
                             o in any::<Option<i16>>(), a in article()) {
        round_trip(&v, |v, b| vpack::vec(v, b, vpack::string))?;
        round_trip(&m, |m: &mut BTreeMap<i32, String>, b| vpack::btree_map(m, b, vpack::fint_ord, vpack::string))?;
        round_trip(&h, |m: &mut HashMap<String, u64>, b| vpack::hash_map(m, b, vpack::string_z, vpack::uint))?;
        round_trip(&o, |o, b| vpack::option(o, b, vpack::int))?;
        round_trip(&a, pack_article)?;
    }

    #[test]
    fn times_round_trip(secs in -(1i64 << 40)..(1i64 << 40), ms in -(1i64 << 50)..(1i64 << 50)) {
        let t = time_from_secs(secs);
        for pack in [vpack::unix_time, vpack::unix_time_key, vpack::unix_time_ord] {
            time_round_trip(t, pack)?;
        }
        let d = Duration::from_millis(ms.unsigned_abs());
        let t = if ms >= 0 { UNIX_EPOCH + d } else { UNIX_EPOCH - d };
        for pack in [vpack::unix_time_milli, vpack::unix_time_milli_key, vpack::unix_time_milli_ord] {
            time_round_trip(t, pack)?;
        }
    }

    #[test]
    fn sub_second_precision_rounds_toward_the_past(secs in -(1i64 << 40)..(1i64 << 40), nanos in 1u32..1_000_000_000) {
        let t = time_from_secs(secs) + Duration::from_nanos(nanos as u64);
        let bytes = vpack::to_bytes(&mut t.clone(), vpack::unix_time_ord).unwrap();
        let mut back = UNIX_EPOCH;
        let mut r = Buffer::reader(&bytes);
        vpack::unix_time_ord(&mut back, &mut r);
        prop_assert_eq!(back, time_from_secs(secs));
    }

    #[test]
    fn key_encodings_sort_in_value_order(a in any::<i64>(), b in any::<i64>(), x in any::<u32>(), y in any::<u32>(),
                                         s in "[^\u{0}]*", t in "[^\u{0}]*", p in -(1i64 << 40)..(1i64 << 40), q in -(1i64 << 40)..(1i64 << 40)) {
        prop_assert_eq!(a.cmp(&b), bytes_of(&a, vpack::fint_ord).cmp(&bytes_of(&b, vpack::fint_ord)));
        prop_assert_eq!(x.cmp(&y), bytes_of(&x, vpack::fuint).cmp(&bytes_of(&y, vpack::fuint)));
        prop_assert_eq!(s.as_bytes().cmp(t.as_bytes()), bytes_of(&s, vpack::string_z).cmp(&bytes_of(&t, vpack::string_z)));
        let (tp, tq) = (time_from_secs(p), time_from_secs(q));
        prop_assert_eq!(tp.cmp(&tq), bytes_of(&tp, vpack::unix_time_ord).cmp(&bytes_of(&tq, vpack::unix_time_ord)));
        prop_assert_eq!(tp.cmp(&tq), bytes_of(&tp, vpack::unix_time_milli_ord).cmp(&bytes_of(&tq, vpack::unix_time_milli_ord)));
        if a >= 0 && b >= 0 {
            prop_assert_eq!(a.cmp(&b), bytes_of(&a, vpack::fint).cmp(&bytes_of(&b, vpack::fint)));
        }
    }

    #[test]
    fn random_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..64)) {
        // Each decoder either succeeds or reports an error; a panic fails the test.
        let _ = vpack::from_bytes::<Article>(&data, pack_article);
        let _ = vpack::from_bytes::<i64>(&data, vpack::int);
        let _ = vpack::from_bytes::<u128>(&data, vpack::uint);
        let _ = vpack::from_bytes::<i128>(&data, vpack::int);
        let _ = vpack::from_bytes::<String>(&data, vpack::string);
        let _ = vpack::from_bytes::<String>(&data, vpack::string_z);
        let _ = vpack::from_bytes::<char>(&data, vpack::rune);
        let _ = vpack::from_bytes::<Vec<Vec<u8>>>(&data, |v, b| vpack::vec(v, b, vpack::bytes));
        let _ = vpack::from_bytes::<BTreeMap<String, i64>>(&data, |m, b| vpack::btree_map(m, b, vpack::string_z, vpack::int));
        let _ = vpack::from_bytes::<HashMap<u8, bool>>(&data, |m, b| vpack::hash_map(m, b, vpack::byte, vpack::bool));
        let _ = vpack::from_bytes::<Option<uuid::Uuid>>(&data, |o, b| vpack::option(o, b, vpack::uuid));
        let mut t = UNIX_EPOCH;
        for pack in [vpack::unix_time, vpack::unix_time_key, vpack::unix_time_ord, vpack::unix_time_milli,
                     vpack::unix_time_milli_key, vpack::unix_time_milli_ord] {
            let mut r = Buffer::reader(&data);
            pack(&mut t, &mut r);
            let _ = r.finish();
        }
    }

    #[test]
    fn varints_read_exactly_as_the_reference_decoder(
        // Continuation-heavy bytes, so every length from 1 to 11 comes up,
        // followed by filler so that both the word path (8 bytes readable)
        // and the byte path (fewer) run.
        head in prop::collection::vec(prop_oneof![3 => 0x80u8..=0xff, 1 => 0u8..0x80, 1 => Just(0u8)], 0..12),
        filler in prop::collection::vec(any::<u8>(), 0..10),
    ) {
        let data = [head, filler].concat();
        let mut buf = Buffer::reader(&data);
        let mut got = 0u64;
        vpack::uint(&mut got, &mut buf);
        let got = match buf.error() {
            None => Ok((got, buf.position())),
            Some(e) => Err((e.kind().clone(), e.offset())),
        };
        prop_assert_eq!(got, reference_uvarint(&data), "input {:02x?}", data);
    }

    #[test]
    fn strings_accept_exactly_the_utf8_std_accepts(
        text in prop::collection::vec(prop_oneof![8 => 0x20u8..0x7f, 1 => any::<u8>()], 0..300),
        flip in any::<prop::sample::Index>(),
        flipped in any::<u8>(),
    ) {
        // Mostly-ASCII text of up to 300 bytes, sometimes with one byte
        // replaced: a decoded string must exist exactly when the bytes are
        // UTF-8, and equal them, in both string encodings.
        let mut text = text;
        if !text.is_empty() && flipped >= 0x80 {
            let at = flip.index(text.len());
            text[at] = flipped;
        }
        let expected = std::str::from_utf8(&text).ok();
        let mut framed = vpack::to_bytes(&mut text.clone(), vpack::bytes).unwrap();
        let decoded = vpack::from_bytes::<String>(&framed, vpack::string).ok();
        prop_assert_eq!(decoded.as_deref(), expected);
        if !text.contains(&0) {
            framed.clear();
            framed.extend_from_slice(&text);
            framed.push(0);
            let decoded = vpack::from_bytes::<String>(&framed, vpack::string_z).ok();
            prop_assert_eq!(decoded.as_deref(), expected);
        }
    }

    #[test]
    fn truncating_valid_data_is_always_an_error(a in article(), cut in any::<prop::sample::Index>()) {
        let bytes = bytes_of(&a, pack_article);
        let cut = cut.index(bytes.len());
        prop_assert!(vpack::from_bytes::<Article>(&bytes[..cut], pack_article).is_err());
    }
}

/// Unsigned LEB128 as the format defines it, one byte at a time: the value
/// and the bytes it took, or the error and where the varint started.
fn reference_uvarint(data: &[u8]) -> Result<(u64, usize), (vpack::ErrorKind, usize)> {
    let mut value = 0u128;
    for (i, &b) in data.iter().enumerate() {
        value |= u128::from(b & 0x7f) << (7 * i);
        if i == 9 && value > u128::from(u64::MAX) {
            return Err((vpack::ErrorKind::VarintTooLong, 0));
        }
        if b < 0x80 {
            if b == 0 && i > 0 {
                return Err((vpack::ErrorKind::VarintOverlong, 0));
            }
            return Ok((value as u64, i + 1));
        }
        if i == 9 {
            return Err((vpack::ErrorKind::VarintTooLong, 0));
        }
    }
    Err((vpack::ErrorKind::UnexpectedEnd, 0))
}
