//! Operations: run-once processes, backup/restore, check, rebuild,
//! compaction and inspection, including their failure cases.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use vbolt::*;

mod backend;

#[derive(Debug, Default, Clone, PartialEq)]
struct Post {
    author: String,
    tags: Vec<String>,
}

fn pack_post(p: &mut Post, buf: &mut vpack::Buffer) {
    vpack::version(1, buf);
    vpack::string(&mut p.author, buf);
    vpack::vec(&mut p.tags, buf, vpack::string);
}

static POSTS: Bucket<u64, Post> = Bucket::new("posts", vpack::key::fuint(), pack_post);
static BY_TAG: Index<String, u64> =
    Index::new("posts_by_tag", vpack::key::string_z(), vpack::key::fuint());
static COUNTER: Bucket<u8, u64> = Bucket::new("counter", vpack::key::byte(), vpack::fuint);

fn post(i: u64) -> Post {
    let tags = ["rust", "db", "ops", "news", "misc"];
    Post {
        author: format!("author{}", i % 7),
        tags: (0..(i % 3 + 1))
            .map(|k| tags[((i + k) % 5) as usize].to_string())
            .collect(),
    }
}

fn tag_terms(_: &u64, p: &Post, terms: &mut Vec<(String, u16)>) {
    terms.extend(p.tags.iter().map(|t| (t.clone(), 0)));
}

/// A database with `n` posts indexed by tag, plus a sequence.
fn populated(path: &Path, n: u64) -> Db {
    populate(Db::open(path).unwrap(), n, n)
}

/// `n` posts and their tags in `db`, `per_tx` per transaction (an etcd
/// cluster takes a bounded number of operations per transaction).
fn populate(db: Db, n: u64, per_tx: u64) -> Db {
    for first in (1..=n).step_by(per_tx as usize) {
        let mut tx = db.write_tx().unwrap();
        for i in first..=n.min(first + per_tx - 1) {
            let id = next_int_id(&mut tx, &POSTS);
            assert_eq!(id, i);
            let mut p = post(i);
            write(&mut tx, &POSTS, id, &mut p);
            set_target_terms_plain(&mut tx, &BY_TAG, id, &p.tags);
        }
        tx.commit().unwrap();
    }
    db
}

