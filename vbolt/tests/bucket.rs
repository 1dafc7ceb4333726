//! Buckets, transactions and iteration: every function, and the edge cases
//! of the spec (zero keys, missing buckets, resumable scans, rollback).

mod backend;

use std::collections::{BTreeMap, HashMap};

use vbolt::*;

#[derive(Default, Debug, Clone, PartialEq)]
struct User {
    name: String,
    email: String,
}

fn pack_user(u: &mut User, buf: &mut vpack::Buffer) {
    vpack::version(1, buf);
    vpack::string(&mut u.name, buf);
    vpack::string(&mut u.email, buf);
}

static USERS: Bucket<i64, User> = Bucket::new("users", vpack::key::fint_non_negative(), pack_user);
static BY_NAME: Bucket<String, i64> = Bucket::new("by_name", vpack::key::string_z(), vpack::int);
static NUMS: Bucket<u32, u32> = Bucket::new("nums", vpack::key::fuint(), vpack::uint);
static SIGNED: Bucket<i32, String> = Bucket::new("signed", vpack::key::fint_ord(), vpack::string);
static NEVER_WRITTEN: Bucket<u64, String> =
    Bucket::new("never_written", vpack::key::fuint(), vpack::string);

fn user(name: &str) -> User {
    User {
        name: name.into(),
        email: format!("{name}@example.com"),
    }
}

fn filled(n: u32) -> Db {
    let db = backend::test_db();
    let mut tx = db.write_tx().unwrap();
    for i in 1..=n {
        write(&mut tx, &NUMS, i, &mut (i * 10));
    }
    tx.commit().unwrap();
    db
}

#[test]
fn write_read_delete_has_key() {
    let db = backend::test_db();
    let mut tx = db.write_tx().unwrap();
    write(&mut tx, &USERS, 1, &mut user("ann"));
    write(&mut tx, &BY_NAME, "ann".to_string(), &mut 1);
    // Reads see the transaction's own writes.
    assert!(has_key(&tx, &USERS, 1).unwrap());
    tx.commit().unwrap();

    let tx = db.read_tx().unwrap();
    let mut u = User::default();
    assert!(read(&tx, &USERS, 1, &mut u));
    assert_eq!(u, user("ann"));
    let mut id = 0;
    assert!(read(&tx, &BY_NAME, "ann".to_string(), &mut id));
    assert_eq!(id, 1);
    // Absent keys leave the target untouched.
    let mut untouched = user("keep");
    assert!(!read(&tx, &USERS, 2, &mut untouched));
    assert_eq!(untouched, user("keep"));
    drop(tx);

    let mut tx = db.write_tx().unwrap();
    delete(&mut tx, &USERS, 1);
    delete(&mut tx, &USERS, 99); // absent: nothing happens
    tx.commit().unwrap();
    let tx = db.read_tx().unwrap();
    assert!(!has_key(&tx, &USERS, 1).unwrap());
    assert!(has_key(&tx, &BY_NAME, "ann".to_string()).unwrap());
}

#[test]
fn missing_bucket_reads_as_empty_in_both_transaction_kinds() {
    let db = backend::test_db();
    let tx = db.read_tx().unwrap();
    let mut s = String::new();
    assert!(!read(&tx, &NEVER_WRITTEN, 1, &mut s));
    let mut n = 0;
    iterate_all(&tx, &NEVER_WRITTEN, |_, _| {
        n += 1;
        true
    })
    .unwrap();
    assert_eq!(
        scan_list(&tx, &NEVER_WRITTEN, None, Some(10), &mut Vec::new()).unwrap(),
        None
    );
    assert!(tx.error().is_none());
    drop(tx);
    let wtx = db.write_tx().unwrap();
    assert!(!has_key(&wtx, &NEVER_WRITTEN, 1).unwrap());
    assert_eq!(n, 0);
}

