//! The write-ahead log (`Options::write_ahead_log`): what a crash can and
//! cannot take, and who may open a file while its log holds commits.
//!
//! The power-loss tests run the writer in a child process that exits
//! without closing (no checkpoint). The parent then puts back the bytes
//! the database file had at the last checkpoint: every write the child
//! made to it is lost, as the page cache is in a power cut, and only the
//! log can bring the commits back. (SIGKILL, which loses nothing the
//! kernel has, is `tests/crash.rs`.)

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use vbolt::*;

mod wal_model;

use wal_model::{NOTES, Sample, commit_n, committed, note, put_back, wal_path};

/// Child side: opens with the log, commits `VBOLT_WAL_COMMITS` notes after
/// those present, acknowledging each, and exits without closing. Does
/// nothing as an ordinary test.
#[test]
fn wal_child() {
    let Ok(path) = std::env::var("VBOLT_WAL_DB") else {
        return;
    };
    let commits: u64 = std::env::var("VBOLT_WAL_COMMITS").unwrap().parse().unwrap();
    let db = Db::open_with(&path, Options::new().write_ahead_log(true)).unwrap();
    let start = committed(&db);
    let mut out = std::io::stdout().lock();
    for n in start + 1..=start + commits {
        commit_n(&db, n).unwrap();
        writeln!(out, "ACK {n}").unwrap();
        out.flush().unwrap();
    }
    // No drop: no checkpoint, no close.
    std::process::exit(0);
}

/// Held while a child runs, and by the test of the log's lock: a child
/// shares this process's open files between its fork and its exec, locks
/// included, so a lock dropped meanwhile would look held for a moment.
static SPAWNING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs the child on `path`; the highest note it acknowledged.
fn run_child(path: &Path, commits: u64) -> u64 {
    let _spawning = SPAWNING.lock().unwrap_or_else(|e| e.into_inner());
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "wal_child", "--nocapture", "--test-threads=1"])
        .env("VBOLT_WAL_DB", path)
        .env("VBOLT_WAL_COMMITS", commits.to_string())
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(out.status.success(), "the child failed");
    BufReader::new(&out.stdout[..])
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| l.strip_prefix("ACK ").map(|n| n.parse::<u64>().unwrap()))
        .max()
        .unwrap()
}

/// A database of `n` notes, closed (so checkpointed), and its bytes.
fn base(dir: &Path, n: u64) -> (PathBuf, Vec<u8>) {
    let path = dir.join("notes.vbolt");
    let db = Db::open_with(&path, Options::new().write_ahead_log(true)).unwrap();
    for k in 1..=n {
        commit_n(&db, k).unwrap();
    }
    drop(db);
    let bytes = std::fs::read(&path).unwrap();
    (path, bytes)
}

#[test]
fn a_power_cut_that_loses_every_unsynced_page_keeps_every_acknowledged_commit() {
    let dir = tempfile::tempdir().unwrap();
    let (path, checkpointed) = base(dir.path(), 10);
    let acked = run_child(&path, 40);
    assert_eq!(acked, 50);
    put_back(&path, &checkpointed);
    // Without the log the file knows only the 10 notes of the checkpoint;
    // an open (here without the log option) replays the other 40.
    let mut db = Db::open(&path).unwrap();
    assert_eq!(committed(&db), 50);
    assert!(db.check_engine().unwrap());
    assert!(check(&db).unwrap().is_ok());
    commit_n(&db, 51).unwrap();
    drop(db);
    // Replayed once: the log's commits are dead now.
    let db = Db::open_with(&path, Options::new().read_only(true)).unwrap();
    assert_eq!(committed(&db), 51);
}

#[test]
fn a_log_cut_short_anywhere_gives_back_whole_commits_only() {
    let dir = tempfile::tempdir().unwrap();
    let (path, checkpointed) = base(dir.path(), 5);
    let acked = run_child(&path, 12);
    assert_eq!(acked, 17);
    let log = std::fs::read(wal_path(&path)).unwrap();
    // Where the logged commits end: past it the preallocated zeros (the
    // last sync record may end in up to 23 zero bytes of its own).
    let used = (log.iter().rposition(|&b| b != 0).unwrap() + 24).min(log.len());
    let mut last = 0;
    let cuts: Vec<usize> = (0..40).map(|i| 4096 + (used - 4096) * i / 39).collect();
    for cut in cuts {
        put_back(&path, &checkpointed);
        put_back(&wal_path(&path), &log[..cut]);
        let db = Db::open(&path).unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        let n = committed(&db);
        assert!(n >= 5 && n >= last, "cut at {cut}: {n} notes after {last}");
        last = n;
        assert!(check(&db).unwrap().is_ok(), "cut at {cut}");
    }
    assert_eq!(last, 17, "the whole log gives back every commit");
}

#[test]
fn a_read_only_open_refuses_a_log_that_holds_commits() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = base(dir.path(), 3);
    run_child(&path, 4);
    let read_only = Options::new().read_only(true);
    assert!(matches!(
        Db::open_with(&path, read_only.clone()),
        Err(Error::NeedsRecovery)
    ));
    drop(Db::open(&path).unwrap());
    assert_eq!(committed(&Db::open_with(&path, read_only).unwrap()), 7);
}

