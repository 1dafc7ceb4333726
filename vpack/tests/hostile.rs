//! Malformed and hostile input: every case is an error with the right reason,
//! never a panic, a hang or a huge allocation.

use vpack::{Buffer, ErrorKind};

fn kind<T: Default>(bytes: &[u8], pack: impl FnOnce(&mut T, &mut Buffer)) -> ErrorKind {
    vpack::from_bytes(bytes, pack)
        .err()
        .expect("expected an error")
        .kind()
        .clone()
}

#[test]
fn truncated_inputs() {
    assert_eq!(kind::<u64>(&[], vpack::uint), ErrorKind::UnexpectedEnd);
    assert_eq!(
        kind::<u64>(&[0x80, 0x80], vpack::uint),
        ErrorKind::UnexpectedEnd
    );
    assert_eq!(
        kind::<i64>(&[0, 0, 0], vpack::fint),
        ErrorKind::UnexpectedEnd
    );
    assert_eq!(
        kind::<String>(&[0x0a, b'a'], vpack::string),
        ErrorKind::LengthExceedsInput {
            len: 5,
            remaining: 1
        }
    );
    assert_eq!(
        kind::<String>(b"abc", vpack::string_z),
        ErrorKind::MissingNul
    );
    assert_eq!(
        kind::<[u8; 4]>(&[1, 2], vpack::array),
        ErrorKind::UnexpectedEnd
    );
    assert_eq!(
        kind::<uuid::Uuid>(&[1; 15], vpack::uuid),
        ErrorKind::UnexpectedEnd
    );
}

#[test]
fn non_canonical_values() {
    assert_eq!(kind::<bool>(&[2], vpack::bool), ErrorKind::InvalidBool(2));
    // Zero written in two bytes instead of one.
    assert_eq!(
        kind::<u64>(&[0x80, 0x00], vpack::uint),
        ErrorKind::VarintOverlong
    );
    assert_eq!(
        kind::<i64>(&[0xff, 0x80, 0x00], vpack::int),
        ErrorKind::VarintOverlong
    );
    // The same with eight or more bytes to read, where a varint of up to
    // eight bytes is decoded as one word: every length, and one that ends
    // exactly at the eighth byte.
    for len in 2..=8 {
        let mut data = vec![0x80u8; len - 1];
        data.push(0x00);
        data.resize(12, 0x80);
        assert_eq!(
            kind::<u64>(&data, vpack::uint),
            ErrorKind::VarintOverlong,
            "{data:02x?}"
        );
    }
    // Eleven bytes, or a tenth byte carrying more than the 64th bit.
    assert_eq!(
        kind::<u64>(&[0xff; 11], vpack::uint),
        ErrorKind::VarintTooLong
    );
    let mut ten = [0xffu8; 10];
    ten[9] = 0x02;
    assert_eq!(kind::<u64>(&ten, vpack::uint), ErrorKind::VarintTooLong);
    // Fits in u64 but not in the narrower target.
    assert_eq!(
        kind::<u8>(&[0x80, 0x02], vpack::uint),
        ErrorKind::OutOfRange
    );
    assert_eq!(kind::<i8>(&[0x80, 0x02], vpack::int), ErrorKind::OutOfRange);
    assert_eq!(
        kind::<u32>(&[0x80, 0x80, 0x80, 0x80, 0x10], vpack::uint),
        ErrorKind::OutOfRange
    );
    // Surrogate code point and a code point past U+10FFFF.
    assert!(matches!(
        kind::<char>(&[0x80, 0xe0, 0x06], vpack::rune),
        ErrorKind::InvalidChar(_)
    ));
    assert!(matches!(
        kind::<char>(&[0x80, 0x80, 0x88, 0x01], vpack::rune),
        ErrorKind::InvalidChar(_)
    ));
    assert_eq!(
        kind::<String>(&[0x04, 0xff, 0xfe], vpack::string),
        ErrorKind::InvalidUtf8
    );
    assert_eq!(
        kind::<String>(&[0xff, 0xfe, 0x00], vpack::string_z),
        ErrorKind::InvalidUtf8
    );
    assert_eq!(
        kind::<u8>(&[1, 2], vpack::byte),
        ErrorKind::TrailingBytes(1)
    );
}