type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// Every table's raw entries, for comparing two databases exactly.
fn dump(db: &Db) -> Vec<(String, Entries)> {
    let tx = db.read_tx().unwrap();
    tables(db)
        .unwrap()
        .into_iter()
        .map(|t| {
            let mut entries = Vec::new();
            raw_entries(&tx, &t.name, None, b"", None, |k, v| {
                entries.push((k.to_vec(), v.to_vec()))
            })
            .unwrap();
            (t.name, entries)
        })
        .collect()
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

// ---- run-once processes ------------------------------------------------

#[test]
fn a_process_runs_once_and_is_recorded_with_its_work() {
    let db = backend::test_db();
    let mut runs = 0;
    for _ in 0..3 {
        apply_db_process(&db, "seed", |tx| {
            runs += 1;
            write(tx, &COUNTER, 1, &mut 10);
            Ok::<_, Error>(())
        })
        .unwrap();
    }
    assert_eq!(runs, 1);
    assert!(process_applied(&db, "seed").unwrap().is_some());
    assert!(process_applied(&db, "other").unwrap().is_none());
}

#[test]
fn a_failed_process_commits_nothing_and_runs_again() {
    static BAD: Bucket<String, u8> = Bucket::new("bad", vpack::key::string_z(), vpack::byte);
    let db = backend::test_db();
    let err = apply_db_process(&db, "fix", |tx| {
        write(tx, &COUNTER, 1, &mut 5);
        write(tx, &BAD, "nul\0key".to_string(), &mut 1); // cannot be packed
        Ok::<_, Error>(())
    });
    assert!(matches!(err, Err(Error::Encode { .. })), "{err:?}");
    assert!(process_applied(&db, "fix").unwrap().is_none());
    let tx = db.read_tx().unwrap();
    assert!(
        !has_key(&tx, &COUNTER, 1).unwrap(),
        "half of a failed process is visible"
    );
    drop(tx);
    assert!(
        apply_db_process(&db, "fix", |tx| {
            write(tx, &COUNTER, 1, &mut 5);
            Ok::<_, Error>(())
        })
        .unwrap()
    );
}

#[test]
fn a_process_that_begins_its_own_write_transaction_fails_at_once() {
    // On 0.2 this hung forever: the work waited for the transaction its
    // own caller held.
    let db = backend::test_db();
    let result = apply_db_process(&db, "nested", |_| {
        let mut inner = db.write_tx()?;
        write(&mut inner, &COUNTER, 1, &mut 1);
        inner.commit()
    });
    assert!(matches!(result, Err(Error::WriteInProgress)), "{result:?}");
    assert!(process_applied(&db, "nested").unwrap().is_none());
    // The turn was given back: the next writer gets in.
    assert!(db.write_tx().is_ok());
}

#[test]
fn a_process_that_commits_itself_is_recorded_in_that_commit() {
    let db = backend::test_db();
    assert!(
        apply_db_process(&db, "self-commit", |tx| {
            write(tx, &COUNTER, 1, &mut 1);
            tx.commit()
        })
        .unwrap()
    );
    assert!(process_applied(&db, "self-commit").unwrap().is_some());
    assert!(
        !apply_db_process(&db, "self-commit", |_| -> Result<(), Error> {
            panic!("ran twice")
        })
        .unwrap()
    );

    // A process whose own commit fails is reported, not recorded.
    static BAD: Bucket<String, u8> = Bucket::new("bad2", vpack::key::string_z(), vpack::byte);
    let result = apply_db_process(&db, "failing self-commit", |tx| {
        write(tx, &BAD, "nul\0".to_string(), &mut 1);
        let _ = tx.commit(); // fails: the key cannot be packed
        Ok::<_, Error>(())
    });
    assert!(result.is_err(), "{result:?}");
    assert!(
        process_applied(&db, "failing self-commit")
            .unwrap()
            .is_none()
    );
}

/// Child side of the crash test: runs the batched process and aborts the
/// whole process after two batches. Does nothing as an ordinary test.
#[test]
fn batched_process_child() {
    let Ok(path) = std::env::var("VBOLT_OPS_CRASH_DB") else {
        return;
    };
    let db = Db::open(&path).unwrap();
    let mut batches = 0;
    let _ = apply_db_process_batched(&db, "retag", |db| {
        tx_write_batches(db, &POSTS, 10, |tx, id, mut p| {
            p.author = format!("v2-{id}"); // idempotent: set, not appended
            write(tx, &POSTS, id, &mut p);
            if id % 10 == 0 {
                batches += 1;
                if batches == 3 {
                    // Crash inside the third batch's transaction.
                    std::process::abort();
                }
            }
        })?;
        Ok(())
    });
    unreachable!("the child should have crashed");
}

#[test]
fn a_batched_process_that_crashes_midway_runs_again_and_completes() {
    let dir = tmp();
    let path = dir.path().join("crash.vbolt");
    drop(populated(&path, 50));
    let status = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "batched_process_child", "--test-threads=1"])
        .env("VBOLT_OPS_CRASH_DB", &path)
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success(), "the child was meant to crash");

    let db = Db::open(&path).unwrap();
    assert!(process_applied(&db, "retag").unwrap().is_none());
    let done = |db: &Db| {
        let tx = db.read_tx().unwrap();
        let mut n = 0;
        iterate_all(&tx, &POSTS, |id, p| {
            n += usize::from(p.author == format!("v2-{id}"));
            true
        })
        .unwrap();
        n
    };
    // Two batches of ten were committed before the crash; the third was not.
    assert_eq!(done(&db), 20);
    let ran = apply_db_process_batched(&db, "retag", |db| {
        tx_write_batches(db, &POSTS, 10, |tx, id, mut p| {
            p.author = format!("v2-{id}");
            write(tx, &POSTS, id, &mut p);
        })?;
        Ok(())
    })
    .unwrap();
    assert!(ran);
    assert_eq!(done(&db), 50);
    assert!(process_applied(&db, "retag").unwrap().is_some());
}

// ---- backup and restore ------------------------------------------------

