//! Indexes tied to their buckets: `Index::targets_in` / `terms_in`, the
//! commit-time check of `Db::strict_indexes`, and `check`'s report of
//! entries that point at nothing. The mistake under test is the one a
//! bookmarks service made: deleting a record and not its index entries.

use std::sync::{Arc, Barrier};

use vbolt::*;

static BOOKMARKS: Bucket<u64, String> =
    Bucket::new("bookmarks", vpack::key::ordered(), vpack::string);
static BY_TAG: Index<String, u64> = Index::new(
    "bookmarks_by_tag",
    vpack::key::ordered(),
    vpack::key::ordered(),
)
.targets_in(&BOOKMARKS);
static GROUPS: Bucket<u64, String> = Bucket::new("groups", vpack::key::ordered(), vpack::string);
/// Term: a group (a key of GROUPS). Target: a member's user id.
static MEMBERS: Index<u64, u64> = Index::new(
    "group_members",
    vpack::key::ordered(),
    vpack::key::ordered(),
)
.terms_in(&GROUPS);
static INFO: Info = Info::new(&[&BOOKMARKS, &BY_TAG, &GROUPS, &MEMBERS]);

fn db(strict: bool) -> Db {
    let db = Db::in_memory().unwrap();
    ensure_buckets(&db, &INFO).unwrap();
    db.strict_indexes(strict);
    db
}

fn save(tx: &mut WriteTx, id: u64, tags: &[&str]) {
    write(tx, &BOOKMARKS, id, &mut format!("https://example.com/{id}"));
    set_target_terms_plain(tx, &BY_TAG, id, tags.iter().copied());
}

fn seeded(strict: bool) -> Db {
    let db = db(strict);
    db.update(|tx| {
        save(tx, 1, &["rust", "db"]);
        save(tx, 2, &["rust"]);
        save(tx, 3, &["rust"]);
        Ok::<_, Error>(())
    })
    .unwrap();
    db
}

fn rust_page(db: &Db) -> (Vec<u64>, usize) {
    db.view(|tx| {
        let mut ids = Vec::new();
        read_term_targets(tx, &BY_TAG, "rust", &mut ids, &Window::new())?;
        Ok::<_, Error>((ids, read_term_count(tx, &BY_TAG, "rust")?))
    })
    .unwrap()
}

