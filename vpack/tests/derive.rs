//! `#[derive(Pack)]` writes exactly the bytes of the equivalent
//! hand-written pack function, attribute by attribute; reads them back;
//! follows versions; and refuses what it cannot read with an error.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use uuid::Uuid;
use vpack::{Buffer, ErrorKind, Pack};

/// Asserts that `value` packs to the same bytes with its derived function
/// and with `hand`, and that both read those bytes back to `value`.
fn same_as_hand<T: Pack + Clone + PartialEq + std::fmt::Debug>(
    value: &T,
    hand: fn(&mut T, &mut Buffer),
) {
    let derived = value.clone().to_bytes().expect("derived pack writes");
    let written = vpack::to_bytes(&mut value.clone(), hand).expect("hand-written pack writes");
    assert_eq!(derived, written, "bytes differ for {value:?}");
    assert_eq!(
        &T::from_bytes(&derived).unwrap(),
        value,
        "derived read-back"
    );
    let mut by_hand = T::blank();
    let mut r = Buffer::reader(&derived);
    hand(&mut by_hand, &mut r);
    r.finish().unwrap();
    assert_eq!(&by_hand, value, "hand-written read-back");
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

// ---- default encodings --------------------------------------------------------

#[derive(Pack, Debug, Clone, PartialEq)]
struct AllDefaults {
    small: u8,
    word: u32,
    big: u128,
    signed: i16,
    wide: i64,
    flag: bool,
    letter: char,
    ratio: f64,
    single: f32,
    name: String,
    raw: Vec<u8>,
    hash: [u8; 4],
    list: Vec<i64>,
    nested: Vec<Vec<String>>,
    maybe: Option<u32>,
    sorted: BTreeMap<String, i32>,
    hashed: HashMap<u16, bool>,
    id: Uuid,
    when: SystemTime,
    pair: (u8, String),
    boxed: Box<i32>,
}

fn pack_all_defaults(v: &mut AllDefaults, buf: &mut Buffer) {
    vpack::byte(&mut v.small, buf);
    vpack::uint(&mut v.word, buf);
    vpack::uint(&mut v.big, buf);
    vpack::int(&mut v.signed, buf);
    vpack::int(&mut v.wide, buf);
    vpack::bool(&mut v.flag, buf);
    vpack::rune(&mut v.letter, buf);
    vpack::f64(&mut v.ratio, buf);
    vpack::f32(&mut v.single, buf);
    vpack::string(&mut v.name, buf);
    vpack::bytes(&mut v.raw, buf);
    vpack::array(&mut v.hash, buf);
    vpack::vec(&mut v.list, buf, vpack::int);
    vpack::vec(&mut v.nested, buf, |l, buf| {
        vpack::vec(l, buf, vpack::string)
    });
    vpack::option(&mut v.maybe, buf, vpack::uint);
    vpack::btree_map(&mut v.sorted, buf, vpack::string, vpack::int);
    vpack::hash_map(&mut v.hashed, buf, vpack::uint, vpack::bool);
    vpack::uuid(&mut v.id, buf);
    vpack::unix_time_milli(&mut v.when, buf);
    vpack::byte(&mut v.pair.0, buf);
    vpack::string(&mut v.pair.1, buf);
    vpack::int(&mut *v.boxed, buf);
}

fn all_defaults_sample() -> AllDefaults {
    AllDefaults {
        small: 200,
        word: 70_000,
        big: u128::MAX,
        signed: -300,
        wide: i64::MIN,
        flag: true,
        letter: 'é',
        ratio: -2.5,
        single: 0.125,
        name: "vpack".into(),
        raw: vec![0, 255, 7],
        hash: [1, 2, 3, 4],
        list: vec![-1, 0, 1 << 40],
        nested: vec![vec![], vec!["a".into(), "bc".into()]],
        maybe: Some(9),
        sorted: BTreeMap::from([("x".into(), -1), ("y".into(), 2)]),
        hashed: (0..20).map(|i| (i, i % 3 == 0)).collect(),
        id: Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef),
        when: at(1_700_000_000) + Duration::from_millis(123),
        pair: (3, "three".into()),
        boxed: Box::new(-7),
    }
}