#[test]
fn backup_and_restore_copy_every_table_exactly() {
    let dir = tmp();
    let db = populated(&dir.path().join("a.vbolt"), 300);
    apply_db_process(&db, "p1", |_| Ok::<_, Error>(())).unwrap();
    let mut stream = Vec::new();
    let mut reports = Vec::new();
    let wrote = backup(&db, &mut stream, &BackupOptions::all(), |p| reports.push(p)).unwrap();
    assert_eq!(wrote.bytes, stream.len() as u64);
    assert_eq!(reports.last().unwrap().done, wrote.entries);
    assert_eq!(reports.last().unwrap().total, wrote.entries);

    let copy = dir.path().join("b.vbolt");
    let read = restore(&stream[..], &copy, |_| {}).unwrap();
    assert_eq!(read, wrote);
    let restored = Db::open(&copy).unwrap();
    assert_eq!(dump(&restored), dump(&db));
    assert!(check(&restored).unwrap().is_ok());
    // The sequence came along: the next id continues.
    let mut tx = restored.write_tx().unwrap();
    assert_eq!(next_int_id(&mut tx, &POSTS), 301);
    assert!(process_applied(&restored, "p1").unwrap().is_some());
}

#[test]
fn a_partial_backup_holds_only_the_chosen_declarations() {
    let dir = tmp();
    let db = populated(&dir.path().join("a.vbolt"), 20);
    db.update(|tx| {
        write(tx, &COUNTER, 1, &mut 1);
        Ok::<_, Error>(())
    })
    .unwrap();
    let mut stream = Vec::new();
    backup(&db, &mut stream, &BackupOptions::only(&[&BY_TAG]), |_| {}).unwrap();
    let copy = dir.path().join("b.vbolt");
    restore(&stream[..], &copy, |_| {}).unwrap();
    let names: Vec<String> = tables(&Db::open(&copy).unwrap())
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(
        names,
        [
            "index-counts:posts_by_tag",
            "index-targets:posts_by_tag",
            "index:posts_by_tag",
            "vbolt:sequences"
        ]
    );
    let err = backup(
        &db,
        &mut Vec::new(),
        &BackupOptions::only_tables(["bucket:nope"]),
        |_| {},
    );
    assert!(err.is_err());
}

#[test]
fn a_backup_is_one_snapshot_while_writers_go_on() {
    // Money moves between accounts during the backup; a torn copy would not
    // keep the total.
    static ACCOUNTS: Bucket<u32, i64> = Bucket::new("accounts", vpack::key::fuint(), vpack::int);
    let dir = tmp();
    let db = Db::open(dir.path().join("bank.vbolt")).unwrap();
    db.update(|tx| {
        for a in 1..=2000u32 {
            write(tx, &ACCOUNTS, a, &mut 100);
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let streams: Vec<Vec<u8>> = std::thread::scope(|s| {
        s.spawn(|| {
            let mut i = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let mut tx = db.write_tx().unwrap();
                // Account ids 1..=2000 (a zero key is "absent" in vbolt).
                let (from, to) = (i % 2000 + 1, (i * 7 + 3) % 2000 + 1);
                let (mut a, mut b) = (0, 0);
                read(&tx, &ACCOUNTS, from, &mut a);
                read(&tx, &ACCOUNTS, to, &mut b);
                if from != to {
                    write(&mut tx, &ACCOUNTS, from, &mut (a - 5));
                    write(&mut tx, &ACCOUNTS, to, &mut (b + 5));
                }
                tx.commit().unwrap();
                i += 1;
            }
        });
        let streams = (0..5)
            .map(|_| {
                let mut out = Vec::new();
                backup(&db, &mut out, &BackupOptions::all(), |_| {}).unwrap();
                out
            })
            .collect();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        streams
    });
    for (n, stream) in streams.iter().enumerate() {
        let path = dir.path().join(format!("copy{n}.vbolt"));
        restore(&stream[..], &path, |_| {}).unwrap();
        let copy = Db::open(&path).unwrap();
        let tx = copy.read_tx().unwrap();
        let mut total = 0;
        iterate_all(&tx, &ACCOUNTS, |_, v| {
            total += v;
            true
        })
        .unwrap();
        assert_eq!(total, 200_000, "backup {n} is not one snapshot");
    }
}

/// A writer that fails once `room` bytes are used up, like a full disk.
struct FullDisk {
    room: usize,
}

impl Write for FullDisk {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.room == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::StorageFull,
                "no space left on device",
            ));
        }
        let n = buf.len().min(self.room);
        self.room -= n;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_backup_to_a_full_disk_fails_with_the_reason() {
    let dir = tmp();
    let db = populated(&dir.path().join("a.vbolt"), 2000);
    for room in [0, 10, 30, 5000, 100_000] {
        match backup(&db, FullDisk { room }, &BackupOptions::all(), |_| {}) {
            Err(Error::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::StorageFull),
            other => panic!("room {room}: {other:?}"),
        }
    }
    // The database is untouched and still writable.
    db.update(|tx| {
        write(tx, &COUNTER, 1, &mut 1);
        Ok::<_, Error>(())
    })
    .unwrap();
}

