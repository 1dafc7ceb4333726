//! Files written by earlier releases open, read back exactly, check clean
//! and take new writes.
//!
//! `data/notes-0.3-redb-4.5.vbolt` was written by vbolt 0.3 on redb 4.5
//! (the engine before 5.0): 300 notes written twice over, with an index of
//! one word per note, then every tenth note deleted with its index entries,
//! then compacted. Its contents follow from the formulas below; the test
//! works on a copy, never on the committed file.

use std::path::PathBuf;

use vbolt::*;

static NOTES: Bucket<u64, String> = Bucket::new("notes", vpack::key::fuint(), vpack::string);
static WORDS: Index<String, u64> =
    Index::new("note_words", vpack::key::string_z(), vpack::key::fuint());
static INFO: Info = Info::new(&[&NOTES, &WORDS]);

fn kept(id: u64) -> bool {
    !id.is_multiple_of(10)
}

fn word(id: u64) -> String {
    format!("w{}", (id + 1) % 13)
}

/// A copy of the fixture in a fresh directory.
fn copy_of(fixture: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(fixture);
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(fixture);
    std::fs::copy(&src, &path).unwrap();
    (dir, path)
}

/// Everything the fixture holds reads back as written.
fn assert_contents(db: &Db, changed: Option<u64>) {
    db.view(|tx| {
        for id in 1..=300u64 {
            let got = get(tx, &NOTES, id)?;
            let want = match (kept(id), changed) {
                (false, _) => None,
                (true, Some(c)) if c == id => Some("rewritten on 5.0".to_string()),
                (true, _) => Some(format!("note {id} round 1")),
            };
            assert_eq!(got, want, "note {id}");
        }
        for k in 0..13u64 {
            let term = format!("w{k}");
            let want: Vec<u64> = (1..=300u64)
                .filter(|&id| kept(id) && word(id) == term)
                .collect();
            let mut got = Vec::new();
            read_term_targets(tx, &WORDS, term.clone(), &mut got, &Window::default())?;
            got.sort();
            assert_eq!(got, want, "term {term}");
            assert_eq!(
                read_term_count(tx, &WORDS, term.clone())?,
                want.len(),
                "count of {term}"
            );
        }
        Ok::<_, Error>(())
    })
    .unwrap();
}

#[test]
fn a_file_written_on_redb_4_5_opens_checks_clean_and_takes_writes() {
    let (_dir, path) = copy_of("notes-0.3-redb-4.5.vbolt");
    let db = Db::open(&path).unwrap();
    ensure_buckets(&db, &INFO).unwrap();
    assert_contents(&db, None);
    let report = check(&db).unwrap();
    assert!(report.is_ok() && report.undeclared.is_empty(), "{report:?}");
    assert_eq!(report.indexes, 1);

    db.update(|tx| {
        write(tx, &NOTES, 7, &mut "rewritten on 5.0".to_string());
        Ok::<_, Error>(())
    })
    .unwrap();
    drop(db);

    // Reopened, verified, with the log: the same file, written by 5.0.
    let db = Db::open_with(&path, Options::new().verify_on_open(true)).unwrap();
    assert_contents(&db, Some(7));
    drop(db);
    let db = Db::open_with(&path, Options::new().write_ahead_log(true)).unwrap();
    assert_contents(&db, Some(7));
    assert!(check(&db).unwrap().is_ok());
}