#[test]
fn read_slice_map_and_append_helpers() {
    let db = filled(5);
    let tx = db.read_tx().unwrap();
    let mut list = vec![0];
    assert_eq!(read_slice(&tx, &NUMS, [4, 9, 2], &mut list).unwrap(), 2);
    assert_eq!(list, [0, 40, 20]);
    let mut map = HashMap::new();
    assert_eq!(
        read_slice_to_map(&tx, &NUMS, &[1, 3, 77], &mut map).unwrap(),
        2
    );
    assert_eq!(map, HashMap::from([(1, 10), (3, 30)]));
    let mut ordered = BTreeMap::new();
    assert!(read_to_map(&tx, &NUMS, &5, &mut ordered).unwrap());
    assert!(!read_to_map(&tx, &NUMS, &6, &mut ordered).unwrap());
    assert_eq!(ordered, BTreeMap::from([(5, 50)]));
    let mut v = Vec::new();
    assert!(read_append(&tx, &NUMS, 2, &mut v).unwrap());
    assert!(!read_append(&tx, &NUMS, 0, &mut v).unwrap());
    assert_eq!(v, [20]);
}

#[test]
fn iteration_in_both_directions() {
    let db = filled(5);
    let tx = db.read_tx().unwrap();
    let mut fwd = Vec::new();
    iterate_all(&tx, &NUMS, |k, v| {
        fwd.push((k, v));
        true
    })
    .unwrap();
    assert_eq!(fwd, (1..=5).map(|i| (i, i * 10)).collect::<Vec<_>>());
    let mut rev = Vec::new();
    iterate_all_reverse(&tx, &NUMS, |k, _| {
        rev.push(k);
        k > 3
    })
    .unwrap();
    assert_eq!(rev, [5, 4, 3]);
}

#[test]
fn resumable_scans_never_skip_or_repeat() {
    let db = filled(10);
    let tx = db.read_tx().unwrap();
    // Stop after each item in turn and resume from the returned key.
    for stop_every in 1..=4 {
        let mut seen = Vec::new();
        let mut from = Some(1u32);
        while let Some(start) = from {
            let mut in_call = 0;
            from = iterate_bucket_from(&tx, &NUMS, &start, Direction::Forward, |k, _| {
                seen.push(k);
                in_call += 1;
                in_call < stop_every
            })
            .unwrap();
        }
        assert_eq!(
            seen,
            (1..=10).collect::<Vec<_>>(),
            "stop every {stop_every}"
        );
    }
    // Reverse, from the middle.
    let mut seen = Vec::new();
    let next = iterate_bucket_from(&tx, &NUMS, &6, Direction::Reverse, |k, _| {
        seen.push(k);
        k > 4
    })
    .unwrap();
    assert_eq!((seen, next), (vec![6, 5, 4], Some(3)));
    // From a key that does not exist: starts at the next one.
    let mut tx2 = db.write_tx().unwrap();
    delete(&mut tx2, &NUMS, 3);
    let mut seen = Vec::new();
    let next = iterate_bucket_from(&tx2, &NUMS, &3, Direction::Forward, |k, _| {
        seen.push(k);
        false
    })
    .unwrap();
    assert_eq!((seen, next), (vec![4], Some(5)));
}

#[test]
fn scan_list_pages_through_everything() {
    let db = filled(7);
    let tx = db.read_tx().unwrap();
    let mut all = Vec::new();
    let mut from = None;
    loop {
        let mut page = Vec::new();
        let next = scan_list(&tx, &NUMS, from.as_ref(), Some(3), &mut page).unwrap();
        assert!(page.len() <= 3);
        all.extend(page);
        match next {
            Some(k) => from = Some(k),
            None => break,
        }
    }
    assert_eq!(all, (1..=7).map(|i| i * 10).collect::<Vec<_>>());
    // An exact multiple: the last full page reports nothing after it.
    let mut page = Vec::new();
    assert_eq!(
        scan_list(&tx, &NUMS, Some(&5), Some(3), &mut page).unwrap(),
        None
    );
    assert_eq!(page, [50, 60, 70]);
}