#[test]
fn every_default_encoding_matches_the_hand_written_function() {
    same_as_hand(&all_defaults_sample(), pack_all_defaults);
    same_as_hand(&AllDefaults::default(), pack_all_defaults);
}

#[test]
fn the_blank_value_is_each_fields_default_and_the_epoch_for_times() {
    let b = AllDefaults::default();
    assert_eq!(b.when, UNIX_EPOCH);
    assert_eq!(
        (b.small, b.wide, b.name.as_str(), b.maybe),
        (0, 0, "", None)
    );
    assert!(b.list.is_empty() && b.sorted.is_empty());
    assert_eq!(b.id, Uuid::nil());
}

// ---- the example: every field attribute --------------------------------

#[derive(Pack, Debug, Clone, PartialEq)]
#[pack(version = 3)]
struct User {
    #[pack(with = vpack::fint)]
    id: i64,
    handle: String,
    #[pack(since = 2)]
    email: String,
    #[pack(since = 3)]
    picture: Option<String>,
    #[pack(until = 2)]
    nickname: String,
    joined: SystemTime,
    #[pack(since = 2, default = 10)]
    quota: u32,
    #[pack(skip)]
    session_cache: Vec<String>,
}

fn pack_user(u: &mut User, buf: &mut Buffer) {
    let v = vpack::version(3, buf);
    vpack::fint(&mut u.id, buf);
    vpack::string(&mut u.handle, buf);
    if v >= 2 {
        vpack::string(&mut u.email, buf);
    }
    if v >= 3 {
        vpack::option(&mut u.picture, buf, vpack::string);
    }
    if v <= 2 {
        vpack::string(&mut u.nickname, buf);
    }
    vpack::unix_time_milli(&mut u.joined, buf);
    if v >= 2 {
        vpack::uint(&mut u.quota, buf);
    }
}

/// The same record as it was at version 1.
#[derive(Pack, Debug, Clone, PartialEq)]
#[pack(version = 1)]
struct UserV1 {
    #[pack(with = vpack::fint)]
    id: i64,
    handle: String,
    nickname: String,
    joined: SystemTime,
}

fn user_sample() -> User {
    User {
        id: -42,
        handle: "ann".into(),
        email: "ann@example.com".into(),
        picture: Some("ann.png".into()),
        nickname: String::new(),
        joined: at(1_600_000_000),
        quota: 500,
        session_cache: Vec::new(),
    }
}

#[test]
fn versioned_fields_match_the_hand_written_function() {
    same_as_hand(&user_sample(), pack_user);
    same_as_hand(
        &User {
            picture: None,
            ..user_sample()
        },
        pack_user,
    );
}

#[test]
fn a_skipped_field_is_not_written_and_reads_as_blank() {
    let mut u = User {
        session_cache: vec!["token".into()],
        ..user_sample()
    };
    let bytes = u.to_bytes().unwrap();
    assert_eq!(
        bytes,
        vpack::to_bytes(&mut user_sample(), pack_user).unwrap()
    );
    assert!(User::from_bytes(&bytes).unwrap().session_cache.is_empty());
}

#[test]
fn version_1_data_reads_into_version_3_code() {
    let mut old = UserV1 {
        id: 7,
        handle: "bo".into(),
        nickname: "bobby".into(),
        joined: at(86_400),
    };
    let bytes = old.to_bytes().unwrap();
    assert_eq!(bytes[0], 2, "version 1 as a zig-zag varint");
    let new = User::from_bytes(&bytes).unwrap();
    assert_eq!(
        new,
        User {
            id: 7,
            handle: "bo".into(),
            email: String::new(),     // since 2: absent, the type's blank
            picture: None,            // since 3
            nickname: "bobby".into(), // until 2: read from v1 data
            joined: at(86_400),
            quota: 10, // since 2, default = 10
            session_cache: Vec::new(),
        }
    );
    // Written again, it is version 3 data: no nickname any more.
    let again = new.clone().to_bytes().unwrap();
    assert_eq!(again[0], 6);
    assert_eq!(User::from_bytes(&again).unwrap().nickname, "");
}

