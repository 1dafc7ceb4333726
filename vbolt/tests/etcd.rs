//! The same vbolt code on an etcd cluster (feature `etcd`): the engine
//! contract checked against the in-memory model, snapshots, merged reads
//! of a write transaction, limits, backups, concurrent writers in several
//! processes, and the loss of the leader.
//!
//! Each test starts its own 3-member cluster on loopback ports from the
//! `etcd` binary on `PATH` and stops it at the end. Run:
//! `cargo test -p vbolt --features etcd --test etcd`.
#![cfg(feature = "etcd")]

#[allow(dead_code)] // the fault tests use the rest
mod etcd_cluster;
#[allow(dead_code)] // the fault tests use the rest
mod etcd_proxy;
#[allow(dead_code)] // the fuzz targets and model_ops use the rest
mod model;

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use etcd_cluster::{Cluster, MAX_TXN_OPS};
use etcd_proxy::{Loss, Proxy};
use vbolt::*;

/// The test clusters take more operations per transaction than etcd's
/// default; the databases are told so.
fn test_options() -> EtcdOptions {
    EtcdOptions::new().max_txn_ops(MAX_TXN_OPS)
}

static NAMES: Bucket<u64, String> = Bucket::new("names", vpack::key::fuint(), vpack::string);
static COUNTERS: Bucket<String, u64> = Bucket::new("counters", vpack::key::string_z(), vpack::uint);
static EVENTS: Bucket<u64, String> = Bucket::new("events", vpack::key::fuint(), vpack::string);
static BY_WORKER: Index<u32, u64> =
    Index::new("by_worker", vpack::key::fuint(), vpack::key::fuint());

