//! Descriptions written by `#[derive(Pack)]` say what the bytes hold:
//! fields, encodings (`with = vpack::...` included), versions, `since` /
//! `until`, enum tags; they survive a round trip through vpack; and
//! `Shape::reads` accepts exactly the evolutions vpack's versions allow.

use std::time::SystemTime;

use vpack::describe::{Field, Leaf, Variant};
use vpack::{Pack, Shape};

#[derive(Pack, Debug, PartialEq)]
#[pack(version = 3)]
struct UserV3 {
    #[pack(with = vpack::fuint)]
    id: u32,
    name: String,
    #[pack(since = 2)]
    email: Option<String>,
    #[pack(until = 2)]
    nickname: String,
    #[pack(with = |v: &mut u64, buf: &mut vpack::Buffer| vpack::uint(v, buf))]
    visits: u64,
    #[pack(skip)]
    cached: u8,
    joined: SystemTime,
}

#[derive(Pack, Debug, PartialEq)]
#[pack(version = 2)]
struct UserV2 {
    #[pack(with = vpack::fuint)]
    id: u32,
    name: String,
    #[pack(since = 2)]
    email: Option<String>,
    nickname: String,
    #[pack(with = |v: &mut u64, buf: &mut vpack::Buffer| vpack::uint(v, buf))]
    visits: u64,
    joined: SystemTime,
}

#[derive(Pack, Debug, PartialEq)]
enum Event {
    #[pack(tag = 1)]
    Joined,
    #[pack(tag = 5)]
    Said(String),
}

#[derive(Pack, Debug, PartialEq)]
struct Tree {
    label: String,
    children: Vec<Tree>,
}

fn leaf(l: Leaf) -> Shape {
    Shape::Leaf(l)
}

#[test]
fn a_derived_struct_describes_its_stored_fields() {
    let Shape::Struct {
        name,
        version,
        fields,
    } = UserV3::describe()
    else {
        panic!("not a struct")
    };
    assert_eq!((name.as_str(), version), ("UserV3", Some(3)));
    let names: Vec<_> = fields.iter().map(|f| f.name.as_str()).collect();
    // `cached` is skipped: never stored, not described.
    assert_eq!(
        names,
        ["id", "name", "email", "nickname", "visits", "joined"]
    );
    assert_eq!(fields[0], Field::new("id", leaf(Leaf::Fuint(4))));
    assert_eq!(fields[2].since, Some(2));
    assert_eq!(fields[3].until, Some(2));
    // A closure is code: no description.
    assert_eq!(fields[4].shape, Shape::Unknown);
    assert_eq!(fields[5].shape, leaf(Leaf::UnixTimeMilli));
    assert!(!UserV3::describe().is_known());
}

#[test]
fn enums_and_recursive_types_are_described() {
    assert_eq!(
        Event::describe(),
        Shape::Enum {
            name: "Event".into(),
            version: None,
            variants: vec![
                Variant {
                    tag: 1,
                    name: "Joined".into(),
                    fields: vec![]
                },
                Variant {
                    tag: 5,
                    name: "Said".into(),
                    fields: vec![Field::new("0", leaf(Leaf::String))]
                },
            ],
        }
    );
    let Shape::Struct { fields, .. } = Tree::describe() else {
        panic!()
    };
    assert_eq!(
        fields[1].shape,
        Shape::Vec(Box::new(Shape::Recursive("Tree".into())))
    );
    // The shapes themselves are recursive, and describe themselves.
    assert!(Shape::describe().is_known());
}

#[test]
fn shapes_round_trip_and_print() {
    for mut shape in [
        UserV3::describe(),
        Event::describe(),
        Tree::describe(),
        Shape::describe(),
    ] {
        let bytes = shape.to_bytes().unwrap();
        assert_eq!(Shape::from_bytes(&bytes).unwrap(), shape);
    }
    assert_eq!(
        Event::describe().to_string(),
        "Event { Joined = 1 | Said = 5 { 0: string } }"
    );
    assert_eq!(
        <(u64, Option<Vec<u8>>)>::describe().to_string(),
        "(uint, option<vec<byte>>)"
    );
}

#[test]
fn reads_accepts_later_versions_and_refuses_other_types() {
    let (v2, v3) = (UserV2::describe(), UserV3::describe());
    // Different names: a different type.
    assert!(!v3.reads(&v2));
    let rename = |s: Shape| match s {
        Shape::Struct {
            version, fields, ..
        } => Shape::Struct {
            name: "User".into(),
            version,
            fields,
        },
        other => other,
    };
    let (v2, v3) = (rename(v2), rename(v3));
    assert!(v3.reads(&v2), "v3 reads what v2 wrote");
    assert!(!v2.reads(&v3), "v2 cannot read v3's data");
    assert!(v3.reads(&v3));
    // A field whose encoding changed without a version bump.
    let changed = match v3.clone() {
        Shape::Struct {
            name,
            version,
            mut fields,
        } => {
            fields[1].shape = leaf(Leaf::StringZ);
            Shape::Struct {
                name,
                version,
                fields,
            }
        }
        other => other,
    };
    assert!(!changed.reads(&v3));
    assert!(!leaf(Leaf::Uint).reads(&leaf(Leaf::Fuint(8))));
    assert!(
        Shape::Unknown.reads(&leaf(Leaf::Uint)),
        "no description: cannot judge"
    );
}