#[test]
fn version_3_data_is_refused_by_version_1_code_with_a_clear_error() {
    let bytes = user_sample().to_bytes().unwrap();
    let err = UserV1::from_bytes(&bytes).unwrap_err();
    assert_eq!(
        err.kind(),
        &ErrorKind::NewerVersion {
            stored: 3,
            current: 1
        }
    );
    assert_eq!(err.offset(), 0);
    assert_eq!(
        err.to_string(),
        "data has version 3, newer than the supported version 1 at byte 0"
    );
}

// ---- `with` for any function, keys included -------------------------------------

/// A key that sorts by time, before 1970 too: the one-liner.
#[derive(Pack, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct OrderedTime(#[pack(with = vpack::unix_time_ord)] SystemTime);

#[derive(Pack, Debug, Clone, PartialEq)]
struct Keyed {
    #[pack(with = vpack::fuint)]
    shard: u16,
    #[pack(with = vpack::string_z)]
    name: String,
    at: OrderedTime,
    #[pack(with = |v, buf| vpack::vec(v, buf, vpack::fint_ord))]
    offsets: Vec<i32>,
    #[pack(with = vpack::unix_time)]
    seconds: SystemTime,
    #[pack(with = pack_celsius)]
    hand_written: Celsius,
}

/// A type with only a hand-written function and `Default`.
#[derive(Debug, Clone, Default, PartialEq)]
struct Celsius(f64);

fn pack_celsius(c: &mut Celsius, buf: &mut Buffer) {
    vpack::f64(&mut c.0, buf);
}

fn pack_keyed(k: &mut Keyed, buf: &mut Buffer) {
    vpack::fuint(&mut k.shard, buf);
    vpack::string_z(&mut k.name, buf);
    vpack::unix_time_ord(&mut k.at.0, buf);
    vpack::vec(&mut k.offsets, buf, vpack::fint_ord);
    vpack::unix_time(&mut k.seconds, buf);
    pack_celsius(&mut k.hand_written, buf);
}

#[test]
fn with_takes_any_pack_function_or_closure() {
    let k = Keyed {
        shard: 3,
        name: "key".into(),
        at: OrderedTime(UNIX_EPOCH - Duration::from_secs(5)),
        offsets: vec![-1, 1],
        seconds: at(99),
        hand_written: Celsius(-40.0),
    };
    same_as_hand(&k, pack_keyed);
    // The blank of a `with` field: `Pack`'s when the type has one (the
    // epoch for a time), `Default`'s otherwise.
    let b = Keyed::default();
    assert_eq!(
        (b.seconds, b.at.0, b.hand_written),
        (UNIX_EPOCH, UNIX_EPOCH, Celsius(0.0))
    );
}

#[test]
fn a_newtype_key_sorts_like_its_time() {
    let times = [-5i64, -1, 0, 1, 1_000_000];
    let keys: Vec<Vec<u8>> = times
        .iter()
        .map(|&s| {
            let t = if s < 0 {
                UNIX_EPOCH - Duration::from_secs(s.unsigned_abs())
            } else {
                at(s as u64)
            };
            OrderedTime(t).to_bytes().unwrap()
        })
        .collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
    assert_eq!(
        keys[2],
        vpack::to_bytes(&mut { UNIX_EPOCH }, vpack::unix_time_ord).unwrap()
    );
}

// ---- enums ----------------------------------------------------------------------

