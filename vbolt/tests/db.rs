//! Opening files (good, held, foreign, damaged, forbidden), durability
//! across reopen, read-only mode, and concurrent readers with one writer.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use vbolt::*;

static ACCOUNTS: Bucket<u32, i64> = Bucket::new("accounts", vpack::key::fuint(), vpack::int);

#[test]
fn data_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.vbolt");
    {
        let db = Db::open(&path).unwrap();
        let mut tx = db.write_tx().unwrap();
        write(&mut tx, &ACCOUNTS, 1, &mut 100);
        tx.commit().unwrap();
        let mut tx = db.write_tx().unwrap();
        write(&mut tx, &ACCOUNTS, 2, &mut 200);
        // dropped: rolled back
        drop(tx);
    }
    let db = Db::open(&path).unwrap();
    let tx = db.read_tx().unwrap();
    let mut v = 0;
    assert!(read(&tx, &ACCOUNTS, 1, &mut v));
    assert_eq!(v, 100);
    assert!(!has_key(&tx, &ACCOUNTS, 2).unwrap());
}

#[test]
fn a_file_already_open_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("held.vbolt");
    let _db = Db::open(&path).unwrap();
    let err = Db::open(&path).err().expect("second open must fail");
    assert!(matches!(err, Error::InUse), "{err:?}");
    assert!(err.to_string().contains("already open"));
}

#[test]
fn foreign_damaged_and_truncated_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    // A text file.
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello, this is not a database\n".repeat(200)).unwrap();
    assert!(Db::open(&text).is_err());
    // Random bytes.
    let junk = dir.path().join("junk.bin");
    let bytes: Vec<u8> = (0..65536u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(&junk, &bytes).unwrap();
    assert!(Db::open(&junk).is_err());
    // A real database cut short.
    let good = dir.path().join("good.vbolt");
    {
        let db = Db::open(&good).unwrap();
        let mut tx = db.write_tx().unwrap();
        for i in 1..500 {
            write(&mut tx, &ACCOUNTS, i, &mut (i as i64));
        }
        tx.commit().unwrap();
    }
    let full = std::fs::read(&good).unwrap();
    for cut in [10, 100, 511, 4096, full.len() / 2] {
        let t = dir.path().join(format!("cut{cut}.vbolt"));
        std::fs::write(&t, &full[..cut.min(full.len() - 1)]).unwrap();
        // Opening may fail, or succeed and find less; it must not panic or
        // present wrong values.
        if let Ok(db) = Db::open(&t)
            && let Ok(tx) = db.read_tx()
        {
            iterate_all(&tx, &ACCOUNTS, |k, v| {
                assert_eq!(k as i64, v, "a damaged file produced a wrong value");
                true
            })
            .unwrap();
        }
    }
}

#[test]
fn a_path_without_permission_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing_dir = dir.path().join("no/such/dir/db.vbolt");
    assert!(matches!(Db::open(&missing_dir), Err(Error::Io(_))));
    // A directory is not a database file.
    assert!(Db::open(dir.path()).is_err());
}

#[test]
fn read_only_mode_reads_and_refuses_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ro.vbolt");
    {
        let db = Db::open(&path).unwrap();
        let mut tx = db.write_tx().unwrap();
        write(&mut tx, &ACCOUNTS, 1, &mut 5);
        tx.commit().unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let db = Db::open_with(&path, Options::new().read_only(true)).unwrap();
    assert!(matches!(db.write_tx(), Err(Error::ReadOnly)));
    assert!(db.view(|tx| has_key(tx, &ACCOUNTS, 1)).unwrap());
    drop(db);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "read-only open changed the file"
    );
    // A read-only open of a missing file does not create it.
    assert!(
        Db::open_with(
            dir.path().join("absent.vbolt"),
            Options::new().read_only(true)
        )
        .is_err()
    );
    assert!(!dir.path().join("absent.vbolt").exists());
}

#[test]
fn non_durable_commits_are_visible() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open_with(
        dir.path().join("fast.vbolt"),
        Options::new().durability(Durability::None),
    )
    .unwrap();
    let mut tx = db.write_tx().unwrap();
    write(&mut tx, &ACCOUNTS, 1, &mut 1);
    tx.commit().unwrap();
    assert!(db.view(|tx| has_key(tx, &ACCOUNTS, 1)).unwrap());
}

/// One writer moves money between accounts; readers check the total never
/// changes in any snapshot, and a long-lived snapshot never changes at all.
#[test]
fn each_read_transaction_sees_its_own_snapshot_on_one_thread() {
    // Read transactions on one thread reuse each other's table caches:
    // none may see a table as an earlier snapshot had it, nor miss a
    // table an earlier snapshot did not have.
    static LATER: Bucket<u32, i64> = Bucket::new("later", vpack::key::fuint(), vpack::int);
    let db = Db::in_memory().unwrap();
    for n in 1..=50i64 {
        let before = db.read_tx().unwrap();
        assert_eq!(
            get(&before, &ACCOUNTS, 1).unwrap(),
            (n > 1).then_some(n - 1)
        );
        db.update(|tx| {
            write(tx, &ACCOUNTS, 1, &mut n.clone());
            if n == 25 {
                write(tx, &LATER, 1, &mut n.clone());
            }
            Ok::<_, Error>(())
        })
        .unwrap();
        // The older snapshot is still open and unchanged.
        assert_eq!(
            get(&before, &ACCOUNTS, 1).unwrap(),
            (n > 1).then_some(n - 1)
        );
        drop(before);
        let after = db.read_tx().unwrap();
        assert_eq!(get(&after, &ACCOUNTS, 1).unwrap(), Some(n));
        assert_eq!(get(&after, &LATER, 1).unwrap(), (n >= 25).then_some(25));
    }
}