#[test]
fn a_log_beside_a_file_that_replaced_its_own_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (path, checkpointed) = base(dir.path(), 3);
    run_child(&path, 4);
    // A new file (new inode) under the old name, the old log beside it.
    let other = dir.path().join("other.vbolt");
    std::fs::write(&other, &checkpointed).unwrap();
    std::fs::rename(&other, &path).unwrap();
    match Db::open(&path) {
        Err(Error::Corrupted(why)) => assert!(why.contains("another file"), "{why}"),
        other => panic!("opened: {:?}", other.err()),
    }
    // Moving the log away, as the message says, opens the file as it is.
    std::fs::rename(wal_path(&path), dir.path().join("moved-wal")).unwrap();
    assert_eq!(committed(&Db::open(&path).unwrap()), 3);
}

#[test]
fn a_damaged_header_slot_is_survived_and_two_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (path, checkpointed) = base(dir.path(), 2);
    run_child(&path, 3);
    let log = std::fs::read(wal_path(&path)).unwrap();
    // Slot A damaged: slot B has the same epoch.
    let mut one = log.clone();
    one[20] ^= 0xff;
    put_back(&path, &checkpointed);
    put_back(&wal_path(&path), &one);
    assert_eq!(committed(&Db::open(&path).unwrap()), 5);
    // Both damaged: the epoch is unknown, and the open says so.
    let mut two = log;
    two[20] ^= 0xff;
    two[512 + 20] ^= 0xff;
    put_back(&path, &checkpointed);
    put_back(&wal_path(&path), &two);
    match Db::open(&path) {
        Err(Error::Corrupted(why)) => assert!(why.contains("header"), "{why}"),
        other => panic!("opened: {:?}", other.err()),
    }
}

#[test]
fn a_held_log_keeps_every_other_open_out() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("held.vbolt");
    let _spawning = SPAWNING.lock().unwrap_or_else(|e| e.into_inner());
    let db = Db::open_with(&path, Options::new().write_ahead_log(true)).unwrap();
    commit_n(&db, 1).unwrap();
    for options in [Options::new(), Options::new().write_ahead_log(true)] {
        assert!(matches!(Db::open_with(&path, options), Err(Error::InUse)));
    }
    drop(db);
    assert_eq!(committed(&Db::open(&path).unwrap()), 1);
}

#[test]
fn checkpoints_keep_every_commit_through_reopens_with_and_without_the_log() {
    static BLOBS: Bucket<u64, Vec<u8>> = Bucket::new("blobs", vpack::key::fuint(), vpack::bytes);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.vbolt");
    let small = || Options::new().write_ahead_log_size(16 << 10);
    let mut n = 0;
    for round in 0..4 {
        let db = if round % 2 == 0 {
            Db::open_with(&path, small()).unwrap()
        } else {
            Db::open(&path).unwrap()
        };
        for _ in 0..30 {
            n += 1;
            commit_n(&db, n).unwrap();
        }
        // A large commit: one write larger than the whole log.
        db.update(|tx| {
            write(tx, &NOTES, 1, &mut note(1));
            static BLOBS: Bucket<u64, Vec<u8>> =
                Bucket::new("blobs", vpack::key::fuint(), vpack::bytes);
            write(tx, &BLOBS, round + 1, &mut vec![round as u8; 100_000]);
            Ok::<_, Error>(())
        })
        .unwrap();
        assert_eq!(committed(&db), n);
    }
    let mut db = Db::open(&path).unwrap();
    assert_eq!(committed(&db), n);
    assert!(db.check_engine().unwrap());
    drop(db);
    // Compaction moves pages and shrinks the file, all through the log.
    let mut db = Db::open_with(&path, small()).unwrap();
    db.update(|tx| {
        for k in 1..=n / 2 {
            delete(tx, &NOTES, k);
        }
        for round in 1..=4 {
            delete(tx, &BLOBS, round);
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    let sizes = compact(&mut db, |_| {}).unwrap();
    assert!(sizes.after < sizes.before, "{sizes:?}");
    drop(db);
    let db = Db::open(&path).unwrap();
    let tx = db.read_tx().unwrap();
    for k in 1..=n {
        let found = get(&tx, &NOTES, k).unwrap();
        assert_eq!(found, (k > n / 2).then(|| note(k)), "note {k}");
    }
}

#[test]
fn a_damaged_log_gives_back_whole_commits_or_says_it_is_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let sample = Sample::new(dir.path(), 4, 10);
    // xorshift64*, seeded: the same damage every run.
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    assert_eq!(sample.open_damaged(&[0xff, 0xff]), Some(14));
    let mut seen = std::collections::BTreeMap::<Option<u64>, usize>::new();
    for case in 0..200 {
        let len = 2 + 3 * (case % 4);
        let mut damage: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if case % 10 == 0 {
            // Both header slots.
            damage.extend_from_slice(&[20, 0, 0xff, 0x14, 0x02, 0xff]);
        }
        *seen.entry(sample.open_damaged(&damage)).or_default() += 1;
    }
    // Every kind of outcome happened: the checkpoint's notes only, some
    // of the logged ones, and the header refused. (Every case cuts the
    // log somewhere; the whole log is the first call above.)
    eprintln!("outcomes (notes found: cases): {seen:?}");
    assert!(seen.contains_key(&Some(4)), "{seen:?}");
    assert!(seen.keys().any(|k| matches!(k, Some(5..=13))), "{seen:?}");
    assert!(seen.contains_key(&None), "{seen:?}");
}