#[derive(Pack, Debug, Clone, PartialEq)]
#[pack(version = 2)]
enum Event {
    #[pack(tag = 1)]
    Joined,
    #[pack(tag = 2)]
    Posted(u64, String),
    #[pack(tag = 5)]
    Renamed {
        from: String,
        to: String,
        #[pack(since = 2)]
        by: Option<Uuid>,
    },
}

fn pack_event(e: &mut Event, buf: &mut Buffer) {
    let v = vpack::version(2, buf);
    let at = buf.position();
    let mut tag: u32 = match e {
        Event::Joined => 1,
        Event::Posted(..) => 2,
        Event::Renamed { .. } => 5,
    };
    vpack::uint(&mut tag, buf);
    if buf.is_reading() {
        match tag {
            1 => *e = Event::Joined,
            2 => *e = Event::Posted(0, String::new()),
            5 => {
                *e = Event::Renamed {
                    from: String::new(),
                    to: String::new(),
                    by: None,
                }
            }
            _ => return buf.fail_unknown_tag("Event", tag, at),
        }
    }
    match e {
        Event::Joined => {}
        Event::Posted(n, text) => {
            vpack::uint(n, buf);
            vpack::string(text, buf);
        }
        Event::Renamed { from, to, by } => {
            vpack::string(from, buf);
            vpack::string(to, buf);
            if v >= 2 {
                vpack::option(by, buf, vpack::uuid);
            }
        }
    }
}

#[test]
fn enums_match_the_hand_written_function() {
    same_as_hand(&Event::Joined, pack_event);
    same_as_hand(&Event::Posted(300, "hi".into()), pack_event);
    same_as_hand(
        &Event::Renamed {
            from: "a".into(),
            to: "b".into(),
            by: Some(Uuid::from_u128(1)),
        },
        pack_event,
    );
    assert_eq!(Event::Joined.to_bytes().unwrap(), [4, 1]);
    assert_eq!(
        Event::default(),
        Event::Joined,
        "the first variant is the blank"
    );
}

#[test]
fn an_unknown_tag_is_an_error_naming_the_type() {
    let err = Event::from_bytes(&[4, 3]).unwrap_err();
    assert_eq!(
        err.kind(),
        &ErrorKind::UnknownTag {
            type_name: "Event",
            tag: 3
        }
    );
    assert_eq!(err.offset(), 1, "where the tag starts");
    assert_eq!(err.to_string(), "Event has no variant with tag 3 at byte 1");
    // A tag too large for u32 is out of range, not a wrap-around.
    assert!(Event::from_bytes(&[4, 0x80, 0x80, 0x80, 0x80, 0x10]).is_err());
}

#[derive(Pack, Debug, Clone, PartialEq)]
enum Level {
    #[pack(tag = 0)]
    Low,
    #[pack(tag = 1, default)]
    Normal,
    #[pack(tag = 2)]
    High,
}

#[test]
fn a_variant_marked_default_is_the_blank_and_unversioned_enums_are_one_tag() {
    assert_eq!(Level::default(), Level::Normal);
    assert_eq!(Level::High.to_bytes().unwrap(), [2]);
    assert_eq!(Level::from_bytes(&[0]).unwrap(), Level::Low);
}

// ---- generics, nesting, unit structs, own Default ------------------------------

#[derive(Pack, Debug, Clone, PartialEq)]
struct Page<T> {
    items: Vec<T>,
    next: Option<Box<Page<T>>>,
}

#[derive(Pack, Debug, Clone, PartialEq)]
struct Marker;

#[derive(Pack, Debug, Clone, PartialEq)]
#[pack(version = 1, own_default)]
struct Settings {
    volume: u8,
    theme: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            volume: 50,
            theme: "dark".into(),
        }
    }
}