#[derive(Pack, Debug, PartialEq)]
#[pack(version = 2)]
struct Everything {
    a: u64,
    b: i32,
    #[pack(with = vpack::fuint)]
    c: u16,
    #[pack(with = vpack::fint)]
    d: i64,
    #[pack(with = vpack::fint_ord)]
    e: i8,
    f: u8,
    g: bool,
    h: f32,
    i: char,
    j: String,
    #[pack(with = vpack::string_z)]
    k: String,
    l: Vec<u8>,
    m: [u8; 3],
    n: uuid::Uuid,
    o: SystemTime,
    #[pack(with = vpack::unix_time_ord)]
    p: SystemTime,
    q: Option<Vec<String>>,
    r: std::collections::BTreeMap<String, i64>,
    s: (u8, String),
    #[pack(since = 2)]
    t: Event,
}

fn everything() -> Everything {
    Everything {
        a: 300,
        b: -7,
        c: 65535,
        d: -2,
        e: -128,
        f: 9,
        g: true,
        h: 1.5,
        i: 'é',
        j: "text".into(),
        k: "key".into(),
        l: vec![1, 2],
        m: [7, 8, 9],
        n: uuid::Uuid::from_u128(1),
        o: SystemTime::UNIX_EPOCH - std::time::Duration::from_millis(1500),
        p: SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(86_400 * 365),
        q: Some(vec!["x".into()]),
        r: [("k".to_string(), -1)].into(),
        s: (1, "one".into()),
        t: Event::Said("hi".into()),
    }
}

#[test]
fn values_read_by_their_description_match_what_was_written() {
    let bytes = everything().to_bytes().unwrap();
    let value = Everything::describe().read(&bytes).unwrap();
    let vpack::Value::Struct {
        version, fields, ..
    } = &value
    else {
        panic!("{value:?}")
    };
    assert_eq!(*version, Some(2));
    let shown: Vec<String> = fields.iter().map(|(n, v)| format!("{n}={v}")).collect();
    assert_eq!(
        shown,
        [
            "a=300",
            "b=-7",
            "c=65535",
            "d=-2",
            "e=-128",
            "f=9",
            "g=true",
            "h=1.5",
            "i=\"é\"",
            "j=\"text\"",
            "k=\"key\"",
            "l=[1, 2]",
            "m=[7, 8, 9]",
            "n=0x00000000000000000000000000000001",
            "o=1969-12-31T23:59:58.500Z",
            "p=1971-01-01T00:00:00.000Z",
            "q=Some([\"x\"])",
            "r={\"k\": -1}",
            "s=[1, \"one\"]",
            "t=Said { 0: \"hi\" }",
        ]
    );
    // Bytes version 1 wrote (no `t`) read by the version 2 description.
    let t_len = Event::Said("hi".into()).to_bytes().unwrap().len();
    let mut v1 = bytes.clone();
    v1.truncate(v1.len() - t_len);
    assert_eq!(v1[0], 4, "version 2, zig-zag");
    v1[0] = 2;
    let old = Everything::describe().read(&v1).unwrap();
    let vpack::Value::Struct {
        version, fields, ..
    } = old
    else {
        panic!()
    };
    assert_eq!((version, fields.len()), (Some(1), 19));
}

#[test]
fn reading_keys_by_their_description() {
    use vpack::key;
    let k = key::ordered::<(i32, String)>();
    let bytes = k.to_bytes(&mut (-5, "a".into())).unwrap();
    assert_eq!(
        k.describe().read(&bytes).unwrap().to_string(),
        "[-5, \"a\"]"
    );
    let bytes = key::fint_non_negative::<i16>().to_bytes(&mut -2).unwrap();
    assert_eq!(
        key::fint_non_negative::<i16>()
            .describe()
            .read(&bytes)
            .unwrap(),
        vpack::Value::Int(-2)
    );
}

#[test]
fn an_undescribed_part_keeps_the_rest_as_bytes() {
    let bytes = UserV3 {
        id: 1,
        name: "ann".into(),
        email: None,
        nickname: String::new(),
        visits: 5,
        cached: 0,
        joined: SystemTime::UNIX_EPOCH,
    }
    .to_bytes()
    .unwrap();
    let value = UserV3::describe().read(&bytes).unwrap();
    let vpack::Value::Struct { fields, .. } = value else {
        panic!()
    };
    assert_eq!(fields.len(), 4, "{fields:?}"); // id, name, email, then the rest
    assert!(
        matches!(&fields[3], (name, vpack::Value::Rest(b)) if name == "visits" && b.len() == 2)
    );
}

proptest::proptest! {
    #[test]
    fn random_bytes_never_panic_a_described_read(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
        for shape in [Everything::describe(), Tree::describe(), Shape::describe(), UserV3::describe()] {
            let _ = shape.read(&bytes);
        }
    }
}
