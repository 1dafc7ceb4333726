//! The file's catalog: declarations by type are recorded with what their
//! bytes hold, a later version of a value type replaces the record, and a
//! program whose declaration no longer matches the file is refused with the
//! bucket and both descriptions, before it reads anything.

use vbolt::*;
use vpack::Pack;

mod v1 {
    use super::*;
    #[derive(Pack, Debug, PartialEq)]
    #[pack(version = 1)]
    pub struct Bookmark {
        pub url: String,
    }
    pub static BOOKMARKS: Bucket<u64, Bookmark> = Bucket::of("bookmarks");
    pub static INFO: Info = Info::new(&[&BOOKMARKS]);
}

mod v2 {
    use super::*;
    #[derive(Pack, Debug, PartialEq)]
    #[pack(version = 2)]
    pub struct Bookmark {
        pub url: String,
        #[pack(since = 2)]
        pub title: String,
    }
    pub static BOOKMARKS: Bucket<u64, Bookmark> = Bucket::of("bookmarks");
    pub static INFO: Info = Info::new(&[&BOOKMARKS]);
}

/// The same bucket, keyed by a string now.
mod rekeyed {
    use super::*;
    pub static BOOKMARKS: Bucket<String, v2::Bookmark> = Bucket::of("bookmarks");
    pub static INFO: Info = Info::new(&[&BOOKMARKS]);
}

/// A different value type under the same name, at version 1.
mod other_type {
    use super::*;
    #[derive(Pack, Debug, PartialEq)]
    #[pack(version = 1)]
    pub struct Bookmark {
        pub url: String,
        pub visits: u64,
    }
    pub static BOOKMARKS: Bucket<u64, Bookmark> = Bucket::of("bookmarks");
    pub static INFO: Info = Info::new(&[&BOOKMARKS]);
}

/// Declared with hand-written encodings: no description, no check.
mod by_hand {
    use super::*;
    pub static BOOKMARKS: Bucket<u64, Vec<u8>> =
        Bucket::new("bookmarks", vpack::key::fuint(), vpack::bytes);
    pub static INFO: Info = Info::new(&[&BOOKMARKS]);
}

fn file() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bookmarks.vbolt");
    (dir, path)
}

#[test]
fn a_later_version_is_accepted_and_an_older_program_refused() {
    let (_dir, path) = file();
    {
        let db = Db::open(&path).unwrap();
        ensure_buckets(&db, &v1::INFO).unwrap();
        db.update(|tx| {
            write(
                tx,
                &v1::BOOKMARKS,
                1,
                &mut v1::Bookmark {
                    url: "https://a".into(),
                },
            );
            Ok::<_, Error>(())
        })
        .unwrap();
    }
    {
        let db = Db::open(&path).unwrap();
        ensure_buckets(&db, &v2::INFO).unwrap();
        let b = db.view(|tx| get(tx, &v2::BOOKMARKS, 1)).unwrap().unwrap();
        assert_eq!(
            b,
            v2::Bookmark {
                url: "https://a".into(),
                title: String::new()
            }
        );
        db.update(|tx| {
            write(
                tx,
                &v2::BOOKMARKS,
                2,
                &mut v2::Bookmark {
                    url: "https://b".into(),
                    title: "B".into(),
                },
            );
            Ok::<_, Error>(())
        })
        .unwrap();
    }
    // The v1 program would fail on record 2 ("newer version"): it is
    // refused at the door, naming what differs.
    let db = Db::open(&path).unwrap();
    let err = ensure_buckets(&db, &v1::INFO).unwrap_err();
    match &err {
        Error::SchemaMismatch {
            table,
            part,
            recorded,
            declared,
        } => {
            assert_eq!((*table, *part), ("bookmarks", "value"));
            assert!(
                recorded.starts_with("Bookmark v2 { url: string, title: string (since 2) }"),
                "{recorded}"
            );
            assert_eq!(declared, "Bookmark v1 { url: string }");
        }
        other => panic!("expected SchemaMismatch, got {other:?}"),
    }
    assert!(err.to_string().contains("bookmarks"), "{err}");
    // v2 still opens, and so does a program with no descriptions.
    ensure_buckets(&db, &v2::INFO).unwrap();
    ensure_buckets(&db, &by_hand::INFO).unwrap();
}

#[test]
fn a_changed_key_type_is_refused() {
    let db = Db::in_memory().unwrap();
    ensure_buckets(&db, &v2::INFO).unwrap();
    let err = ensure_buckets(&db, &rekeyed::INFO).unwrap_err();
    assert!(
        matches!(&err, Error::SchemaMismatch { part: "key", recorded, declared, .. }
            if recorded == "fuint64" && declared == "string_z"),
        "{err:?}"
    );
}

#[test]
fn another_type_at_the_same_version_is_refused() {
    let db = Db::in_memory().unwrap();
    ensure_buckets(&db, &v1::INFO).unwrap();
    let err = ensure_buckets(&db, &other_type::INFO).unwrap_err();
    assert!(
        matches!(err, Error::SchemaMismatch { part: "value", .. }),
        "{err:?}"
    );
}

#[test]
fn a_refused_declaration_writes_nothing() {
    let db = Db::in_memory().unwrap();
    ensure_buckets(&db, &v2::INFO).unwrap();
    static EXTRA: Bucket<u64, u64> = Bucket::of("extra");
    static BOTH: Info = Info::new(&[&EXTRA, &rekeyed::BOOKMARKS]);
    assert!(ensure_buckets(&db, &BOTH).is_err());
    let report = check(&db).unwrap();
    assert!(report.is_ok());
    // `extra` was not created: the whole declaration list was refused.
    let tx = db.read_tx().unwrap();
    assert!(matches!(
        get(&tx, &EXTRA, 1),
        Err(Error::NoSuchTable(_)) | Ok(None)
    ));
}

#[test]
fn indexes_record_their_key_encodings() {
    static BY_TAG: Index<String, u64, u64> = Index::of("by_tag");
    static BY_TAG_RENUMBERED: Index<String, u64, i64> = Index::of("by_tag");
    static A: Info = Info::new(&[&BY_TAG]);
    static B: Info = Info::new(&[&BY_TAG_RENUMBERED]);
    let db = Db::in_memory().unwrap();
    ensure_buckets(&db, &A).unwrap();
    ensure_buckets(&db, &A).unwrap();
    let err = ensure_buckets(&db, &B).unwrap_err();
    assert!(
        matches!(&err, Error::SchemaMismatch { table: "by_tag", part: "priority", recorded, declared }
            if recorded == "fuint64" && declared == "fint_ord64"),
        "{err:?}"
    );
}