fn restore_fails(stream: &[u8], dir: &Path, what: &str) {
    let path = dir.join("never.vbolt");
    match restore(stream, &path, |_| {}) {
        Err(Error::Backup(_)) => {}
        other => panic!("{what}: {other:?}"),
    }
    assert!(!path.exists(), "{what}: a failed restore left a database");
    let left: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("never.vbolt"))
        .collect();
    assert!(
        left.is_empty(),
        "{what}: scratch files left behind: {left:?}"
    );
}

#[test]
fn a_damaged_backup_is_refused_and_leaves_no_file() {
    let dir = tmp();
    let db = populated(&dir.path().join("a.vbolt"), 200);
    let mut stream = Vec::new();
    backup(&db, &mut stream, &BackupOptions::all(), |_| {}).unwrap();
    // Every truncation.
    let step = (stream.len() / 400).max(1);
    for len in (0..stream.len()).step_by(step) {
        restore_fails(&stream[..len], dir.path(), &format!("truncated to {len}"));
    }
    restore_fails(&stream[..stream.len() - 1], dir.path(), "one byte short");
    // A flipped bit anywhere.
    for at in (0..stream.len()).step_by(step) {
        let mut bad = stream.clone();
        bad[at] ^= 0x10;
        restore_fails(&bad, dir.path(), &format!("bit flipped at {at}"));
    }
    // Trailing bytes, another format, nothing at all.
    let mut longer = stream.clone();
    longer.push(0);
    restore_fails(&longer, dir.path(), "trailing byte");
    restore_fails(b"SQLite format 3\0 and more", dir.path(), "other format");
    restore_fails(b"", dir.path(), "empty");
}

#[test]
fn an_unknown_record_with_a_valid_checksum_is_refused() {
    let dir = tmp();
    let db = Db::in_memory().unwrap();
    let mut stream = Vec::new();
    backup(&db, &mut stream, &BackupOptions::all(), |_| {}).unwrap();
    // Replace the only chunk by one holding an unknown record type.
    stream.truncate(24);
    let payload = [0x7Fu8, 1, 2, 3];
    stream.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    stream.extend_from_slice(&payload);
    stream.extend_from_slice(&crc32(&payload).to_be_bytes());
    restore_fails(&stream, dir.path(), "unknown record");
}

#[test]
fn a_crafted_table_name_is_refused_before_it_reaches_the_engine() {
    // 0.2: a 51-byte backup naming a table "" made the engine panic
    // inside restore. Each name here is checksummed correctly.
    let dir = tmp();
    let db = Db::in_memory().unwrap();
    let mut stream = Vec::new();
    backup(&db, &mut stream, &BackupOptions::all(), |_| {}).unwrap();
    stream.truncate(24);
    for (name, what) in [
        (&b""[..], "empty"),
        (b"bucket:", "no declared name"),
        (b"elsewhere", "not a vbolt table"),
    ] {
        let mut payload = vec![0x01, name.len() as u8];
        payload.extend_from_slice(name);
        payload.extend([0x02, 1, b'k', 1, b'v']);
        let mut crafted = stream.clone();
        crafted.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        crafted.extend_from_slice(&payload);
        crafted.extend_from_slice(&crc32(&payload).to_be_bytes());
        restore_fails(&crafted, dir.path(), what);
    }
    // The same table twice would merge two sets of entries into one.
    let mut payload = Vec::new();
    for _ in 0..2 {
        payload.extend([0x01, 8]);
        payload.extend_from_slice(b"bucket:a");
    }
    let mut crafted = stream.clone();
    crafted.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    crafted.extend_from_slice(&payload);
    crafted.extend_from_slice(&crc32(&payload).to_be_bytes());
    restore_fails(&crafted, dir.path(), "a repeated table");
}