#[test]
fn generic_and_recursive_types_round_trip() {
    let mut p = Page {
        items: vec![Event::Joined],
        next: Some(Box::new(Page {
            items: vec![],
            next: None,
        })),
    };
    let bytes = p.to_bytes().unwrap();
    assert_eq!(Page::<Event>::from_bytes(&bytes).unwrap(), p);
    assert_eq!(Marker.to_bytes().unwrap(), Vec::<u8>::new());
    assert_eq!(Marker::from_bytes(&[]).unwrap(), Marker);
}

#[test]
fn own_default_is_the_blank() {
    assert_eq!(
        Settings::blank(),
        Settings {
            volume: 50,
            theme: "dark".into()
        }
    );
    assert_eq!(
        Settings::from_bytes(&[2, 7, 0]).unwrap(),
        Settings {
            volume: 7,
            theme: String::new()
        }
    );
}

/// A type with neither `Default` nor `Pack`, only a hand-written pack
/// function and a `Blank`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Seat(u16);

impl vpack::Blank for Seat {
    fn blank() -> Self {
        Seat(1)
    }
}

fn pack_seat(s: &mut Seat, buf: &mut Buffer) {
    vpack::fuint(&mut s.0, buf);
}

#[derive(Pack)]
#[pack(version = 1)]
struct BookingV1 {
    guest: String,
}

#[derive(Pack, Debug, PartialEq)]
#[pack(version = 2)]
struct Booking {
    guest: String,
    #[pack(with = pack_seat, since = 2)]
    seat: Seat,
}

#[test]
fn a_with_field_of_a_type_without_default_starts_from_its_blank() {
    assert_eq!(Booking::blank().seat, Seat(1));
    // Version 1 data has no seat: the field keeps its blank.
    let v1 = BookingV1 {
        guest: "ada".into(),
    }
    .to_bytes()
    .unwrap();
    let old = Booking::from_bytes(&v1).unwrap();
    assert_eq!(
        old,
        Booking {
            guest: "ada".into(),
            seat: Seat(1)
        }
    );
    let mut b = Booking {
        guest: "bo".into(),
        seat: Seat(12),
    };
    assert_eq!(Booking::from_bytes(&b.to_bytes().unwrap()).unwrap(), b);
}

#[test]
fn derived_functions_are_ordinary_pack_functions() {
    // `Type::pack` goes wherever a pack function goes.
    let mut list = vec![user_sample(), user_sample()];
    let bytes = vpack::to_bytes(&mut list, |l, buf| vpack::vec(l, buf, User::pack)).unwrap();
    let back: Vec<User> =
        vpack::from_bytes(&bytes, |l, buf| vpack::vec(l, buf, User::pack)).unwrap();
    assert_eq!(back, list);
}

// ---- the Go vectors ------------------------------------------------------------

/// Go's README types, declared with derive.
#[derive(Pack, Debug, Clone, PartialEq)]
#[pack(version = 1)]
struct Xyz {
    unit: i64,
    energy: i64,
    chapter: String,
    president: bool,
}

#[derive(Pack, Debug, Clone, PartialEq)]
struct GoAuthor {
    id: i64,
    nickname: String,
    contribution: String,
}

#[derive(Pack, Debug, Clone, PartialEq)]
struct GoArticle {
    id: i64,
    title: String,
    authors: Vec<GoAuthor>,
}

fn golden(name: &str) -> (Value, Vec<u8>) {
    let text = include_str!("data/go-golden.jsonl");
    let line: Value = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["fn"] == name)
        .unwrap();
    let hex = line["hex"].as_str().unwrap();
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    (line["value"].clone(), bytes)
}