#[test]
fn huge_length_prefixes_fail_before_allocating() {
    // A length of 2^60 with nothing behind it.
    let mut huge = Vec::new();
    vpack::append_bytes(&mut (1i64 << 60), vpack::int, &mut huge).unwrap();
    let err =
        vpack::from_bytes::<Vec<u64>>(&huge, |v, b| vpack::vec(v, b, vpack::uint)).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::LengthExceedsInput { len, remaining: 0 } if *len == 1 << 60)
    );
    assert!(vpack::from_bytes::<String>(&huge, vpack::string).is_err());
    assert!(vpack::from_bytes::<Vec<u8>>(&huge, vpack::bytes).is_err());
    let err = vpack::from_bytes::<std::collections::HashMap<u8, u8>>(&huge, |m, b| {
        vpack::hash_map(m, b, vpack::byte, vpack::byte)
    })
    .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::LengthExceedsInput { .. }));
    // Negative length.
    assert_eq!(
        kind::<Vec<u8>>(&[0x01], vpack::bytes),
        ErrorKind::NegativeLength
    );
}

#[test]
fn duplicate_map_keys_are_rejected() {
    // Two entries, both key 1.
    let bytes = [0x04, 1, 10, 1, 11];
    let err = vpack::from_bytes::<std::collections::BTreeMap<u8, u8>>(&bytes, |m, b| {
        vpack::btree_map(m, b, vpack::byte, vpack::byte)
    })
    .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::DuplicateKey);
    assert_eq!(err.offset(), 3);
}

#[test]
fn a_map_has_one_byte_form_its_keys_ascending() {
    // {1: 10, 2: 11} written out of order: 0.2 read it as the same map as
    // the sorted bytes, so one map had two byte forms.
    let sorted = [0x04, 1, 10, 2, 11];
    let unsorted = [0x04, 2, 11, 1, 10];
    let btree = |bytes: &[u8]| {
        vpack::from_bytes::<std::collections::BTreeMap<u8, u8>>(bytes, |m, b| {
            vpack::btree_map(m, b, vpack::byte, vpack::byte)
        })
    };
    let hash = |bytes: &[u8]| {
        vpack::from_bytes::<std::collections::HashMap<u8, u8>>(bytes, |m, b| {
            vpack::hash_map(m, b, vpack::byte, vpack::byte)
        })
    };
    assert_eq!(btree(&sorted).unwrap().len(), 2);
    assert_eq!(hash(&sorted).unwrap().len(), 2);
    for err in [btree(&unsorted).unwrap_err(), hash(&unsorted).unwrap_err()] {
        assert_eq!(err.kind(), &ErrorKind::KeysOutOfOrder);
        assert_eq!(err.offset(), 3, "the offset of the entry out of order");
    }
    // What vpack writes always reads back.
    let mut m: std::collections::HashMap<u8, u8> = (0..=255).map(|k| (k, !k)).collect();
    let bytes = vpack::to_bytes(&mut m, |m, b| {
        vpack::hash_map(m, b, vpack::byte, vpack::byte)
    })
    .unwrap();
    assert_eq!(hash(&bytes).unwrap(), m);
}

#[test]
fn errors_report_the_offset_of_the_failing_value() {
    fn pair(p: &mut (u8, bool), buf: &mut Buffer) {
        vpack::byte(&mut p.0, buf);
        vpack::bool(&mut p.1, buf);
    }
    let err = vpack::from_bytes(&[9, 5], pair).unwrap_err();
    assert_eq!((err.kind(), err.offset()), (&ErrorKind::InvalidBool(5), 1));
    assert_eq!(err.to_string(), "invalid bool byte 0x05 at byte 1");
}

#[test]
fn string_z_with_nul_is_a_write_error_and_writes_nothing() {
    let mut out = vec![0xAA];
    let mut s = String::from("key\0suffix");
    let err = vpack::append_bytes(&mut s, vpack::string_z, &mut out).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::NulInString);
    assert_eq!(out, [0xAA], "no partial bytes left behind");
    assert!(vpack::to_bytes(&mut s, vpack::string_z).is_err());
}

#[test]
fn times_out_of_range() {
    // The latest SystemTime Linux can hold, in milliseconds, overflows i64.
    let mut far = std::time::UNIX_EPOCH + std::time::Duration::from_secs(i64::MAX as u64);
    let err = vpack::to_bytes(&mut far, vpack::unix_time_milli).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::TimeOutOfRange);
    // In seconds it fits, and reads back exactly.
    let bytes = vpack::to_bytes(&mut far, vpack::unix_time_ord).unwrap();
    let mut back = std::time::UNIX_EPOCH;
    let mut r = Buffer::reader(&bytes);
    vpack::unix_time_ord(&mut back, &mut r);
    assert_eq!((r.finish(), back), (Ok(8), far));
}

