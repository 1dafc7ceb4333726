//! A database with commits in its write-ahead log, and the check that any
//! damage to that log gives back whole commits or a clear error. Shared by
//! `tests/wal.rs` (seeded damage) and the `wal_replay` fuzz target, which
//! includes this file by path.

use std::io::Write;
use std::path::{Path, PathBuf};

use vbolt::*;

pub static NOTES: Bucket<u64, String> = Bucket::new("notes", vpack::key::fuint(), vpack::string);
pub static WORDS: Index<String, u64> = Index::new(
    "note_words",
    vpack::KeyFn::order_unchecked(vpack::string),
    vpack::key::fuint(),
);

pub fn note(n: u64) -> String {
    format!("note {n} ").repeat(1 + (n % 13) as usize)
}

/// Commit `n`: note `n`, and its index entries.
pub fn commit_n(db: &Db, n: u64) -> Result<(), Error> {
    db.update(|tx| {
        write(tx, &NOTES, n, &mut note(n));
        let words = [format!("w{}", n % 5), format!("v{}", n % 3)];
        set_target_terms_plain(tx, &WORDS, n, words);
        Ok(())
    })
}

/// The notes in the database, which must be 1..=n with nothing torn.
pub fn committed(db: &Db) -> u64 {
    let tx = db.read_tx().unwrap();
    let mut n = 0;
    iterate_all(&tx, &NOTES, |id, text: String| {
        n += 1;
        assert_eq!(id, n, "notes are not contiguous: a commit is partly there");
        assert_eq!(text, note(id), "note {id} is damaged");
        true
    })
    .unwrap();
    for w in 0..5u64 {
        let expect = (1..=n).filter(|k| k % 5 == w).count();
        assert_eq!(
            read_term_count(&tx, &WORDS, format!("w{w}")).unwrap(),
            expect
        );
    }
    n
}

pub fn wal_path(db: &Path) -> PathBuf {
    let mut name = db.file_name().unwrap().to_os_string();
    name.push("-wal");
    db.with_file_name(name)
}

/// Puts `bytes` back into the file at `path`, in place (same inode).
pub fn put_back(path: &Path, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .unwrap();
    f.write_all(bytes).unwrap();
}

/// A database file as its last checkpoint left it, and a log holding
/// `logged` more commits: what a power cut leaves.
pub struct Sample {
    pub path: PathBuf,
    pub checkpointed: Vec<u8>,
    pub log: Vec<u8>,
    pub base: u64,
    pub logged: u64,
}

impl Sample {
    /// Builds the sample in `dir`: `base` notes checkpointed, then `logged`
    /// more, the log copied while the database is still open.
    pub fn new(dir: &Path, base: u64, logged: u64) -> Sample {
        let path = dir.join("notes.vbolt");
        let with_log = || Options::new().write_ahead_log_size(4 << 20);
        let db = Db::open_with(&path, with_log()).unwrap();
        for n in 1..=base {
            commit_n(&db, n).unwrap();
        }
        drop(db);
        let checkpointed = std::fs::read(&path).unwrap();
        let db = Db::open_with(&path, with_log()).unwrap();
        for n in base + 1..=base + logged {
            commit_n(&db, n).unwrap();
        }
        let mut log = std::fs::read(wal_path(&path)).unwrap();
        drop(db);
        // Past the records the log is zeros (the last record may end in up
        // to 23 zero bytes of its own).
        let used = log.iter().rposition(|&b| b != 0).unwrap_or(0) + 24;
        log.truncate(used.min(log.len()));
        Sample {
            path,
            checkpointed,
            log,
            base,
            logged,
        }
    }

    /// Damages the log as `damage` says (two bytes: where it is cut; then
    /// three per change: where, and the bits flipped; a place below 1,024
    /// is in the header slots), puts the sample back with it, and opens:
    /// the database must hold whole commits, from the checkpoint's to the
    /// last logged, or the open must fail as damage. The notes found, or
    /// `None` for the failure.
    pub fn open_damaged(&self, damage: &[u8]) -> Option<u64> {
        let mut log = self.log.clone();
        let records = log.len() - 4096;
        let mut changes = damage;
        if let [a, b, rest @ ..] = damage {
            let cut = u16::from_le_bytes([*a, *b]) as usize;
            log.truncate(4096 + records * cut / 65535);
            changes = rest;
        }
        for change in changes.chunks_exact(3) {
            let at = u16::from_le_bytes([change[0], change[1]]) as usize;
            let at = if at < 1024 {
                at
            } else {
                4096 + (at - 1024) * records / (65536 - 1024)
            };
            if let Some(byte) = log.get_mut(at) {
                *byte ^= change[2].max(1);
            }
        }
        put_back(&self.path, &self.checkpointed);
        put_back(&wal_path(&self.path), &log);
        match Db::open(&self.path) {
            Ok(db) => {
                let n = committed(&db);
                assert!(
                    (self.base..=self.base + self.logged).contains(&n),
                    "{n} notes"
                );
                assert!(check(&db).unwrap().is_ok());
                Some(n)
            }
            Err(Error::Corrupted(why)) => {
                assert!(why.contains("write-ahead log"), "{why}");
                None
            }
            Err(e) => panic!("a damaged log gave {e:?}"),
        }
    }
}
