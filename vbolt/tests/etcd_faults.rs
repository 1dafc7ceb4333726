//! Exact outcomes on a faulty etcd cluster (feature `etcd`): each caller
//! gets its own outcome, `Ok` means the commit is in the cluster, a commit
//! reported failed is not, and no writer stalls for longer than a
//! member's failure takes to notice or starves while others commit.
//!
//! - a member paused (SIGSTOP) while writers and readers run: the leader,
//!   and a follower the clients talk to; and a killed leader;
//! - a commit whose answer is withheld past the request deadline, or cut
//!   off, after the cluster applied it;
//! - a group of updates larger than the cluster's `--max-txn-ops`, and
//!   than the request bytes the store is told;
//! - a process of grouped writers against single writers on one hot key.
//!
//! Each test starts its own cluster on loopback ports (the `etcd` binary
//! on `PATH`). Each prints a `figures:` line; RELIABILITY.md has them.
//! Run: `cargo test -p vbolt --features etcd --test etcd_faults`.
#![cfg(feature = "etcd")]

mod etcd_cluster;
mod etcd_proxy;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use etcd_cluster::{Cluster, MAX_TXN_OPS};
use etcd_proxy::{Loss, Proxy};
use vbolt::*;

static EVENTS: Bucket<String, u64> = Bucket::new("events", vpack::key::string_z(), vpack::uint);
static COUNTERS: Bucket<String, u64> = Bucket::new("counters", vpack::key::string_z(), vpack::uint);

/// One test at a time: each runs its own cluster, and the stalls they
/// measure must not include another test's load on the machine's cores.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

fn options() -> EtcdOptions {
    EtcdOptions::new().max_txn_ops(MAX_TXN_OPS)
}

fn open(endpoints: &[String], prefix: &str) -> Arc<Db> {
    Arc::new(Db::open_etcd_with(endpoints, prefix, options()).unwrap())
}

/// What the writers of one run saw.
#[derive(Default)]
struct Tally {
    /// Keys acknowledged, with when.
    acked: Vec<(String, Instant)>,
    /// Keys reported as not committed, with the error.
    failed: Vec<(String, String)>,
    /// Keys of unknown outcome.
    unknown: Vec<String>,
    /// The slowest `update` call.
    slowest: Duration,
    /// Reads that failed.
    read_failures: Vec<String>,
    reads: usize,
}

impl Tally {
    fn absorb(&mut self, other: Tally) {
        self.acked.extend(other.acked);
        self.failed.extend(other.failed);
        self.unknown.extend(other.unknown);
        self.slowest = self.slowest.max(other.slowest);
        self.read_failures.extend(other.read_failures);
        self.reads += other.reads;
    }

    /// The longest time between two acknowledgments (from the first to
    /// the last): how long the writers stalled.
    fn longest_stall(&self) -> Duration {
        let mut times: Vec<Instant> = self.acked.iter().map(|(_, t)| *t).collect();
        times.sort();
        times
            .windows(2)
            .map(|w| w[1] - w[0])
            .max()
            .unwrap_or_default()
    }
}

/// One writer: until `stop`, updates that each write a key of its own
/// (`name-i`) and, with `hot`, bump a counter of its own and one shared
/// counter (two reads: a group's transaction is then longer than a
/// single writer's, one read per member).
fn writer(db: Arc<Db>, name: String, hot: bool, stop: Arc<AtomicBool>) -> Tally {
    let mut tally = Tally::default();
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let key = format!("{name}-{i:06}");
        let began = Instant::now();
        let k = key.clone();
        let result = db.update(|tx| {
            write(tx, &EVENTS, &k, &mut i.clone());
            if hot {
                for counter in [name.as_str(), "hot"] {
                    let mut n = get(tx, &COUNTERS, counter)?.unwrap_or(0) + 1;
                    write(tx, &COUNTERS, counter, &mut n);
                }
            }
            Ok::<_, Error>(())
        });
        tally.slowest = tally.slowest.max(began.elapsed());
        match result {
            Ok(()) => tally.acked.push((key, Instant::now())),
            Err(Error::CommitUnknown(_)) => tally.unknown.push(key),
            Err(e) => tally.failed.push((key, e.to_string())),
        }
        i += 1;
    }
    tally
}