/// CRC-32 (IEEE), bit by bit: an independent check of the format.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn restore_never_overwrites_and_works_beside_a_stale_temporary_file() {
    let dir = tmp();
    let db = populated(&dir.path().join("a.vbolt"), 10);
    let mut stream = Vec::new();
    backup(&db, &mut stream, &BackupOptions::all(), |_| {}).unwrap();
    let err = restore(&stream[..], &dir.path().join("a.vbolt"), |_| {});
    assert!(matches!(err, Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::AlreadyExists));
    // A file where 0.2 put its temporary file: left alone, and in the way
    // of nothing (each restore makes a fresh scratch name).
    let target = dir.path().join("b.vbolt");
    std::fs::write(dir.path().join("b.vbolt.restoring"), b"half a restore").unwrap();
    restore(&stream[..], &target, |_| {}).unwrap();
    assert_eq!(
        std::fs::read(dir.path().join("b.vbolt.restoring")).unwrap(),
        b"half a restore"
    );
    assert_eq!(dump(&Db::open(&target).unwrap()), dump(&db));
}

/// Child side of the restore crash test: restores from stdin and is killed
/// by the parent midway. Does nothing as an ordinary test.
#[test]
fn restore_child() {
    let Ok(path) = std::env::var("VBOLT_RESTORE_TO") else {
        return;
    };
    let _ = restore(std::io::stdin().lock(), Path::new(&path), |p| {
        if p.done > 0 {
            println!("PROGRESS {}", p.done);
        }
    });
}

#[test]
fn a_restore_killed_midway_leaves_no_database() {
    use std::io::{BufRead, BufReader};
    let dir = tmp();
    let db = populated(&dir.path().join("a.vbolt"), 20_000);
    let mut stream = Vec::new();
    backup(&db, &mut stream, &BackupOptions::all(), |_| {}).unwrap();
    let target: PathBuf = dir.path().join("b.vbolt");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "restore_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("VBOLT_RESTORE_TO", &target)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Send most of the stream, wait until the child has loaded entries, then
    // kill it while it waits for the rest.
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&stream[..stream.len() * 3 / 4]).unwrap();
    stdin.flush().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = lines
        .by_ref()
        .take(10_000)
        .any(|l| l.is_ok_and(|l| l.starts_with("PROGRESS")));
    assert!(started, "the child never reported progress");
    child.kill().unwrap();
    child.wait().unwrap();
    drop(stdin);
    assert!(
        !target.exists(),
        "a killed restore left a database in place"
    );
    restore(&stream[..], &target, |_| {}).unwrap();
    assert_eq!(dump(&Db::open(&target).unwrap()), dump(&db));
}

// ---- check and rebuild -------------------------------------------------

#[test]
fn check_passes_on_a_consistent_database_and_reports_progress() {
    let db = populate(backend::test_db(), 500, 100);
    let mut last = None;
    let report = check_with_progress(&db, |p| last = Some(p)).unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
    assert_eq!(report.indexes, 1);
    let all: u64 = tables(&db).unwrap().iter().map(|t| t.entries).sum();
    assert_eq!(report.entries, all);
    assert_eq!(
        last,
        Some(Progress {
            done: all,
            total: all
        })
    );
}

type Raw = redb::TableDefinition<'static, vbolt::EngineKey, &'static [u8]>;

/// Damages an index behind vbolt's back, with the engine directly.
fn damage(path: &Path, f: impl FnOnce(&redb::WriteTransaction)) {
    let db = redb::Database::open(path).unwrap();
    let tx = db.begin_write().unwrap();
    f(&tx);
    tx.commit().unwrap();
}

fn first_key(tx: &redb::WriteTransaction, table: &'static str) -> Vec<u8> {
    use redb::ReadableTable;
    let t = tx.open_table(Raw::new(table)).unwrap();
    let (k, _) = t.first().unwrap().unwrap();
    k.value().to_vec()
}

