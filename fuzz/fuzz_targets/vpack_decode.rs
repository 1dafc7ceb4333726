//! Feeds arbitrary bytes to every vpack decoder. Any panic, hang or
//! oversized allocation is a bug. A scalar or list that decodes must
//! re-encode to the same bytes (canonical reads), and so must a derived
//! enum that nests through boxes and vectors.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

#[derive(Default, Clone, PartialEq, Debug)]
struct Record {
    id: i64,
    n: u32,
    name: String,
    key: String,
    tags: Vec<String>,
    attrs: BTreeMap<String, i64>,
    id2: Option<uuid::Uuid>,
    flag: bool,
    c: char,
    raw: Vec<u8>,
}

fn pack_record(r: &mut Record, buf: &mut vpack::Buffer) {
    let v = vpack::version(2, buf);
    vpack::int(&mut r.id, buf);
    vpack::uint(&mut r.n, buf);
    vpack::string(&mut r.name, buf);
    vpack::string_z(&mut r.key, buf);
    vpack::vec(&mut r.tags, buf, vpack::string);
    vpack::btree_map(&mut r.attrs, buf, vpack::string_z, vpack::fint_ord);
    vpack::option(&mut r.id2, buf, vpack::uuid);
    vpack::bool(&mut r.flag, buf);
    if v >= 2 {
        vpack::rune(&mut r.c, buf);
        vpack::bytes(&mut r.raw, buf);
    }
}

/// A derived type that refers to itself: hostile nesting must stop at
/// vpack's depth limit, unknown tags must be errors.
#[derive(vpack::Pack, Clone, PartialEq, Debug)]
enum Node {
    #[pack(tag = 1)]
    Leaf(i64),
    #[pack(tag = 2)]
    Pair(Box<Node>, Box<Node>),
    #[pack(tag = 7)]
    Named { name: String, children: Vec<Node> },
}

fn canonical<T: Default + Clone>(data: &[u8], pack: impl Fn(&mut T, &mut vpack::Buffer)) {
    if let Ok(v) = vpack::from_bytes::<T>(data, &pack) {
        let again = vpack::to_bytes(&mut v.clone(), &pack).expect("re-encode");
        assert_eq!(again, data, "accepted a non-canonical encoding");
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = vpack::from_bytes::<Record>(data, pack_record);
    canonical::<i64>(data, vpack::int);
    canonical::<Node>(data, <Node as vpack::Pack>::pack);
    canonical::<u128>(data, vpack::uint);
    canonical::<i16>(data, vpack::int);
    canonical::<Vec<Vec<u8>>>(data, |v, b| vpack::vec(v, b, vpack::bytes));
    let mut t = std::time::UNIX_EPOCH;
    let mut r = vpack::Buffer::reader(data);
    vpack::unix_time_milli(&mut t, &mut r);
    let _ = r.finish();
});