/// One reader: reads a key until `stop`; every failure is recorded.
fn reader(db: Arc<Db>, stop: Arc<AtomicBool>) -> Tally {
    let mut tally = Tally::default();
    while !stop.load(Ordering::Relaxed) {
        match db.view(|tx| get(tx, &EVENTS, "r-000000")) {
            Ok(_) => tally.reads += 1,
            Err(e) => tally.read_failures.push(e.to_string()),
        }
        thread::sleep(Duration::from_millis(5));
    }
    tally
}

/// Checks every outcome against what the cluster holds: nothing
/// acknowledged is lost, nothing reported failed is there, nothing is
/// there that nobody wrote. Returns the counts for the figures line.
fn verify(db: &Db, tally: &Tally) -> (usize, usize) {
    let stored: BTreeMap<String, u64> = db
        .view(|tx| entries(tx, &EVENTS).collect::<Result<_, _>>())
        .unwrap();
    let lost: Vec<&String> = tally
        .acked
        .iter()
        .map(|(k, _)| k)
        .filter(|k| !stored.contains_key(*k))
        .collect();
    assert!(lost.is_empty(), "acknowledged and lost: {lost:?}");
    let landed: Vec<&(String, String)> = tally
        .failed
        .iter()
        .filter(|(k, _)| stored.contains_key(k))
        .collect();
    assert!(landed.is_empty(), "reported failed, but landed: {landed:?}");
    let settled_unknown = tally
        .unknown
        .iter()
        .filter(|k| stored.contains_key(*k))
        .count();
    let acked = tally.acked.len();
    assert_eq!(
        stored.len(),
        acked + settled_unknown,
        "stored keys that no writer wrote"
    );
    (lost.len(), landed.len())
}

/// Runs `writers` writer threads on `dbs` (round robin) and one reader
/// per database for `run_for`, doing `fault` meanwhile.
fn run(dbs: &[Arc<Db>], writers: usize, run_for: Duration, fault: impl FnOnce()) -> Tally {
    let stop = Arc::new(AtomicBool::new(false));
    let mut handles = Vec::new();
    for w in 0..writers {
        let (db, stop) = (Arc::clone(&dbs[w % dbs.len()]), Arc::clone(&stop));
        handles.push(thread::spawn(move || {
            writer(db, format!("w{w}"), false, stop)
        }));
    }
    for db in dbs {
        let (db, stop) = (Arc::clone(db), Arc::clone(&stop));
        handles.push(thread::spawn(move || reader(db, stop)));
    }
    let began = Instant::now();
    fault();
    thread::sleep(run_for.saturating_sub(began.elapsed()));
    stop.store(true, Ordering::Relaxed);
    let mut tally = Tally::default();
    for h in handles {
        tally.absorb(h.join().unwrap());
    }
    tally
}

/// The endpoints with member `first` first: the clients talk to it until
/// it fails them.
fn endpoints_from(cluster: &Cluster, first: usize) -> Vec<String> {
    let mut all = cluster.endpoints();
    all.rotate_left(first);
    all
}

/// What happens to the victim member.
#[derive(Clone, Copy, Debug)]
enum Fault {
    /// SIGSTOP, and SIGCONT 6 s later: its connections stay open and
    /// nothing answers.
    Pause,
    /// SIGKILL, and a restart 6 s later.
    Kill,
}