#[test]
fn derived_types_write_the_go_vectors() {
    let (v, bytes) = golden("PackXYZ_v1 (README)");
    let mut x = Xyz {
        unit: v["Unit"].as_i64().unwrap(),
        energy: v["Energy"].as_i64().unwrap(),
        chapter: v["Chapter"].as_str().unwrap().into(),
        president: v["President"].as_bool().unwrap(),
    };
    assert_eq!(x.to_bytes().unwrap(), bytes);
    assert_eq!(Xyz::from_bytes(&bytes).unwrap(), x);

    let (v, bytes) = golden("PackArticle (README)");
    let mut a = GoArticle {
        id: v["ArticleId"].as_i64().unwrap(),
        title: v["Title"].as_str().unwrap().into(),
        authors: v["Authors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| GoAuthor {
                id: a["AuthorId"].as_i64().unwrap(),
                nickname: a["Nickname"].as_str().unwrap().into(),
                contribution: a["Contribution"].as_str().unwrap().into(),
            })
            .collect(),
    };
    assert_eq!(a.to_bytes().unwrap(), bytes);
    assert_eq!(GoArticle::from_bytes(&bytes).unwrap(), a);
}

// ---- hostile input -------------------------------------------------------------

#[derive(Pack, Debug, Clone, PartialEq)]
enum List {
    #[pack(tag = 1)]
    Nil,
    #[pack(tag = 2)]
    Cons(i32, Box<List>),
}

#[test]
fn a_type_that_recurses_through_a_box_stops_at_the_depth_limit() {
    // Tag 2 and the number 0, a million times: the nesting a hostile
    // writer would use to exhaust the stack.
    let mut bytes = [2u8, 0].repeat(1_000_000);
    bytes.push(1);
    let err = List::from_bytes(&bytes).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::TooDeep(vpack::MAX_DEPTH));
    // Shallow lists are fine.
    let mut l = List::Cons(1, Box::new(List::Cons(2, Box::new(List::Nil))));
    assert_eq!(List::from_bytes(&l.to_bytes().unwrap()).unwrap(), l);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn time() -> impl Strategy<Value = SystemTime> {
        (-1_000_000_000_000i64..4_000_000_000_000).prop_map(|ms| {
            if ms < 0 {
                UNIX_EPOCH - Duration::from_millis(ms.unsigned_abs())
            } else {
                UNIX_EPOCH + Duration::from_millis(ms as u64)
            }
        })
    }

    prop_compose! {
        fn user()(
            id in any::<i64>(),
            handle in ".*",
            email in ".*",
            picture in proptest::option::of(".*"),
            joined in time(),
            quota in any::<u32>(),
        ) -> User {
            User { id, handle, email, picture, nickname: String::new(), joined, quota, session_cache: Vec::new() }
        }
    }

    fn event() -> impl Strategy<Value = Event> {
        prop_oneof![
            Just(Event::Joined),
            (any::<u64>(), ".*").prop_map(|(n, s)| Event::Posted(n, s)),
            (".*", ".*", proptest::option::of(any::<u128>())).prop_map(|(from, to, by)| {
                Event::Renamed {
                    from,
                    to,
                    by: by.map(Uuid::from_u128),
                }
            }),
        ]
    }

    proptest! {
        #[test]
        fn users_round_trip_with_the_hand_written_bytes(u in user()) {
            let bytes = u.clone().to_bytes().unwrap();
            prop_assert_eq!(&bytes, &vpack::to_bytes(&mut u.clone(), pack_user).unwrap());
            prop_assert_eq!(User::from_bytes(&bytes).unwrap(), u);
        }

        #[test]
        fn events_round_trip_with_the_hand_written_bytes(e in event()) {
            let bytes = e.clone().to_bytes().unwrap();
            prop_assert_eq!(&bytes, &vpack::to_bytes(&mut e.clone(), pack_event).unwrap());
            prop_assert_eq!(Event::from_bytes(&bytes).unwrap(), e);
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            // Each either reads or fails with an error; the derived and the
            // hand-written function agree on which.
            let derived = User::from_bytes(&bytes);
            let by_hand = vpack::from_bytes::<User>(&bytes, pack_user);
            prop_assert_eq!(derived, by_hand);
            let _ = Event::from_bytes(&bytes);
            let _ = AllDefaults::from_bytes(&bytes);
            let _ = List::from_bytes(&bytes);
            let _ = Keyed::from_bytes(&bytes);
        }
    }
}
