//! `vpack::checked`: a damaged value never unpacks as another value.

use vpack::{Buffer, ErrorKind};

#[derive(Debug, Default, Clone, PartialEq)]
struct Post {
    id: u64,
    tags: Vec<String>,
    body: String,
}

fn pack_post(p: &mut Post, buf: &mut Buffer) {
    vpack::version(1, buf);
    vpack::uint(&mut p.id, buf);
    vpack::vec(&mut p.tags, buf, vpack::string);
    vpack::string(&mut p.body, buf);
}

fn pack_post_checked(p: &mut Post, buf: &mut Buffer) {
    vpack::checked(p, buf, pack_post);
}

fn sample() -> Post {
    Post {
        id: 300,
        tags: vec!["rust".into(), "db".into()],
        body: "a body of some length, long enough to hold many bits".into(),
    }
}

#[test]
fn a_checked_value_is_the_plain_bytes_then_their_crc() {
    let plain = vpack::to_bytes(&mut sample(), pack_post).unwrap();
    let checked = vpack::to_bytes(&mut sample(), pack_post_checked).unwrap();
    assert_eq!(&checked[..plain.len()], &plain[..]);
    let crc = crc32fast::hash(&plain).to_be_bytes();
    assert_eq!(&checked[plain.len()..], &crc);
    assert_eq!(
        vpack::from_bytes(&checked, pack_post_checked).unwrap(),
        sample()
    );
}

#[test]
fn every_single_bit_flip_fails_to_unpack() {
    let good = vpack::to_bytes(&mut sample(), pack_post_checked).unwrap();
    let mut mismatches = 0;
    for bit in 0..good.len() * 8 {
        let mut bad = good.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        match vpack::from_bytes(&bad, pack_post_checked) {
            Ok(v) => panic!("bit {bit} flipped, read back as {v:?}"),
            Err(e) if matches!(e.kind(), ErrorKind::ChecksumMismatch { .. }) => mismatches += 1,
            Err(_) => {} // caught earlier, by the value's own checks
        }
    }
    // Most flips leave a well-formed value that only the checksum catches.
    assert!(
        mismatches > good.len() * 4,
        "{mismatches} of {} bits",
        good.len() * 8
    );
}

#[test]
fn the_mismatch_names_both_checksums_and_where() {
    let mut bytes = vpack::to_bytes(&mut sample(), pack_post_checked).unwrap();
    let n = bytes.len();
    bytes[n - 1] ^= 0xFF;
    let err = vpack::from_bytes(&bytes, pack_post_checked).unwrap_err();
    assert_eq!(err.offset(), n - 4, "at the checksum");
    assert!(err.to_string().contains("checksum mismatch"), "{err}");
}

#[test]
fn truncated_and_extended_checked_values_fail() {
    let good = vpack::to_bytes(&mut sample(), pack_post_checked).unwrap();
    for len in 0..good.len() {
        assert!(
            vpack::from_bytes(&good[..len], pack_post_checked).is_err(),
            "cut to {len}"
        );
    }
    let mut longer = good.clone();
    longer.push(0);
    assert!(vpack::from_bytes(&longer, pack_post_checked).is_err());
}

#[test]
fn checked_values_nest_and_append_after_existing_bytes() {
    fn pack_pair(p: &mut (Post, Post), buf: &mut Buffer) {
        vpack::checked(&mut p.0, buf, pack_post);
        vpack::checked(&mut p.1, buf, pack_post_checked);
    }
    let mut out = vec![9, 9, 9];
    vpack::append_bytes(&mut (sample(), sample()), pack_pair, &mut out).unwrap();
    let back = vpack::from_bytes(&out[3..], pack_pair).unwrap();
    assert_eq!(back, (sample(), sample()));
}