#[test]
fn signed_keys_with_order_preserving_encoding_sort_numerically() {
    let db = backend::test_db();
    let mut tx = db.write_tx().unwrap();
    for k in [5, -3, -100, 77, i32::MIN, i32::MAX] {
        write(&mut tx, &SIGNED, k, &mut k.to_string());
    }
    let mut keys = Vec::new();
    iterate_all(&tx, &SIGNED, |k, _| {
        keys.push(k);
        true
    })
    .unwrap();
    assert_eq!(keys, [i32::MIN, -100, -3, 5, 77, i32::MAX]);
}

#[test]
fn sequences_commit_and_roll_back_with_the_transaction() {
    let db = backend::test_db();
    let mut tx = db.write_tx().unwrap();
    assert_eq!(next_int_id(&mut tx, &USERS), 1);
    assert_eq!(next_int_id(&mut tx, &USERS), 2);
    assert_eq!(
        next_int_id(&mut tx, &NUMS),
        1,
        "each bucket has its own sequence"
    );
    tx.commit().unwrap();
    let mut tx = db.write_tx().unwrap();
    assert_eq!(next_int_id(&mut tx, &USERS), 3);
    drop(tx); // rolled back
    let mut tx = db.write_tx().unwrap();
    assert_eq!(next_int_id(&mut tx, &USERS), 3);
}

#[test]
fn raise_sequence_moves_past_existing_ids() {
    let db = backend::test_db();
    let mut tx = db.write_tx().unwrap();
    for id in [3i64, 40, 12] {
        write(&mut tx, &USERS, id, &mut user("x"));
    }
    assert_eq!(raise_sequence(&mut tx, &USERS), 40);
    assert_eq!(next_int_id(&mut tx, &USERS), 41);
    // It never lowers the sequence.
    delete(&mut tx, &USERS, 40);
    assert_eq!(raise_sequence(&mut tx, &USERS), 41);
    tx.commit().unwrap();
}

#[test]
fn a_failed_write_fails_the_whole_transaction() {
    let db = backend::test_db();
    let mut tx = db.write_tx().unwrap();
    write(&mut tx, &USERS, 1, &mut user("before"));
    // A string_z key with a NUL cannot be packed.
    write(&mut tx, &BY_NAME, "bad\0name".to_string(), &mut 1);
    assert!(!tx.is_ok());
    assert!(matches!(
        tx.error(),
        Some(Error::Encode {
            table: "by_name",
            ..
        })
    ));
    write(&mut tx, &USERS, 2, &mut user("after")); // a no-op now
    let err = tx.commit().unwrap_err();
    assert!(err.to_string().contains("by_name"), "{err}");
    let tx = db.read_tx().unwrap();
    assert!(
        !has_key(&tx, &USERS, 1).unwrap(),
        "nothing of a failed transaction commits"
    );
    assert!(!has_key(&tx, &USERS, 2).unwrap());
}

#[test]
fn commit_twice_and_write_after_commit() {
    let db = backend::test_db();
    let mut tx = db.write_tx().unwrap();
    write(&mut tx, &NUMS, 1, &mut 1);
    tx.commit().unwrap();
    assert!(matches!(tx.commit(), Err(Error::Finished)));
    write(&mut tx, &NUMS, 2, &mut 2);
    assert!(
        matches!(has_key(&tx, &NUMS, 1), Err(Error::Finished)),
        "a finished transaction reads nothing"
    );
    assert!(matches!(tx.commit(), Err(Error::Finished)));
    assert!(db.view(|tx| has_key(tx, &NUMS, 1)).unwrap());
}