#[test]
fn strict_a_forgotten_index_delete_fails_its_commit_and_commits_nothing() {
    let db = seeded(true);
    let err = db
        .update(|tx| {
            delete(tx, &BOOKMARKS, 2); // and no delete_target_terms
            Ok::<_, Error>(())
        })
        .unwrap_err();
    match &err {
        Error::Dangling {
            index,
            part,
            bucket,
            key,
        } => {
            assert_eq!(
                (*index, *part, *bucket),
                ("bookmarks_by_tag", "target", "bookmarks")
            );
            assert_eq!(key, &2u64.to_be_bytes());
        }
        other => panic!("expected Dangling, got {other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("bookmarks_by_tag")
            && text.contains("bookmarks")
            && text.contains("delete_target_terms"),
        "{text}"
    );
    // Nothing committed: the record is still there.
    assert!(db.view(|tx| has_key(tx, &BOOKMARKS, 2)).unwrap());
    // Deleting both commits, and the page and count agree.
    db.update(|tx| {
        delete(tx, &BOOKMARKS, 2);
        delete_target_terms(tx, &BY_TAG, 2);
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(rust_page(&db), (vec![1, 3], 2));
    assert!(check(&db).unwrap().is_ok());
}

#[test]
fn strict_an_entry_for_a_record_never_written_fails() {
    let db = seeded(true);
    let mut tx = db.write_tx().unwrap();
    set_target_terms_plain(&mut tx, &BY_TAG, 99, ["rust"]);
    assert!(matches!(tx.commit(), Err(Error::Dangling { key, .. }) if key == 99u64.to_be_bytes()));
    assert_eq!(rust_page(&db), (vec![1, 2, 3], 3));
}

#[test]
fn strict_the_order_within_a_transaction_does_not_matter() {
    let db = seeded(true);
    db.update(|tx| {
        // Entry first, record second.
        set_target_terms_plain(tx, &BY_TAG, 4, ["db"]);
        write(tx, &BOOKMARKS, 4, &mut "https://example.com/4".into());
        // Deleted and written again.
        delete(tx, &BOOKMARKS, 1);
        write(tx, &BOOKMARKS, 1, &mut "https://example.com/1b".into());
        // Entries removed before the record.
        delete_target_terms(tx, &BY_TAG, 3);
        delete(tx, &BOOKMARKS, 3);
        // An entry written and removed again for a record that never was.
        set_target_terms_plain(tx, &BY_TAG, 50, ["db"]);
        delete_target_terms(tx, &BY_TAG, 50);
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(rust_page(&db), (vec![1, 2], 2));
}

#[test]
fn strict_a_deleted_term_bucket_key_with_entries_fails() {
    let db = db(true);
    db.update(|tx| {
        write(tx, &GROUPS, 10, &mut "climbers".into());
        set_target_single_term(tx, &MEMBERS, 7, 10);
        Ok::<_, Error>(())
    })
    .unwrap();
    let err = db
        .update(|tx| {
            delete(tx, &GROUPS, 10);
            Ok::<_, Error>(())
        })
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Dangling {
                part: "term",
                bucket: "groups",
                ..
            }
        ),
        "{err:?}"
    );
    // A member of a group that does not exist.
    let err = db
        .update(|tx| {
            set_target_single_term(tx, &MEMBERS, 8, 11);
            Ok::<_, Error>(())
        })
        .unwrap_err();
    assert!(
        matches!(err, Error::Dangling { part: "term", .. }),
        "{err:?}"
    );
}

#[test]
fn strict_in_a_group_commit_only_the_careless_caller_fails() {
    let db = Arc::new(seeded(true));
    let n = 8;
    let barrier = Arc::new(Barrier::new(n));
    let threads: Vec<_> = (0..n as u64)
        .map(|i| {
            let (db, barrier) = (db.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                db.update(|tx| {
                    if i == 3 {
                        delete(tx, &BOOKMARKS, 1); // forgets the index
                    } else {
                        save(tx, 100 + i, &["rust"]);
                    }
                    Ok::<_, Error>(())
                })
            })
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    for (i, r) in results.iter().enumerate() {
        if i == 3 {
            assert!(matches!(r, Err(Error::Dangling { .. })), "{i}: {r:?}");
        } else {
            assert!(r.is_ok(), "{i}: {r:?}");
        }
    }
    let (ids, count) = rust_page(&db);
    assert_eq!(count, 3 + 7);
    assert!(ids.contains(&1));
    assert!(check(&db).unwrap().is_ok());
}

#[test]
fn off_by_default_the_mistake_commits_and_check_names_it() {
    let db = seeded(false);
    db.update(|tx| {
        delete(tx, &BOOKMARKS, 2);
        Ok::<_, Error>(())
    })
    .unwrap();
    // What the bookmarks service saw: the count and the page still say 3.
    assert_eq!(rust_page(&db), (vec![1, 2, 3], 3));
    let report = check(&db).unwrap();
    assert_eq!(report.problem_count, 1, "{:?}", report.problems);
    let problem = &report.problems[0];
    assert_eq!(problem.table, "index:bookmarks_by_tag");
    // Index declarations are described, so the term and target show decoded.
    assert_eq!(
        problem.what,
        "term 7275737400 (\"rust\"): target 0000000000000002 (2) is not a key of bucket \
         bookmarks (a record deleted without its index entries?)"
    );
}

#[test]
fn check_reports_a_term_missing_from_its_bucket_once() {
    let db = db(false);
    db.update(|tx| {
        write(tx, &GROUPS, 10, &mut "climbers".into());
        for member in [7, 8, 9] {
            set_target_single_term(tx, &MEMBERS, member, 10);
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    assert!(check(&db).unwrap().is_ok());
    db.update(|tx| {
        delete(tx, &GROUPS, 10);
        Ok::<_, Error>(())
    })
    .unwrap();
    let report = check(&db).unwrap();
    assert_eq!(report.problem_count, 1, "{:?}", report.problems);
    assert!(
        report.problems[0].what.contains("bucket groups"),
        "{:?}",
        report.problems
    );
}

#[test]
fn an_index_without_a_link_is_not_checked_against_buckets() {
    static LOOSE: Index<String, u64> =
        Index::new("loose", vpack::key::ordered(), vpack::key::ordered());
    static LOOSE_INFO: Info = Info::new(&[&LOOSE]);
    let db = db(true);
    ensure_buckets(&db, &LOOSE_INFO).unwrap();
    db.update(|tx| {
        set_target_single_term(tx, &LOOSE, 5, "anything");
        Ok::<_, Error>(())
    })
    .unwrap();
    assert!(check(&db).unwrap().is_ok());
}