#[test]
fn check_finds_each_kind_of_index_damage_and_rebuild_repairs_it() {
    let dir = tmp();
    let path = dir.path().join("a.vbolt");
    drop(populated(&path, 100));
    damage(&path, |tx| {
        // A target entry removed, a count changed, an orphan target entry,
        // and a term entry whose lengths do not fit its key.
        let k = first_key(tx, "index-targets:posts_by_tag");
        let mut targets = tx
            .open_table(Raw::new("index-targets:posts_by_tag"))
            .unwrap();
        targets.remove(&k[..]).unwrap();
        targets.insert(&[0xEE, 0xEE][..], &[0u8, 0][..]).unwrap();
        let c = first_key(tx, "index-counts:posts_by_tag");
        let mut counts = tx
            .open_table(Raw::new("index-counts:posts_by_tag"))
            .unwrap();
        counts.insert(&c[..], &999u64.to_be_bytes()[..]).unwrap();
        let mut terms = tx.open_table(Raw::new("index:posts_by_tag")).unwrap();
        terms.insert(&[0xFF][..], &[9u8, 9][..]).unwrap();
        counts.insert(&[0xAB][..], &1u64.to_be_bytes()[..]).unwrap();
    });
    let db = Db::open(&path).unwrap();
    let report = check(&db).unwrap();
    let text: Vec<String> = report.problems.iter().map(|p| p.what.clone()).collect();
    let has = |s: &str| text.iter().any(|t| t.contains(s));
    assert!(has("has no target entry"), "{text:#?}");
    assert!(has("count 999"), "{text:#?}");
    assert!(has("do not fit the key"), "{text:#?}");
    assert!(has("target entries for"), "{text:#?}");
    assert!(has("counts for"), "{text:#?}");
    assert!(!report.is_ok());

    let mut calls = 0;
    let n = rebuild_index(&db, &BY_TAG, &POSTS, 7, tag_terms, |_| calls += 1).unwrap();
    assert_eq!(n, 100);
    assert!(calls >= 2);
    let report = check(&db).unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
    let tx = db.read_tx().unwrap();
    let expected = (1..=100u64)
        .filter(|i| post(*i).tags.contains(&"rust".into()))
        .count();
    assert_eq!(
        read_term_count(&tx, &BY_TAG, "rust".to_string()).unwrap(),
        expected
    );
}

#[test]
fn rebuilding_an_index_gives_back_the_same_entries() {
    let db = populate(backend::test_db(), 300, 100);
    let before = dump(&db);
    let n = rebuild_index(&db, &BY_TAG, &POSTS, 40, tag_terms, |_| {}).unwrap();
    assert_eq!(n, 300);
    let after = dump(&db);
    let index = |d: &[(String, Entries)]| -> Vec<(String, Entries)> {
        d.iter()
            .filter(|(name, _)| name.contains("index"))
            .cloned()
            .collect()
    };
    assert_eq!(index(&after), index(&before));
    assert!(check(&db).unwrap().is_ok());
}

#[test]
fn check_engine_reports_a_clean_file() {
    let dir = tmp();
    let mut db = populated(&dir.path().join("a.vbolt"), 50);
    assert!(db.check_engine().unwrap());
    let ro = Db::open_with(dir.path().join("ro.vbolt"), Options::new().read_only(false)).unwrap();
    drop(ro);
    let mut ro =
        Db::open_with(dir.path().join("ro.vbolt"), Options::new().read_only(true)).unwrap();
    assert!(matches!(ro.check_engine(), Err(Error::ReadOnly)));
}

// ---- compaction and inspection -----------------------------------------