/// Stops `victim` (as `fault` says) for 6 s while 4 writers (on two
/// handles) and 2 readers run for 14 s, talking to the victim first.
fn member_down(which: &str, fault: Fault, pick: impl FnOnce(&Cluster) -> usize) {
    let mut cluster = Cluster::start(3);
    let victim = pick(&cluster);
    let endpoints = endpoints_from(&cluster, victim);
    let prefix = format!("{fault:?}-{which}/");
    let dbs = [open(&endpoints, &prefix), open(&endpoints, &prefix)];
    let down = Duration::from_secs(6);
    let tally = run(&dbs, 4, Duration::from_secs(14), || {
        thread::sleep(Duration::from_secs(3));
        match fault {
            Fault::Pause => cluster.pause(victim),
            Fault::Kill => cluster.kill(victim),
        }
        thread::sleep(down);
        match fault {
            Fault::Pause => cluster.resume(victim),
            Fault::Kill => cluster.restart(victim),
        }
    });
    cluster.wait_ready();
    let (lost, landed) = verify(&dbs[0], &tally);
    let stall = tally.longest_stall();
    eprintln!(
        "figures: {fault:?} {which} ({down:?}): {} updates, {} acknowledged, {} failed {:?}, {} \
         unknown, {lost} lost, {landed} reported failed but landed; longest stall {stall:?}, \
         slowest update {:?}; {} reads, {} failed",
        tally.acked.len() + tally.failed.len() + tally.unknown.len(),
        tally.acked.len(),
        tally.failed.len(),
        tally.failed.iter().take(3).collect::<Vec<_>>(),
        tally.unknown.len(),
        tally.slowest,
        tally.reads,
        tally.read_failures.len(),
    );
    assert!(tally.acked.len() > 100, "too few commits to tell anything");
    assert!(
        tally.failed.is_empty(),
        "{:?}",
        &tally.failed[..tally.failed.len().min(5)]
    );
    assert!(tally.unknown.is_empty(), "{:?}", tally.unknown);
    assert!(tally.read_failures.is_empty(), "{:?}", tally.read_failures);
    // A healthy quorum remains: the writers move on within a deadline and
    // an election, not the whole outage.
    assert!(
        stall < Duration::from_secs(4),
        "the writers stalled for {stall:?} of a {down:?} outage"
    );
}

fn leader(c: &Cluster) -> usize {
    c.leader().expect("a leader")
}

fn follower(c: &Cluster) -> usize {
    (leader(c) + 1) % c.size()
}

#[test]
fn a_paused_leader_stalls_writers_only_until_they_move_on() {
    let _one = one_at_a_time();
    member_down("leader", Fault::Pause, leader);
}

#[test]
fn a_paused_follower_stalls_writers_only_until_they_move_on() {
    let _one = one_at_a_time();
    member_down("follower", Fault::Pause, follower);
}

#[test]
fn a_killed_leader_stalls_writers_only_until_they_move_on() {
    let _one = one_at_a_time();
    member_down("leader", Fault::Kill, leader);
}

/// Opens a database whose first member is reached through `proxy`.
fn through(proxy: &Proxy, cluster: &Cluster, prefix: &str) -> Db {
    let mut endpoints = cluster.endpoints();
    endpoints[0] = proxy.url();
    Db::open_etcd_with(&endpoints, prefix, options()).unwrap()
}

/// Commits `rounds` transactions whose answers `proxy` loses, each on a
/// new handle (so it talks to the proxied member first); returns how many
/// were `Ok`, `Conflict` and unknown, after checking each against the
/// cluster.
fn lost_answers(cluster: &Cluster, proxy: &Proxy, rounds: u64) -> (usize, usize, usize) {
    let (mut landed, mut refused, mut unknown) = (0, 0, 0);
    for i in 1..=rounds {
        let db = through(proxy, cluster, "lost/");
        let key = format!("k{i}");
        let mut tx = db.write_tx().unwrap();
        assert_eq!(get(&tx, &EVENTS, &key).unwrap(), None); // pins the snapshot
        write(&mut tx, &EVENTS, &key, &mut i.clone());
        proxy.arm();
        let began = Instant::now();
        let result = tx.commit();
        let took = began.elapsed();
        proxy.disarm();
        let stored = db.view(|tx| get(tx, &EVENTS, &key)).unwrap();
        match result {
            Ok(()) => {
                assert_eq!(
                    stored,
                    Some(i),
                    "commit {i} reported done, but it is not there"
                );
                landed += 1;
            }
            Err(Error::Conflict) => {
                assert_eq!(stored, None, "commit {i} reported lost, but it landed");
                refused += 1;
            }
            Err(Error::CommitUnknown(why)) => {
                eprintln!("commit {i}: unknown after {took:?}: {why}");
                unknown += 1;
            }
            Err(e) => panic!("commit {i} failed after {took:?}: {e}"),
        }
        assert!(took < Duration::from_secs(5), "commit {i} took {took:?}");
    }
    (landed, refused, unknown)
}