#[test]
fn readers_see_consistent_snapshots_while_a_writer_commits() {
    const N: u32 = 20;
    const TOTAL: i64 = N as i64 * 1000;
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(
        Db::open_with(
            dir.path().join("bank.vbolt"),
            Options::new().durability(Durability::None),
        )
        .unwrap(),
    );
    let mut tx = db.write_tx().unwrap();
    for a in 1..=N {
        write(&mut tx, &ACCOUNTS, a, &mut 1000);
    }
    tx.commit().unwrap();

    let snapshot = db.read_tx().unwrap();
    let frozen: Vec<(u32, i64)> = {
        let mut v = Vec::new();
        iterate_all(&snapshot, &ACCOUNTS, |k, x| {
            v.push((k, x));
            true
        })
        .unwrap();
        v
    };

    let stop = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + Duration::from_millis(1500);
    let writer = {
        let (db, stop) = (db.clone(), stop.clone());
        thread::spawn(move || {
            let mut commits = 0u64;
            let mut seed = 0x9E37_79B9u64;
            while !stop.load(Ordering::Relaxed) && commits < 5000 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let (from, to) = (
                    (seed % N as u64) as u32 + 1,
                    ((seed >> 20) % N as u64) as u32 + 1,
                );
                let amount = (seed >> 40) as i64 % 50;
                let mut tx = db.write_tx().unwrap();
                let (mut a, mut b) = (0, 0);
                read(&tx, &ACCOUNTS, from, &mut a);
                write(&mut tx, &ACCOUNTS, from, &mut (a - amount));
                read(&tx, &ACCOUNTS, to, &mut b);
                write(&mut tx, &ACCOUNTS, to, &mut (b + amount));
                tx.commit().unwrap();
                commits += 1;
            }
            commits
        })
    };
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let db = db.clone();
            thread::spawn(move || {
                let mut checks = 0u64;
                while Instant::now() < deadline {
                    let tx = db.read_tx().unwrap();
                    let mut sum = 0;
                    let mut count = 0;
                    iterate_all(&tx, &ACCOUNTS, |_, v| {
                        sum += v;
                        count += 1;
                        true
                    })
                    .unwrap();
                    assert_eq!((sum, count), (TOTAL, N), "torn read after {checks} checks");
                    checks += 1;
                }
                checks
            })
        })
        .collect();
    let checks: u64 = readers.into_iter().map(|r| r.join().unwrap()).sum();
    stop.store(true, Ordering::Relaxed);
    let commits = writer.join().unwrap();
    assert!(
        checks > 10 && commits > 10,
        "checks {checks}, commits {commits}"
    );

    let mut after = Vec::new();
    iterate_all(&snapshot, &ACCOUNTS, |k, x| {
        after.push((k, x));
        true
    })
    .unwrap();
    assert_eq!(after, frozen, "a snapshot changed under a reader");
}

#[test]
fn db_and_transactions_are_thread_friendly() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Db>();
    send::<ReadTx>();
    // WriteTx is deliberately not Send (see its docs): the write turn
    // belongs to the thread that began it.
    send_sync::<Bucket<u32, String>>();
    send_sync::<Index<String, u32>>();
}

/// Child side of `a_file_held_by_another_process_is_refused`: opens the
/// database named by `VBOLT_HOLD_DB`, says so, and holds it until its stdin
/// closes. Does nothing when run as an ordinary test.
#[test]
fn hold_db_child() {
    let Ok(path) = std::env::var("VBOLT_HOLD_DB") else {
        return;
    };
    let _db = Db::open(&path).unwrap();
    println!("HOLDING");
    let mut sink = String::new();
    let _ = std::io::stdin().read_line(&mut sink);
}

#[test]
fn a_file_held_by_another_process_is_refused() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.vbolt");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "hold_db_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("VBOLT_HOLD_DB", &path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let held = lines
        .by_ref()
        .take(50)
        .any(|l| l.map(|l| l.contains("HOLDING")).unwrap_or(false));
    assert!(held, "the child process did not open the database");
    let err = Db::open(&path)
        .err()
        .expect("opening a file another process holds must fail");
    assert!(matches!(err, Error::InUse), "{err:?}");
    drop(child.stdin.take()); // let the child exit
    assert!(child.wait().unwrap().success());
    // Once it has exited, the file opens normally.
    Db::open(&path).unwrap();
}

#[test]
fn a_file_with_tables_of_another_key_type_is_refused_at_open() {
    // What vbolt 0.1 wrote: tables keyed by the engine's plain byte slices.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.vbolt");
    {
        let raw = redb::Database::create(&path).unwrap();
        let tx = raw.begin_write().unwrap();
        {
            let def: redb::TableDefinition<&[u8], &[u8]> =
                redb::TableDefinition::new("bucket:accounts");
            let mut t = tx.open_table(def).unwrap();
            t.insert(&1u32.to_be_bytes()[..], &[2u8][..]).unwrap();
        }
        tx.commit().unwrap();
    }
    for read_only in [false, true] {
        let err = Db::open_with(&path, Options::new().read_only(read_only))
            .err()
            .expect("an incompatible file must not open");
        assert!(matches!(err, Error::Incompatible(_)), "{err:?}");
        let message = err.to_string();
        assert!(message.contains("bucket:accounts"), "{message}");
        assert!(message.contains("vbolt.key"), "{message}");
    }
}