#[test]
fn compaction_shrinks_the_file_and_keeps_the_data() {
    let dir = tmp();
    let path = dir.path().join("a.vbolt");
    let mut db = populated(&path, 30_000);
    db.update(|tx| {
        for id in 1..=29_000u64 {
            delete(tx, &POSTS, id);
            delete_target_terms(tx, &BY_TAG, id);
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    let before = dump(&db);
    let free = db.space().unwrap().fragmented_bytes;
    assert!(free > 0);

    let copy = dir.path().join("copy.vbolt");
    let mut seen = 0;
    let sizes = compact_into(&db, &copy, |p| seen = p.done).unwrap();
    assert!(sizes.after < sizes.before, "{sizes:?}");
    assert!(seen > 0);
    assert_eq!(dump(&Db::open(&copy).unwrap()), before);
    assert!(
        compact_into(&db, &copy, |_| {}).is_err(),
        "overwrote a file"
    );

    let copied = sizes.after;
    let sizes = compact(&mut db, |_| {}).unwrap();
    assert!(sizes.after < sizes.before, "{sizes:?}");
    assert_eq!(dump(&db), before);
    assert!(check(&db).unwrap().is_ok());
    // The copy is no larger than the file compacted in place (closed:
    // closing writes the engine's allocator state).
    drop(db);
    let in_place = std::fs::metadata(&path).unwrap().len();
    assert!(
        copied <= in_place,
        "compact_into wrote {copied} bytes, in place gave {in_place}"
    );
}

#[test]
fn compacting_a_small_database_into_a_new_file_does_not_grow_it() {
    // A few hundred records, as a new user's first database: the copy
    // used to be the engine's first regions, 1,056,768 bytes for a
    // 122,880-byte file.
    let dir = tmp();
    let path = dir.path().join("small.vbolt");
    let mut db = populated(&path, 300);
    let copy = dir.path().join("small-copy.vbolt");
    let copied = compact_into(&db, &copy, |_| {}).unwrap();
    let contents = dump(&db);
    compact(&mut db, |_| {}).unwrap();
    // Both measured closed: closing writes the engine's allocator state.
    drop(db);
    let in_place = std::fs::metadata(&path).unwrap().len();
    assert!(
        copied.after <= in_place,
        "compact_into: {copied:?}; in place, closed: {in_place}"
    );
    assert_eq!(dump(&Db::open(&copy).unwrap()), contents);
}

#[test]
fn inspection_lists_tables_pages_raw_entries_and_shows_typed_values() {
    let db = populated(&tmp().path().join("a.vbolt"), 25);
    let t = tables(&db).unwrap();
    let roles: Vec<(Role, &str, u64)> = t
        .iter()
        .map(|t| (t.role, t.declared.as_str(), t.entries))
        .collect();
    assert_eq!(roles[0], (Role::Bucket, "posts", 25));
    assert!(roles.contains(&(Role::IndexCounts, "posts_by_tag", 5)));
    assert!(roles.contains(&(Role::Meta, "sequences", 1)));
    assert_eq!(Role::of("mine"), (Role::Other, "mine"));

    let tx = db.read_tx().unwrap();
    let mut keys = Vec::new();
    let mut from = None;
    loop {
        let next = raw_entries(
            &tx,
            "bucket:posts",
            from.as_deref(),
            b"",
            Some(10),
            |k, _| keys.push(k.to_vec()),
        )
        .unwrap();
        match next {
            Some(n) => from = Some(n),
            None => break,
        }
    }
    assert_eq!(keys.len(), 25);
    assert!(keys.windows(2).all(|w| w[0] < w[1]));
    let mut rust = 0;
    raw_entries(&tx, "index:posts_by_tag", None, b"rust\0", None, |_, _| {
        rust += 1
    })
    .unwrap();
    assert_eq!(
        rust,
        read_term_count(&tx, &BY_TAG, "rust".to_string()).unwrap()
    );
    assert!(matches!(
        raw_entries(&tx, "bucket:none", None, b"", Some(1), |_, _| {}),
        Err(Error::NoSuchTable(_))
    ));

    let mut lines = Vec::new();
    assert_eq!(
        debug_entries(&tx, &POSTS, Some(2), |k, v| lines.push(format!("{k} {v}"))).unwrap(),
        2
    );
    assert!(
        lines[0].starts_with("1 Post { author: \"author1\""),
        "{lines:?}"
    );
}

#[test]
fn tables_report_the_shape_of_each_tree() {
    static BLOBS: Bucket<u64, String> = Bucket::new("blobs", vpack::key::fuint(), vpack::string);
    let db = Db::in_memory().unwrap();
    let mut tx = db.write_tx().unwrap();
    // 2,000 values of 500 bytes cannot fit one 4 KiB page: the tree grows
    // branch pages above its leaves.
    for i in 1..=2000u64 {
        write(&mut tx, &BLOBS, i, &mut "x".repeat(500));
    }
    write(&mut tx, &COUNTER, 1, &mut 7);
    tx.commit().unwrap();
    let all = tables(&db).unwrap();
    let blobs = all.iter().find(|t| t.declared == "blobs").unwrap();
    assert!(blobs.shape.depth >= 2, "{blobs:?}");
    assert!(blobs.shape.branch_pages >= 1, "{blobs:?}");
    assert!(blobs.shape.leaf_pages >= 2000 * 500 / 4096, "{blobs:?}");
    let counter = all.iter().find(|t| t.declared == "counter").unwrap();
    assert_eq!(
        (
            counter.shape.depth,
            counter.shape.leaf_pages,
            counter.shape.branch_pages
        ),
        (1, 1, 0)
    );
}

#[test]
fn check_lists_tables_that_no_declaration_names() {
    static KEPT: Bucket<u64, u64> = Bucket::new("kept", vpack::key::fuint(), vpack::uint);
    static DROPPED: Bucket<u64, u64> = Bucket::new("dropped", vpack::key::fuint(), vpack::uint);
    static OLD_INFO: Info = Info::new(&[&KEPT, &DROPPED]);
    static NEW_INFO: Info = Info::new(&[&KEPT]);
    let db = Db::in_memory().unwrap();
    assert!(!check(&db).unwrap().declarations_recorded);
    ensure_buckets(&db, &OLD_INFO).unwrap();
    db.update(|tx| {
        write(tx, &DROPPED, 1, &mut 1);
        Ok::<_, Error>(())
    })
    .unwrap();
    let report = check(&db).unwrap();
    assert!(report.declarations_recorded && report.undeclared.is_empty());
    // A later list adds to the recorded ones: `dropped` stays declared.
    ensure_buckets(&db, &NEW_INFO).unwrap();
    let report = check(&db).unwrap();
    assert!(report.undeclared.is_empty(), "{:?}", report.undeclared);
    // A table that no list declared is reported.
    static STRAY: Bucket<u64, u64> = Bucket::new("stray", vpack::key::fuint(), vpack::uint);
    db.update(|tx| {
        write(tx, &STRAY, 1, &mut 1);
        Ok::<_, Error>(())
    })
    .unwrap();
    let report = check(&db).unwrap();
    assert_eq!(report.undeclared, ["bucket:stray"]);
    assert!(report.is_ok());
}

#[test]
fn declaration_lists_recorded_one_after_another_add_up() {
    // As chat-web's open does: two lists, one after the other, each
    // declaring part of the tables; then the first again.
    static A: Bucket<u64, u64> = Bucket::new("a", vpack::key::fuint(), vpack::uint);
    static B: Bucket<u64, u64> = Bucket::new("b", vpack::key::fuint(), vpack::uint);
    static B_BY: Index<u64, u64> = Index::new("b_by", vpack::key::fuint(), vpack::key::fuint());
    static FIRST: Info = Info::new(&[&A]);
    static SECOND: Info = Info::new(&[&B, &B_BY]);
    let db = Db::in_memory().unwrap();
    for info in [&FIRST, &SECOND, &FIRST] {
        ensure_buckets(&db, info).unwrap();
    }
    db.update(|tx| {
        write(tx, &A, 1, &mut 1);
        write(tx, &B, 1, &mut 1);
        set_target_single_term(tx, &B_BY, 1, 7);
        Ok::<_, Error>(())
    })
    .unwrap();
    let report = check(&db).unwrap();
    assert!(report.declarations_recorded);
    assert!(report.undeclared.is_empty(), "{:?}", report.undeclared);
}

#[cfg(unix)]
#[test]
fn restore_and_backup_files_never_clobber_and_keep_permissions_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("src.vbolt");
    let db = Db::open(&source).unwrap();
    db.update(|tx| {
        write(tx, &COUNTER, 1, &mut 42);
        Ok::<_, Error>(())
    })
    .unwrap();
    std::fs::set_permissions(&source, std::fs::Permissions::from_mode(0o640)).unwrap();

    // A backup file takes the database's permissions and never replaces.
    let out = dir.path().join("src.backup");
    backup_to_path(&db, &out, &BackupOptions::all(), |_| {}).unwrap();
    assert_eq!(mode(&out), 0o640);
    let before = std::fs::read(&out).unwrap();
    let again = backup_to_path(&db, &out, &BackupOptions::all(), |_| {});
    assert!(
        matches!(again, Err(Error::Io(ref e)) if e.kind() == std::io::ErrorKind::AlreadyExists)
    );
    assert_eq!(std::fs::read(&out).unwrap(), before);

    // 0.2 deleted whatever was at `<target>.restoring`; it is not restore's.
    let target = dir.path().join("restored.vbolt");
    let squatter = dir.path().join("restored.vbolt.restoring");
    std::fs::write(&squatter, b"someone else's").unwrap();
    restore(std::fs::File::open(&out).unwrap(), &target, |_| {}).unwrap();
    assert_eq!(std::fs::read(&squatter).unwrap(), b"someone else's");
    assert_eq!(mode(&target), 0o600, "a restored database is owner-only");
    let copy = Db::open(&target).unwrap();
    assert_eq!(copy.view(|tx| get(tx, &COUNTER, 1)).unwrap(), Some(42));
    drop(copy);
    // A compacted copy is the same database: it keeps the source's mode.
    let compacted = dir.path().join("compacted.vbolt");
    compact_into(&db, &compacted, |_| {}).unwrap();
    assert_eq!(mode(&compacted), 0o640, "a compacted copy keeps the mode");
    std::fs::remove_file(&compacted).unwrap();
    // Nothing else was left beside them.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "restored.vbolt",
            "restored.vbolt.restoring",
            "src.backup",
            "src.vbolt"
        ]
    );
}