#[test]
fn a_commit_whose_answer_outlives_the_deadline_is_settled_as_landed() {
    let _one = one_at_a_time();
    let cluster = Cluster::start(3);
    let proxy = Proxy::start(&cluster.endpoints()[0], Loss::Withhold);
    let (landed, refused, unknown) = lost_answers(&cluster, &proxy, 6);
    let withheld = proxy.lost.load(Ordering::SeqCst);
    eprintln!(
        "figures: answers withheld past the deadline: {withheld} of 6; {landed} settled as \
         landed, {refused} as not, {unknown} unknown"
    );
    assert!(withheld >= 5, "the proxy withheld only {withheld} answers");
    // The member applied each commit before its answer was held back.
    assert_eq!((landed, unknown), (6, 0));
}

#[test]
fn a_commit_whose_connection_is_cut_is_settled_on_another_member() {
    let _one = one_at_a_time();
    let cluster = Cluster::start(3);
    let proxy = Proxy::start(&cluster.endpoints()[0], Loss::Cut);
    let (landed, refused, unknown) = lost_answers(&cluster, &proxy, 10);
    let cut = proxy.lost.load(Ordering::SeqCst);
    eprintln!(
        "figures: connections cut mid-commit: {cut} of 10; {landed} settled as landed, \
         {refused} as not, {unknown} unknown"
    );
    assert!(cut >= 8, "the proxy cut only {cut} answers");
    assert_eq!(unknown, 0, "the other members were there to tell");
    assert!(landed > 0);
}