/// A new database under its own prefix of the cluster.
fn fresh(cluster: &Cluster) -> Db {
    static N: AtomicUsize = AtomicUsize::new(0);
    let prefix = format!(
        "test-{}-{}/",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    Db::open_etcd_with(&cluster.endpoints(), &prefix, test_options()).unwrap()
}

fn inputs(seed: u64, count: usize, max_len: usize) -> Vec<Vec<u8>> {
    let mut x = seed;
    (0..count)
        .map(|_| {
            let mut next = || {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x
            };
            let len = (next() % max_len as u64) as usize + max_len / 2;
            (0..len).map(|_| next() as u8).collect()
        })
        .collect()
}

#[test]
fn the_engine_contract_holds_on_etcd() {
    let cluster = Cluster::start(3);

    // Random transactions of bucket and index operations, checked against
    // the model after every commit or rollback: contents, counts, every
    // window paged to the end, each target's terms, and `check`.
    for data in inputs(0xE7CD, 4, 120) {
        let db = fresh(&cluster);
        model::run_on(&db, &data);
        // The model's tables are on the cluster.
        let tables = db.raw_tables().unwrap();
        assert!(tables.iter().any(|(_, n)| *n > 0), "{tables:?}");
    }

    snapshots_do_not_move(&fresh(&cluster));
    a_multi_key_read_sees_its_snapshot(&fresh(&cluster));
    a_write_transaction_reads_its_own_writes(&fresh(&cluster));
    databases_under_other_prefixes_are_apart(&cluster);
    too_large_a_transaction_is_refused_whole(&fresh(&cluster));
    a_backup_of_a_cluster_restores_into_a_file(&fresh(&cluster));
    a_file_backup_restores_into_a_cluster(&fresh(&cluster), &fresh(&cluster));
}

fn snapshots_do_not_move(db: &Db) {
    db.update(|tx| {
        write(tx, &NAMES, 1, &mut "one".to_string());
        Ok::<_, Error>(())
    })
    .unwrap();
    // On etcd a snapshot is pinned by its first read.
    let before = db.read_tx().unwrap();
    assert_eq!(get(&before, &NAMES, 1).unwrap().as_deref(), Some("one"));
    db.update(|tx| {
        write(tx, &NAMES, 1, &mut "uno".to_string());
        write(tx, &NAMES, 2, &mut "dos".to_string());
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(get(&before, &NAMES, 1).unwrap().as_deref(), Some("one"));
    assert_eq!(get(&before, &NAMES, 2).unwrap(), None);
    let after = db.read_tx().unwrap();
    assert_eq!(get(&after, &NAMES, 1).unwrap().as_deref(), Some("uno"));
    let all: Vec<(u64, String)> = entries(&after, &NAMES).collect::<Result<_, _>>().unwrap();
    assert_eq!(all.len(), 2);
}

/// `read_slice` fetches its keys in one request per hundred: at the
/// snapshot's revision, with a write transaction's own writes over them.
fn a_multi_key_read_sees_its_snapshot(db: &Db) {
    db.update(|tx| {
        for i in 1..=250u64 {
            write(tx, &NAMES, i, &mut format!("old {i}"));
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    let before = db.read_tx().unwrap();
    assert!(has_key(&before, &NAMES, 1).unwrap()); // pins the snapshot
    db.update(|tx| {
        write(tx, &NAMES, 7, &mut "new 7".to_string());
        delete(tx, &NAMES, 8);
        Ok::<_, Error>(())
    })
    .unwrap();
    let keys: Vec<u64> = (0..=260).rev().collect(); // 0 and 251.. are absent
    let mut old = Vec::new();
    assert_eq!(read_slice(&before, &NAMES, &keys, &mut old).unwrap(), 250);
    assert_eq!(old.first().map(String::as_str), Some("old 250"));
    assert!(old.contains(&"old 7".to_string()) && old.contains(&"old 8".to_string()));
    let mut tx = db.write_tx().unwrap();
    write(&mut tx, &NAMES, 9, &mut "mine".to_string());
    let mut now = Vec::new();
    assert_eq!(
        read_slice(&tx, &NAMES, [7u64, 8, 9, 10], &mut now).unwrap(),
        3
    );
    assert_eq!(now, ["new 7", "mine", "old 10"]);
}

fn a_write_transaction_reads_its_own_writes(db: &Db) {
    db.update(|tx| {
        for i in 1..=10u64 {
            write(tx, &NAMES, i, &mut format!("n{i}"));
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    let mut tx = db.write_tx().unwrap();
    write(&mut tx, &NAMES, 4, &mut "four".to_string());
    delete(&mut tx, &NAMES, 5);
    write(&mut tx, &NAMES, 11, &mut "eleven".to_string());
    write(&mut tx, &NAMES, 0x100, &mut "big".to_string());
    let forward: Vec<(u64, String)> = entries(&tx, &NAMES).collect::<Result<_, _>>().unwrap();
    let keys: Vec<u64> = forward.iter().map(|(k, _)| *k).collect();
    assert_eq!(keys, [1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 0x100]);
    assert_eq!(forward[3].1, "four");
    let backward: Vec<u64> = entries(&tx, &NAMES)
        .rev()
        .map(|e| e.map(|(k, _)| k))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(backward, [0x100, 11, 10, 9, 8, 7, 6, 4, 3, 2, 1]);
    let middle: Vec<u64> = entries_in(&tx, &NAMES, 3..7)
        .map(|e| e.map(|(k, _)| k))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(middle, [3, 4, 6]);
    assert_eq!(get(&tx, &NAMES, 5).unwrap(), None);
    drop(tx); // rolled back
    let tx = db.read_tx().unwrap();
    assert_eq!(get(&tx, &NAMES, 5).unwrap().as_deref(), Some("n5"));
    assert_eq!(get(&tx, &NAMES, 11).unwrap(), None);
}

fn databases_under_other_prefixes_are_apart(cluster: &Cluster) {
    let (a, b) = (fresh(cluster), fresh(cluster));
    a.update(|tx| {
        write(tx, &NAMES, 7, &mut "a's".to_string());
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(b.view(|tx| get(tx, &NAMES, 7)).unwrap(), None);
    assert_eq!(b.raw_tables().unwrap(), Vec::<(String, u64)>::new());
    let tables = a.raw_tables().unwrap();
    assert!(
        tables.contains(&("bucket:names".to_string(), 1)),
        "{tables:?}"
    );
}

fn too_large_a_transaction_is_refused_whole(db: &Db) {
    let result = db.update(|tx| {
        for i in 1..=MAX_TXN_OPS as u64 + 10 {
            write(tx, &NAMES, i, &mut "x".to_string());
        }
        Ok::<_, Error>(())
    });
    let err = result.unwrap_err();
    assert!(matches!(err, Error::LimitExceeded(_)), "{err}");
    assert!(err.to_string().contains("--max-txn-ops"), "{err}");
    assert_eq!(
        db.view(|tx| get(tx, &NAMES, 1)).unwrap(),
        None,
        "nothing written"
    );
}

fn a_backup_of_a_cluster_restores_into_a_file(db: &Db) {
    db.update(|tx| {
        for i in 1..=300u64 {
            write(tx, &EVENTS, i, &mut format!("event {i}"));
            set_target_single_term(tx, &BY_WORKER, i, (i % 3) as u32);
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    let mut bytes = Vec::new();
    backup(db, &mut bytes, &BackupOptions::default(), |_| {}).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("copy.vbolt");
    restore(&mut bytes.as_slice(), &path, |_| {}).unwrap();
    let copy = Db::open(&path).unwrap();
    let report = check(&copy).unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
    copy.view(|tx| {
        assert_eq!(get(tx, &EVENTS, 300)?.as_deref(), Some("event 300"));
        assert_eq!(read_term_count(tx, &BY_WORKER, 1)?, 100);
        Ok::<_, Error>(())
    })
    .unwrap();
}

fn a_file_backup_restores_into_a_cluster(target: &Db, other: &Db) {
    // 3,000 entries per table: more than one etcd transaction holds, so
    // the restore commits in several batches.
    let dir = tempfile::tempdir().unwrap();
    let source = Db::open(dir.path().join("source.vbolt")).unwrap();
    source
        .update(|tx| {
            for i in 1..=3000u64 {
                write(tx, &EVENTS, i, &mut format!("event {i}"));
                set_target_single_term(tx, &BY_WORKER, i, (i % 3) as u32);
            }
            Ok::<_, Error>(())
        })
        .unwrap();
    let mut bytes = Vec::new();
    let wrote = backup(&source, &mut bytes, &BackupOptions::default(), |_| {}).unwrap();

    let sub = target.subscribe([Topic::key(&EVENTS, 1).unwrap()]);
    let read = restore_into(target, bytes.as_slice(), |_| {}).unwrap();
    assert_eq!(read, wrote);
    assert!(
        sub.try_recv().unwrap().is_some(),
        "subscribers learn of the restore"
    );
    let report = check(target).unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
    target
        .view(|tx| {
            assert_eq!(get(tx, &EVENTS, 3000)?.as_deref(), Some("event 3000"));
            assert_eq!(read_term_count(tx, &BY_WORKER, 1)?, 1000);
            Ok::<_, Error>(())
        })
        .unwrap();
    // Sequences came along: the next id follows the restored ones.
    assert_eq!(
        target
            .update(|tx| Ok::<_, Error>(next_int_id(tx, &EVENTS)))
            .unwrap(),
        source
            .update(|tx| Ok::<_, Error>(next_int_id(tx, &EVENTS)))
            .unwrap()
    );

    // Only into an empty database; a damaged stream is refused.
    let again = restore_into(target, bytes.as_slice(), |_| {});
    assert!(
        matches!(again, Err(Error::Backup(ref why)) if why.contains("not empty")),
        "{again:?}"
    );
    let mut damaged = bytes.clone();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0x40;
    let refused = restore_into(other, damaged.as_slice(), |_| {});
    assert!(matches!(refused, Err(Error::Backup(_))), "{refused:?}");
}

// ---- several writer processes -------------------------------------------------

/// Runs this test binary's `child` test in a new process with `env`.
fn spawn_child(child: &str, env: &[(&str, String)]) -> std::process::Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([child, "--exact", "--nocapture", "--test-threads=1"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .unwrap()
}

/// In a child process: increments every shared counter and its own, N
/// times, each in one `db.update`.
#[test]
fn counter_child() {
    let Ok(endpoints) = std::env::var("VBOLT_ETCD_ENDPOINTS") else {
        return; // only runs as a child of the conflict test
    };
    let prefix = std::env::var("VBOLT_ETCD_PREFIX").unwrap();
    let me = std::env::var("VBOLT_WORKER").unwrap();
    let rounds: u64 = std::env::var("VBOLT_ROUNDS").unwrap().parse().unwrap();
    let endpoints: Vec<&str> = endpoints.split(',').collect();
    let db = Db::open_etcd_with(&endpoints, &prefix, test_options()).unwrap();
    for _ in 0..rounds {
        db.update(|tx| {
            for name in ["total", "also-total", me.as_str()] {
                let mut n = get(tx, &COUNTERS, name)?.unwrap_or(0);
                n += 1;
                write(tx, &COUNTERS, name, &mut n);
            }
            Ok::<_, Error>(())
        })
        .unwrap();
    }
}

#[test]
fn concurrent_writers_in_several_processes_lose_no_update() {
    let cluster = Cluster::start(3);
    let (workers, rounds) = (4u64, 25u64);
    let prefix = format!("counters-{}/", std::process::id());
    let children: Vec<_> = (0..workers)
        .map(|w| {
            spawn_child(
                "counter_child",
                &[
                    ("VBOLT_ETCD_ENDPOINTS", cluster.endpoints().join(",")),
                    ("VBOLT_ETCD_PREFIX", prefix.clone()),
                    ("VBOLT_WORKER", format!("worker-{w}")),
                    ("VBOLT_ROUNDS", rounds.to_string()),
                ],
            )
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "a writer failed");
    }
    let db = Db::open_etcd_with(&cluster.endpoints(), &prefix, test_options()).unwrap();
    let counts: BTreeMap<String, u64> = db
        .view(|tx| entries(tx, &COUNTERS).collect::<Result<_, _>>())
        .unwrap();
    assert_eq!(counts["total"], workers * rounds, "{counts:?}");
    assert_eq!(counts["also-total"], workers * rounds, "{counts:?}");
    for w in 0..workers {
        assert_eq!(counts[&format!("worker-{w}")], rounds, "{counts:?}");
    }
}

// ---- losing the leader --------------------------------------------------------

/// In a child process: commits events `worker * 1_000_000 + i` with their
/// index entries, one per `db.update`, for a while, and prints the
/// outcome of every commit (`@ack ID`, `@unknown ID`, `@failed ID`).
#[test]
fn event_child() {
    let Ok(endpoints) = std::env::var("VBOLT_ETCD_ENDPOINTS") else {
        return; // only runs as a child of the fault test
    };
    let prefix = std::env::var("VBOLT_ETCD_PREFIX").unwrap();
    let worker: u32 = std::env::var("VBOLT_WORKER").unwrap().parse().unwrap();
    let seconds: u64 = std::env::var("VBOLT_SECONDS").unwrap().parse().unwrap();
    let endpoints: Vec<&str> = endpoints.split(',').collect();
    let db = Db::open_etcd_with(&endpoints, &prefix, test_options()).unwrap();
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut i = 0u64;
    let mut runs = 0u64;
    while Instant::now() < until {
        i += 1;
        let id = u64::from(worker) * 1_000_000 + i;
        let outcome = db.update(|tx| {
            runs += 1;
            write(tx, &EVENTS, id, &mut format!("event {id}"));
            set_target_single_term(tx, &BY_WORKER, id, worker);
            let mut n = get(tx, &COUNTERS, "events")?.unwrap_or(0) + 1;
            write(tx, &COUNTERS, "events", &mut n);
            Ok::<_, Error>(())
        });
        match outcome {
            Ok(()) => println!("@ack {id}"),
            Err(Error::CommitUnknown(why)) => println!("@unknown {id} {why}"),
            Err(e) => println!("@failed {id} {e}"),
        }
    }
    println!("@runs {runs}");
}

#[test]
fn killing_the_leader_loses_no_acknowledged_commit() {
    let mut cluster = Cluster::start(3);
    let prefix = format!("events-{}/", std::process::id());
    let db = Db::open_etcd_with(&cluster.endpoints(), &prefix, test_options()).unwrap();
    db.update(|tx| {
        write(tx, &NAMES, 1, &mut "before".to_string());
        Ok::<_, Error>(())
    })
    .unwrap();
    // A snapshot pinned (by a read) before the writers start must never
    // change.
    let pinned = db.read_tx().unwrap();
    assert_eq!(get(&pinned, &NAMES, 1).unwrap().as_deref(), Some("before"));

    let workers = 3u32;
    let children: Vec<_> = (1..=workers)
        .map(|w| {
            spawn_child(
                "event_child",
                &[
                    ("VBOLT_ETCD_ENDPOINTS", cluster.endpoints().join(",")),
                    ("VBOLT_ETCD_PREFIX", prefix.clone()),
                    ("VBOLT_WORKER", w.to_string()),
                    ("VBOLT_SECONDS", "8".into()),
                ],
            )
        })
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    let leader = cluster.leader().expect("a leader");
    cluster.kill(leader);
    std::thread::sleep(Duration::from_secs(3));
    cluster.restart(leader);

    let mut acked = Vec::new();
    let mut unknown = Vec::new();
    let mut failed = Vec::new();
    let mut runs = 0;
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "a writer crashed");
        // Each report starts with '@' (the test harness may print before
        // it on the same line).
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let Some(at) = line.find('@') else { continue };
            let line = &line[at + 1..];
            let mut parts = line.split(' ');
            match (
                parts.next(),
                parts.next().and_then(|n| n.parse::<u64>().ok()),
            ) {
                (Some("ack"), Some(id)) => acked.push(id),
                (Some("unknown"), Some(id)) => unknown.push(id),
                (Some("failed"), Some(_)) => failed.push(line.to_string()),
                (Some("runs"), Some(n)) => runs += n,
                _ => {}
            }
        }
    }
    cluster.wait_ready();
    assert!(
        acked.len() > 50,
        "too few commits to tell anything: {}",
        acked.len()
    );

    let stored: BTreeMap<u64, String> = db
        .view(|tx| entries(tx, &EVENTS).collect::<Result<_, _>>())
        .unwrap();
    for id in &acked {
        assert_eq!(
            stored.get(id).map(String::as_str),
            Some(format!("event {id}").as_str()),
            "acknowledged {id} lost"
        );
    }
    // Nothing appears that was neither acknowledged nor of unknown outcome.
    for id in stored.keys() {
        assert!(
            acked.contains(id) || unknown.contains(id),
            "{id} is stored but was reported failed: {failed:?}"
        );
    }
    // Each commit applied once: the counter counts the stored events.
    let count = db
        .view(|tx| get(tx, &COUNTERS, "events"))
        .unwrap()
        .unwrap_or(0);
    assert_eq!(count as usize, stored.len());
    let report = check(&db).unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
    // The pinned snapshot still sees only what was there before.
    assert_eq!(get(&pinned, &NAMES, 1).unwrap().as_deref(), Some("before"));
    assert_eq!(entries(&pinned, &EVENTS).count(), 0);
    eprintln!(
        "leader {leader} killed: {} commits acknowledged, {} of unknown outcome, {} stored, \
         {runs} runs of the closures (conflicts retried), failures: {failed:?}",
        acked.len(),
        unknown.len(),
        stored.len()
    );
}

// ---- a commit whose answer is lost ------------------------------------------------

#[test]
fn a_commit_whose_answer_is_lost_reports_exactly_what_happened() {
    let cluster = Cluster::start(1);
    let proxy = Proxy::start(&cluster.endpoints()[0], Loss::Cut);
    let db = Db::open_etcd_with(&[proxy.url()], "lost-answers/", test_options()).unwrap();
    let (mut landed, mut refused, mut unknown) = (0, 0, 0);
    for i in 1..=20u64 {
        let mut tx = db.write_tx().unwrap();
        assert_eq!(get(&tx, &EVENTS, i).unwrap(), None); // pins the snapshot
        write(&mut tx, &EVENTS, i, &mut format!("event {i}"));
        proxy.arm();
        let result = tx.commit();
        let stored = db.view(|tx| get(tx, &EVENTS, i)).unwrap();
        match result {
            // Never success for a commit that did not land...
            Ok(()) => {
                assert_eq!(stored.as_deref(), Some(format!("event {i}").as_str()));
                landed += 1;
            }
            // ...nor failure for one that did.
            Err(Error::Conflict) => {
                assert_eq!(stored, None, "commit {i} reported lost, but it landed");
                refused += 1;
            }
            Err(Error::CommitUnknown(_)) => unknown += 1,
            Err(e) => panic!("commit {i}: {e}"),
        }
    }
    let cuts = proxy.lost.load(Ordering::SeqCst);
    eprintln!(
        "20 commits, {cuts} answers cut: {landed} landed, {refused} refused, {unknown} unknown"
    );
    assert!(cuts >= 15, "the proxy cut only {cuts} answers");
    assert_eq!(unknown, 0, "the history is there to tell");
    assert!(landed > 0, "no cut commit was found to have landed");
}