#[test]
fn a_failed_buffer_stops_touching_values() {
    #[derive(Default)]
    struct Two {
        a: u8,
        b: u8,
    }
    fn pack_two(t: &mut Two, buf: &mut Buffer) {
        vpack::bool(&mut false, buf);
        vpack::byte(&mut t.a, buf);
        vpack::byte(&mut t.b, buf);
    }
    let mut two = Two { a: 1, b: 2 };
    let mut r = Buffer::reader(&[9, 7, 7]);
    pack_two(&mut two, &mut r);
    assert!(r.error().is_some());
    assert_eq!((two.a, two.b), (1, 2));
    // from_bytes_into leaves the target untouched on failure.
    let mut n = 5u8;
    assert!(!vpack::from_bytes_into(&[1, 2], &mut n, vpack::byte));
    assert_eq!(n, 5);
}

/// After its first failure a buffer reads and writes nothing more: every
/// kind of value keeps its contents, the output stops growing, and the
/// position (and so the error's offset) stays where the failure happened.
#[test]
fn after_a_failure_every_primitive_is_a_no_op() {
    #[derive(Default, Debug, PartialEq, Clone)]
    struct All {
        n: i64,
        u: u32,
        f: u64,
        s: String,
        z: String,
        b: Vec<u8>,
        v: Vec<i32>,
        c: char,
        t: bool,
    }
    fn rest(x: &mut All, buf: &mut Buffer) {
        vpack::int(&mut x.n, buf);
        vpack::uint(&mut x.u, buf);
        vpack::fuint(&mut x.f, buf);
        vpack::string(&mut x.s, buf);
        vpack::string_z(&mut x.z, buf);
        vpack::bytes(&mut x.b, buf);
        vpack::vec(&mut x.v, buf, vpack::int);
        vpack::rune(&mut x.c, buf);
        vpack::bool(&mut x.t, buf);
    }
    fn pack(x: &mut All, buf: &mut Buffer) {
        vpack::byte(&mut 1u8, buf);
        buf.fail("stop here");
        rest(x, buf);
    }
    let full = All {
        n: -5,
        u: 7,
        f: 9,
        s: "s".into(),
        z: "z".into(),
        b: vec![1],
        v: vec![2],
        c: 'c',
        t: true,
    };
    // The bytes of a complete value follow the failure point, so a read
    // that ignored the failure would find something to decode.
    let mut input = vec![1u8];
    vpack::append_bytes(&mut full.clone(), rest, &mut input).unwrap();

    let mut read = All::default();
    let mut r = Buffer::reader(&input);
    pack(&mut read, &mut r);
    assert_eq!(r.position(), 1);
    assert_eq!(r.remaining(), 0);
    assert_eq!(read, All::default());
    let err = r.finish().unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Invalid("stop here"));
    assert_eq!(err.offset(), 1);

    let mut out = vec![0xAA];
    let mut w = Buffer::writer(&mut out);
    let mut written = full.clone();
    pack(&mut written, &mut w);
    assert!(w.is_writing());
    assert_eq!(w.position(), 1);
    assert_eq!(w.finish().unwrap_err().offset(), 1);
    assert_eq!(out, [0xAA, 1], "nothing written after the failure");
    assert_eq!(written, full, "a writer never changes the value");
}

#[test]
fn every_time_that_reads_also_writes_back() {
    // The earliest time each encoding holds: i64::MIN units before 1970.
    // 0.2 read it but could not write it again.
    type Pack = fn(&mut std::time::SystemTime, &mut vpack::Buffer);
    for (name, pack) in [
        ("unix_time", vpack::unix_time as Pack),
        ("unix_time_ord", vpack::unix_time_ord),
        ("unix_time_key", vpack::unix_time_key),
        ("unix_time_milli", vpack::unix_time_milli),
        ("unix_time_milli_ord", vpack::unix_time_milli_ord),
    ] {
        let mut units = i64::MIN;
        let bytes = if name.ends_with("_ord") {
            vpack::to_bytes(&mut units, vpack::fint_ord).unwrap()
        } else if name.ends_with("_key") {
            vpack::to_bytes(&mut units, vpack::fint).unwrap()
        } else {
            vpack::to_bytes(&mut units, vpack::int).unwrap()
        };
        let mut t = std::time::UNIX_EPOCH;
        let mut reader = vpack::Buffer::reader(&bytes);
        pack(&mut t, &mut reader);
        if reader.finish().is_err() {
            continue; // not representable as a SystemTime on this platform
        }
        assert_eq!(vpack::to_bytes(&mut t, pack).unwrap(), bytes, "{name}");
    }
}