/// `threads` callers on one handle, each making `rounds` updates of
/// `keys` keys with values of `value_len` bytes; all must commit.
fn many_small_updates(db: &Arc<Db>, threads: usize, rounds: usize, keys: usize, value_len: usize) {
    let start = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (db, start) = (Arc::clone(db), Arc::clone(&start));
            thread::spawn(move || {
                start.wait();
                for r in 0..rounds {
                    db.update(|tx| {
                        for k in 0..keys {
                            let mut v = vec![t as u8; value_len];
                            write(tx, &BLOBS, format!("t{t}-r{r}-k{k}"), &mut v);
                        }
                        Ok::<_, Error>(())
                    })
                    .unwrap_or_else(|e| panic!("thread {t}, round {r}: {e}"));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let stored = db
        .view(|tx| Ok::<_, Error>(entries(tx, &BLOBS).count()))
        .unwrap();
    assert_eq!(stored, threads * rounds * keys);
}

static BLOBS: Bucket<String, Vec<u8>> = Bucket::new("blobs", vpack::key::string_z(), vpack::bytes);

#[test]
fn groups_are_cut_to_the_clusters_limits_and_only_an_update_too_large_alone_fails() {
    let _one = one_at_a_time();
    // etcd's default --max-txn-ops, and the store told the default.
    let cluster = Cluster::start_with(1, 128);
    let db = Arc::new(Db::open_etcd(&cluster.endpoints(), "ops/").unwrap());
    let began = Instant::now();
    many_small_updates(&db, 16, 15, 10, 8);
    let stats = db.commit_stats();
    eprintln!(
        "figures: 16 threads x 15 updates of 10 keys, --max-txn-ops 128: all committed in \
         {:?}, {stats:?}",
        began.elapsed()
    );
    assert!(stats.commits < stats.updates, "no group formed: {stats:?}");

    // One update too large alone fails, and only its caller.
    let too_large = {
        let db = Arc::clone(&db);
        thread::spawn(move || {
            db.update(|tx| {
                for k in 0..200 {
                    write(tx, &BLOBS, format!("big-{k}"), &mut vec![1]);
                }
                Ok::<_, Error>(())
            })
        })
    };
    many_small_updates(
        &Arc::new(Db::open_etcd(&cluster.endpoints(), "ops2/").unwrap()),
        8,
        5,
        10,
        8,
    );
    let refused = too_large.join().unwrap();
    assert!(
        matches!(refused, Err(Error::LimitExceeded(ref why)) if why.contains("--max-txn-ops")),
        "{refused:?}"
    );

    // The bytes per request: groups cut to 64 KiB, values of 6 KiB.
    let small = EtcdOptions::new().max_request_bytes(64 << 10);
    let db = Arc::new(Db::open_etcd_with(&cluster.endpoints(), "bytes/", small).unwrap());
    many_small_updates(&db, 16, 5, 1, 6 << 10);
    let refused = db.update(|tx| {
        write(tx, &BLOBS, "huge", &mut vec![0u8; 100 << 10]);
        Ok::<_, Error>(())
    });
    assert!(
        matches!(refused, Err(Error::LimitExceeded(ref why)) if why.contains("--max-request-bytes")),
        "{refused:?}"
    );
}

#[test]
fn a_group_of_writers_makes_progress_against_single_writers() {
    let _one = one_at_a_time();
    let cluster = Cluster::start(3);
    let endpoints = cluster.endpoints();
    let prefix = "contention/";
    let grouped = open(&endpoints, prefix);
    let stop = Arc::new(AtomicBool::new(false));
    let mut group = Vec::new();
    for t in 0..4 {
        let (db, stop) = (Arc::clone(&grouped), Arc::clone(&stop));
        group.push(thread::spawn(move || {
            writer(db, format!("g{t}"), true, stop)
        }));
    }
    // Six single writers, each with a handle (a client) of its own, as
    // six processes would have.
    let mut singles = Vec::new();
    for s in 0..6 {
        let (db, stop) = (open(&endpoints, prefix), Arc::clone(&stop));
        singles.push(thread::spawn(move || {
            writer(db, format!("s{s}"), true, stop)
        }));
    }
    let run_for = Duration::from_secs(15);
    thread::sleep(run_for);
    stop.store(true, Ordering::Relaxed);
    let group: Vec<Tally> = group.into_iter().map(|h| h.join().unwrap()).collect();
    let singles: Vec<Tally> = singles.into_iter().map(|h| h.join().unwrap()).collect();
    let per_group: Vec<usize> = group.iter().map(|t| t.acked.len()).collect();
    let per_single: Vec<usize> = singles.iter().map(|t| t.acked.len()).collect();
    let mut all = Tally::default();
    group.into_iter().chain(singles).for_each(|t| all.absorb(t));
    verify(&grouped, &all);
    let hot = grouped
        .view(|tx| get(tx, &COUNTERS, "hot"))
        .unwrap()
        .unwrap_or(0);
    assert_eq!(
        hot as usize,
        all.acked.len(),
        "the hot counter counts every commit"
    );
    eprintln!(
        "figures: contention {run_for:?}: grouped writers {per_group:?}, single writers \
         {per_single:?}; failed {}, unknown {}; slowest update {:?}",
        all.failed.len(),
        all.unknown.len(),
        all.slowest
    );
    assert!(
        all.failed.is_empty(),
        "{:?}",
        &all.failed[..all.failed.len().min(5)]
    );
    // No writer starves: the one process's group (one commit at a time)
    // gets at least a third of what an average single writer gets, and
    // every writer commits.
    let group_total: usize = per_group.iter().sum();
    let single_mean = per_single.iter().sum::<usize>() / per_single.len();
    assert!(
        per_group.iter().chain(&per_single).all(|&n| n > 0),
        "a writer starved: {per_group:?} {per_single:?}"
    );
    assert!(
        group_total * 3 >= single_mean,
        "the group starves: {per_group:?} against {per_single:?}"
    );
}