#[test]
fn undecodable_values_are_errors_never_absent() {
    static RAW: Bucket<u32, Vec<u8>> = Bucket::new("mixed", vpack::key::fuint(), vpack::bytes);
    static TYPED: Bucket<u32, User> = Bucket::new("mixed", vpack::key::fuint(), pack_user);
    let db = backend::test_db();
    let mut tx = db.write_tx().unwrap();
    write(&mut tx, &RAW, 7, &mut vec![0xff, 0xff]);

    // get: the error names the bucket, the key (hex) and vpack's reason.
    let err = get(&tx, &TYPED, 7).unwrap_err();
    match &err {
        Error::Decode {
            table, part, key, ..
        } => {
            assert_eq!((*table, *part), ("mixed", "value"));
            assert_eq!(key, &7u32.to_be_bytes());
        }
        other => panic!("expected Decode, got {other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("mixed") && text.contains("0x00000007"),
        "{text}"
    );
    assert_eq!(
        get(&tx, &TYPED, 8).unwrap(),
        None,
        "absent is still Ok(None)"
    );

    // Every other read path says so too.
    let mut list = Vec::new();
    assert!(read_slice(&tx, &TYPED, [7], &mut list).is_err());
    assert!(
        iterate_all(&tx, &TYPED, |_, _| true).is_err(),
        "iteration never skips"
    );
    assert!(scan_list(&tx, &TYPED, None, None, &mut list).is_err());
    assert!(
        has_key(&tx, &TYPED, 7).unwrap(),
        "the key exists: has_key does not unpack"
    );

    // The fill-in form answers false, leaves the item alone, and records
    // the failure, so the transaction cannot commit on a wrong answer.
    let mut u = user("untouched");
    assert!(!read(&tx, &TYPED, 7, &mut u));
    assert_eq!(u, user("untouched"));
    assert!(matches!(tx.error(), Some(Error::Decode { .. })));
    assert!(matches!(tx.commit(), Err(Error::Decode { .. })));

    // In a read transaction the recorded failure comes out of view/finish.
    db.update(|tx| {
        write(tx, &RAW, 7, &mut vec![0xff, 0xff]);
        Ok::<_, Error>(())
    })
    .unwrap();
    let viewed = db.view(|tx| {
        let mut u = user("x");
        Ok::<_, Error>(read(tx, &TYPED, 7, &mut u))
    });
    assert!(matches!(viewed, Err(Error::Decode { .. })));
}

#[test]
fn zero_keys_fail_the_transaction_and_read_as_absent() {
    static NAMES: Bucket<String, u32> =
        Bucket::new("names_by_text", vpack::key::string_z(), vpack::uint);
    let db = backend::test_db();
    for attempt in 0..3 {
        let mut tx = db.write_tx().unwrap();
        match attempt {
            0 => write(&mut tx, &NUMS, 0, &mut 5),
            1 => delete(&mut tx, &NUMS, 0),
            _ => write(&mut tx, &NAMES, "", &mut 5),
        }
        write(&mut tx, &NUMS, 1, &mut 1); // a no-op once the transaction failed
        match tx.commit() {
            Err(Error::ZeroKey { table }) => {
                assert!(table == "nums" || table == "names_by_text", "{table}")
            }
            other => panic!("attempt {attempt}: expected ZeroKey, got {other:?}"),
        }
    }
    let tx = db.read_tx().unwrap();
    assert_eq!(get(&tx, &NUMS, 0).unwrap(), None);
    assert_eq!(get(&tx, &NAMES, "").unwrap(), None);
    assert!(
        !has_key(&tx, &NUMS, 1).unwrap(),
        "nothing of the failed transactions committed"
    );
}

#[test]
fn writes_after_commit_are_recorded_as_finished() {
    let db = backend::test_db();
    let mut tx = db.write_tx().unwrap();
    tx.commit().unwrap();
    assert!(tx.error().is_none());
    write(&mut tx, &NUMS, 1, &mut 1);
    assert!(matches!(tx.error(), Some(Error::Finished)));
    let mut tx = db.write_tx().unwrap();
    tx.commit().unwrap();
    assert_eq!(next_int_id(&mut tx, &NUMS), 0);
    assert!(matches!(tx.error(), Some(Error::Finished)));
    assert!(matches!(get(&tx, &NUMS, 1), Err(Error::Finished)));
}

#[test]
fn borrowed_keys_read_and_write_the_same_entries() {
    static BY_TEXT: Bucket<String, u32> =
        Bucket::new("by_text", vpack::key::string_z(), vpack::uint);
    static BY_BYTES: Bucket<Vec<u8>, u32> = Bucket::new(
        "by_bytes",
        vpack::KeyFn::order_unchecked(vpack::bytes),
        vpack::uint,
    );
    let db = backend::test_db();
    db.update(|tx| {
        write(tx, &BY_TEXT, "ann", &mut 1);
        write(tx, &BY_TEXT, "bo".to_string(), &mut 2);
        write(tx, &BY_BYTES, &b"\x01\x02"[..], &mut 3);
        Ok::<_, Error>(())
    })
    .unwrap();
    let tx = db.read_tx().unwrap();
    let ann = String::from("ann");
    assert_eq!(get(&tx, &BY_TEXT, &ann).unwrap(), Some(1));
    assert_eq!(get(&tx, &BY_TEXT, "bo").unwrap(), Some(2));
    assert_eq!(get(&tx, &BY_BYTES, vec![1u8, 2]).unwrap(), Some(3));
    assert_eq!(get(&tx, &BY_BYTES, &[1u8, 2][..]).unwrap(), Some(3));
}

#[test]
fn closure_helpers() {
    let db = backend::test_db();
    db.update(|tx| {
        write(tx, &NUMS, 1, &mut 11);
        Ok::<_, Error>(())
    })
    .unwrap();
    // An Err from the closure rolls back and comes out unchanged.
    let r: Result<(), &str> = Err("no");
    let out = db.update(|tx| {
        write(tx, &NUMS, 2, &mut 22);
        r.map_err(|e| Error::Engine(e.into()))
    });
    assert!(matches!(out, Err(Error::Engine(ref e)) if e == "no"));
    // A write that failed inside the closure makes update fail.
    let out = db.update(|tx| {
        write(tx, &NUMS, 0, &mut 3);
        Ok::<_, Error>(())
    });
    assert!(matches!(out, Err(Error::ZeroKey { .. })));
    let (one, two) = db
        .view(|tx| Ok::<_, Error>((has_key(tx, &NUMS, 1)?, has_key(tx, &NUMS, 2)?)))
        .unwrap();
    assert!(one && !two);
}

#[test]
fn batches_visit_everything_once() {
    let db = filled(25);
    let mut seen = Vec::new();
    iterate_in_batches(&db, &NUMS, 4, |batch| {
        assert!(batch.len() <= 4);
        seen.extend(batch.iter().map(|(k, _)| *k));
        true
    })
    .unwrap();
    assert_eq!(seen, (1..=25).collect::<Vec<_>>());

    // Rewrite every value in batches of 7 write transactions.
    let n = tx_write_batches(&db, &NUMS, 7, |tx, k, v| write(tx, &NUMS, k, &mut (v + k))).unwrap();
    assert_eq!(n, 25);
    let tx = db.read_tx().unwrap();
    let mut v = 0;
    assert!(read(&tx, &NUMS, 25, &mut v));
    assert_eq!(v, 275);
}

#[test]
fn info_lists_and_creates_declarations() {
    static TAGS: Index<String, u32> =
        Index::new("tags", vpack::key::string_z(), vpack::key::fuint());
    static INFO: Info = Info::new(&[&USERS, &BY_NAME, &TAGS, &NUMS]);
    let db = backend::test_db();
    ensure_buckets(&db, &INFO).unwrap();
    let tables: Vec<String> = db
        .raw_tables()
        .unwrap()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let declared: Vec<&str> = INFO
        .items()
        .iter()
        .flat_map(|item| Info::table_names(*item))
        .collect();
    assert_eq!(
        declared,
        [
            "bucket:users",
            "bucket:by_name",
            "index:tags",
            "index-targets:tags",
            "index-counts:tags",
            "bucket:nums"
        ]
    );
    for name in declared {
        assert!(tables.iter().any(|t| t == name), "{name} in {tables:?}");
    }
    assert_eq!(
        INFO.items().iter().map(|d| d.name()).collect::<Vec<_>>(),
        ["users", "by_name", "tags", "nums"]
    );
}

/// A value pack function that panics on read, to show whose panic is whose.
fn pack_touchy(v: &mut u32, buf: &mut vpack::Buffer) {
    if buf.is_reading() {
        panic!("touchy: refusing to read");
    }
    vpack::uint(v, buf);
}

static TOUCHY: Bucket<u32, u32> = Bucket::new("touchy", vpack::key::fuint(), pack_touchy);

fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

// vbolt turns a panic inside the storage engine into `Error::Corrupted`; a
// panic in the application's own code (a visitor, a pack function) must
// reach the application unchanged, and must not be recorded as corruption.
#[test]
fn panics_in_application_code_reach_the_caller_unchanged() {
    use std::panic::{AssertUnwindSafe, catch_unwind};
    let db = backend::test_db();
    let mut tx = db.write_tx().unwrap();
    write(&mut tx, &TOUCHY, 1u32, &mut 10);
    write(&mut tx, &NUMS, 1u32, &mut 10);
    write(&mut tx, &NUMS, 2u32, &mut 20);
    tx.commit().unwrap();

    let tx = db.read_tx().unwrap();
    let visitor = catch_unwind(AssertUnwindSafe(|| {
        iterate_all(&tx, &NUMS, |_, _| panic!("visitor: stop")).unwrap();
    }));
    assert_eq!(panic_text(visitor.unwrap_err()), "visitor: stop");

    let decoder = catch_unwind(AssertUnwindSafe(|| {
        let mut v = 0;
        read(&tx, &TOUCHY, 1u32, &mut v)
    }));
    assert_eq!(panic_text(decoder.unwrap_err()), "touchy: refusing to read");

    // Nothing was recorded against the transaction, and it still reads.
    assert!(tx.error().is_none(), "{:?}", tx.error());
    let mut n = 0;
    assert!(read(&tx, &NUMS, 2u32, &mut n));
    assert_eq!(n, 20);
}

fn pack_user_checked(u: &mut User, buf: &mut vpack::Buffer) {
    vpack::checked(u, buf, pack_user);
}

/// The user's bytes with a wrong checksum: what damage at rest looks like.
fn pack_user_damaged(u: &mut User, buf: &mut vpack::Buffer) {
    pack_user(u, buf);
    vpack::fuint(&mut 0xDEAD_BEEFu32, buf);
}

static CHECKED_USERS: Bucket<i64, User> = Bucket::new(
    "checked",
    vpack::key::fint_non_negative(),
    pack_user_checked,
);
static DAMAGING_USERS: Bucket<i64, User> = Bucket::new(
    "checked",
    vpack::key::fint_non_negative(),
    pack_user_damaged,
);

#[test]
fn a_checked_value_that_changed_at_rest_is_an_error_on_every_read_path() {
    let db = backend::test_db();
    db.update(|tx| {
        for id in 1..=3 {
            write(tx, &CHECKED_USERS, id, &mut user(&format!("u{id}")));
        }
        write(tx, &DAMAGING_USERS, 2, &mut user("u2"));
        Ok::<_, Error>(())
    })
    .unwrap();
    let tx = db.read_tx().unwrap();
    assert_eq!(get(&tx, &CHECKED_USERS, 1).unwrap(), Some(user("u1")));
    let key_2 = vpack::to_bytes(&mut 2i64, vpack::fint).unwrap();
    let damaged = |e: &Error| {
        matches!(e, Error::Decode { table: "checked", part: "value", key, source }
            if *key == key_2
            && matches!(source.kind(), vpack::ErrorKind::ChecksumMismatch { .. }))
    };
    let e = get(&tx, &CHECKED_USERS, 2).unwrap_err();
    assert!(damaged(&e), "{e}");
    assert!(e.to_string().contains("checksum mismatch"), "{e}");
    // Walking the bucket (an online check: a read transaction, no copy)
    // stops at the damaged entry, naming it; the walk resumes after it.
    let results: Vec<_> = entries(&tx, &CHECKED_USERS).collect();
    assert_eq!(results.len(), 2);
    assert!(results[0].is_ok());
    assert!(results[1].as_ref().is_err_and(damaged));
    let rest: Vec<_> = entries_in(&tx, &CHECKED_USERS, 3i64..)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rest, [(3, user("u3"))]);
    let mut slice = Vec::new();
    assert!(read_slice(&tx, &CHECKED_USERS, [1i64, 2], &mut slice).is_err());
}
