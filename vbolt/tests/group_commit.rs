//! Group commit: concurrent `Db::update` calls share engine commits, each
//! caller gets its own outcome, and one closure's failure (an `Err`, a
//! failed transaction, a panic) reaches only its caller.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use vbolt::*;

static COUNTERS: Bucket<String, u64> = Bucket::new("counters", vpack::key::string_z(), vpack::uint);
static MARKS: Bucket<String, String> = Bucket::new("marks", vpack::key::string_z(), vpack::string);

fn file_db() -> (tempfile::TempDir, Arc<Db>) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path().join("group.vbolt")).unwrap();
    (dir, Arc::new(db))
}

fn mark(db: &Db, name: &str) -> Option<String> {
    db.view(|tx| get(tx, &MARKS, name)).unwrap()
}

#[test]
fn many_threads_lose_no_update_and_share_commits() {
    many_threads(|_| Via::Update);
}

#[test]
fn many_batch_and_update_callers_lose_no_update() {
    many_threads(|t| if t % 2 == 0 { Via::Batch } else { Via::Update });
}

/// Sixteen threads, each calling in as `via` says for its number, bump a
/// shared counter and their own 40 times each.
fn many_threads(via: fn(usize) -> Via) {
    let (_dir, db) = file_db();
    let (threads, rounds) = (16, 40);
    let start = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (db, start) = (Arc::clone(&db), Arc::clone(&start));
            thread::spawn(move || {
                start.wait();
                for _ in 0..rounds {
                    let bump = move |tx: &mut WriteTx| {
                        for name in ["total".to_string(), format!("thread-{t}")] {
                            let mut n = get(tx, &COUNTERS, &name)?.unwrap_or(0) + 1;
                            write(tx, &COUNTERS, &name, &mut n);
                        }
                        Ok::<_, Error>(())
                    };
                    match via(t) {
                        Via::Update => db.update(bump).unwrap(),
                        Via::Batch => db.batch(bump).unwrap(),
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    db.view(|tx| {
        assert_eq!(
            get(tx, &COUNTERS, "total")?,
            Some((threads * rounds) as u64)
        );
        for t in 0..threads {
            assert_eq!(
                get(tx, &COUNTERS, format!("thread-{t}"))?,
                Some(rounds as u64)
            );
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    let stats = db.commit_stats();
    assert_eq!(stats.updates, (threads * rounds) as u64);
    // Sixteen writers on durable commits always overlap: each commit's
    // fsync gathers the next group.
    assert!(
        stats.commits < stats.updates,
        "no update shared a commit: {stats:?}"
    );
}

/// What a member's closure does after writing its mark.
type Body = fn(&mut WriteTx) -> Result<(), Error>;

/// Holds the leader in its closure until the members `run` have joined
/// its group, then lets it finish; returns what each member's `update`
/// returned, by name, and how many times each closure ran. When every
/// member succeeds, the whole group is one commit; after a failure, the
/// members that run again may rejoin the group or form the next one, so
/// then the commits are only bounded.
fn group_of(
    db: &Arc<Db>,
    members: Vec<(&'static str, Body)>,
) -> Vec<(&'static str, Result<(), String>, usize)> {
    let members = members
        .into_iter()
        .map(|(name, body)| (name, body, Via::Update))
        .collect();
    group_via(db, members)
}

/// How a member calls in.
#[derive(Clone, Copy)]
enum Via {
    /// `Db::update`: its closure runs on its own thread, in its turn.
    Update,
    /// `Db::batch`: its closure runs on whichever thread holds the
    /// transaction.
    Batch,
}

/// [`group_of`] with each member's way in.
fn group_via(
    db: &Arc<Db>,
    members: Vec<(&'static str, Body, Via)>,
) -> Vec<(&'static str, Result<(), String>, usize)> {
    let (entered, entered_rx) = mpsc::channel();
    let (go, go_rx) = mpsc::channel::<()>();
    let leader = {
        let db = Arc::clone(db);
        thread::spawn(move || {
            let mut first = true;
            db.update(|tx| {
                write(tx, &MARKS, "leader", &mut "here".to_string());
                // The closure runs again when a member fails: wait only
                // the first time.
                if std::mem::take(&mut first) {
                    let _ = entered.send(());
                    let _ = go_rx.recv_timeout(Duration::from_secs(10));
                }
                Ok::<_, Error>(())
            })
        })
    };
    entered_rx.recv().unwrap();
    let before = db.commit_stats();
    let runners: Vec<_> = members
        .into_iter()
        .map(|(name, body, via)| {
            let db = Arc::clone(db);
            let handle = thread::spawn(move || {
                let runs = Arc::new(AtomicUsize::new(0));
                let counted = Arc::clone(&runs);
                let run = move |tx: &mut WriteTx| {
                    counted.fetch_add(1, Ordering::Relaxed);
                    write(tx, &MARKS, name, &mut name.to_string());
                    body(tx)
                };
                let result = match via {
                    Via::Update => db.update(run),
                    Via::Batch => db.batch(run),
                };
                (
                    result.map_err(|e| e.to_string()),
                    runs.load(Ordering::Relaxed),
                )
            });
            (name, handle)
        })
        .collect();
    // Give every member time to join the leader's group.
    thread::sleep(Duration::from_millis(500));
    go.send(()).unwrap();
    leader.join().unwrap().unwrap();
    let out: Vec<_> = runners
        .into_iter()
        .map(|(name, r)| match r.join() {
            Ok((result, runs)) => (name, result, runs),
            Err(_) => (name, Err("panicked".to_string()), 0),
        })
        .collect();
    let commits = db.commit_stats().commits - before.commits;
    if out.iter().all(|(_, result, _)| result.is_ok()) {
        assert_eq!(commits, 1, "one commit for the whole group");
    } else {
        let succeeded = out.iter().filter(|(_, r, _)| r.is_ok()).count() as u64;
        assert!(commits <= 1 + succeeded, "{commits} commits");
    }
    out
}

fn succeed(_: &mut WriteTx) -> Result<(), Error> {
    Ok(())
}

fn refuse(_: &mut WriteTx) -> Result<(), Error> {
    Err(Error::Engine("refused by the application".into()))
}

fn zero_key(tx: &mut WriteTx) -> Result<(), Error> {
    write(tx, &MARKS, "", &mut String::new()); // fails the transaction
    Ok(())
}

#[test]
fn the_members_of_a_group_share_one_commit() {
    let (_dir, db) = file_db();
    let results = group_of(&db, vec![("a", succeed), ("b", succeed), ("c", succeed)]);
    for (name, result, runs) in results {
        assert_eq!(result, Ok(()), "{name}");
        assert_eq!(runs, 1, "{name} ran once: nothing failed");
        assert_eq!(mark(&db, name).as_deref(), Some(name));
    }
}

#[test]
fn a_failing_closure_fails_only_its_caller() {
    failures_reach_only_their_callers([Via::Update; 5]);
}

#[test]
fn a_failing_batch_closure_fails_only_its_caller() {
    use Via::*;
    failures_reach_only_their_callers([Batch, Batch, Update, Batch, Batch]);
}

/// A group of two failing members among three that succeed, each calling
/// in as `via` says: only the failing ones fail, and only their writes are
/// missing.
fn failures_reach_only_their_callers(via: [Via; 5]) {
    let (_dir, db) = file_db();
    let members: [(&'static str, Body); 5] = [
        ("a", succeed),
        ("refuses", refuse),
        ("b", succeed),
        ("zero", zero_key),
        ("c", succeed),
    ];
    let members = members
        .into_iter()
        .zip(via)
        .map(|((name, body), via)| (name, body, via))
        .collect();
    let results = group_via(&db, members);
    for (name, result, runs) in &results {
        match *name {
            "refuses" => assert_eq!(
                result.as_ref().unwrap_err(),
                "storage engine error: refused by the application"
            ),
            "zero" => assert!(
                result.as_ref().unwrap_err().contains("zero key"),
                "{result:?}"
            ),
            _ => {
                assert_eq!(result, &Ok(()), "{name}");
                assert!(*runs >= 1);
            }
        }
        let stored = mark(&db, name);
        let expect_stored = !matches!(*name, "refuses" | "zero");
        assert_eq!(stored.is_some(), expect_stored, "{name}: {stored:?}");
    }
    assert_eq!(mark(&db, "leader").as_deref(), Some("here"));
}

#[test]
fn a_panicking_closure_unwinds_only_its_caller() {
    panics_reach_only_their_callers([Via::Update; 4]);
}

#[test]
fn a_panicking_batch_closure_unwinds_only_its_caller() {
    // The closure runs on another caller's thread; its panic reaches its
    // own caller, and nobody else.
    use Via::*;
    panics_reach_only_their_callers([Batch, Batch, Update, Batch]);
}

fn panics_reach_only_their_callers(via: [Via; 4]) {
    let (_dir, db) = file_db();
    let members: [(&'static str, Body); 4] = [
        ("a", succeed),
        ("panics", |_| panic!("the application's bug")),
        ("b", succeed),
        ("c", succeed),
    ];
    let members = members
        .into_iter()
        .zip(via)
        .map(|((name, body), via)| (name, body, via))
        .collect();
    for (name, result, _) in group_via(&db, members) {
        let expected = if name == "panics" {
            Err("panicked".to_string())
        } else {
            Ok(())
        };
        assert_eq!(result, expected, "{name}");
    }
    for name in ["a", "b", "c"] {
        assert_eq!(mark(&db, name).as_deref(), Some(name));
    }
    assert_eq!(mark(&db, "panics"), None);
}

#[test]
fn a_member_that_asks_for_another_write_transaction_is_refused_not_hung() {
    let (_dir, db) = file_db();
    static NESTED: std::sync::OnceLock<Arc<Db>> = std::sync::OnceLock::new();
    NESTED.set(Arc::clone(&db)).ok();
    let results = group_of(
        &db,
        vec![
            ("nested", |_| match NESTED.get().unwrap().write_tx() {
                Err(Error::WriteInProgress) => Err(Error::WriteInProgress),
                other => panic!("expected WriteInProgress, got {:?}", other.map(drop)),
            }),
            ("nested_update", |_| {
                NESTED.get().unwrap().update(|_| Ok::<_, Error>(()))
            }),
            ("a", succeed),
        ],
    );
    for (name, result, _) in results {
        match name {
            "a" => assert_eq!(result, Ok(())),
            _ => assert!(
                result
                    .unwrap_err()
                    .contains("already holds the write transaction"),
                "{name}"
            ),
        }
    }
}

#[test]
fn members_handed_the_transaction_by_other_members_are_refused_a_second_one_too() {
    // Members pass the transaction (and the write turn) from one to the
    // next: one that follows other members is refused like the first.
    let (_dir, db) = file_db();
    static NESTED: std::sync::OnceLock<Arc<Db>> = std::sync::OnceLock::new();
    NESTED.set(Arc::clone(&db)).ok();
    fn nested(_: &mut WriteTx) -> Result<(), Error> {
        match NESTED.get().unwrap().write_tx() {
            Err(Error::WriteInProgress) => Err(Error::WriteInProgress),
            other => panic!("expected WriteInProgress, got {:?}", other.map(drop)),
        }
    }
    let results = group_of(
        &db,
        vec![
            ("a", succeed),
            ("b", succeed),
            ("nested", nested),
            ("c", succeed),
            ("d", succeed),
            ("nested_last", nested),
        ],
    );
    for (name, result, _) in results {
        if name.starts_with("nested") {
            assert!(
                result
                    .unwrap_err()
                    .contains("already holds the write transaction"),
                "{name}"
            );
        } else {
            assert_eq!(result, Ok(()), "{name}");
            assert_eq!(mark(&db, name), Some(name.to_string()));
        }
    }
}

#[test]
fn batch_and_update_callers_share_one_commit() {
    let (_dir, db) = file_db();
    let results = group_via(
        &db,
        vec![
            ("a", succeed, Via::Batch),
            ("b", succeed, Via::Update),
            ("c", succeed, Via::Batch),
            ("d", succeed, Via::Batch),
            ("e", succeed, Via::Update),
            ("f", succeed, Via::Batch),
        ],
    );
    for (name, result, runs) in results {
        assert_eq!(result, Ok(()), "{name}");
        assert_eq!(runs, 1, "{name} ran once: nothing failed");
        assert_eq!(mark(&db, name).as_deref(), Some(name));
    }
}

#[test]
fn a_batch_closure_that_asks_for_another_write_transaction_is_refused_not_hung() {
    // It runs on the thread that holds the write turn.
    let (_dir, db) = file_db();
    static NESTED: std::sync::OnceLock<Arc<Db>> = std::sync::OnceLock::new();
    NESTED.set(Arc::clone(&db)).ok();
    fn nested(_: &mut WriteTx) -> Result<(), Error> {
        match NESTED.get().unwrap().write_tx() {
            Err(Error::WriteInProgress) => Err(Error::WriteInProgress),
            other => panic!("expected WriteInProgress, got {:?}", other.map(drop)),
        }
    }
    fn nested_batch(_: &mut WriteTx) -> Result<(), Error> {
        NESTED.get().unwrap().batch(|_| Ok::<_, Error>(()))
    }
    let results = group_via(
        &db,
        vec![
            ("a", succeed, Via::Batch),
            ("nested", nested, Via::Batch),
            ("b", succeed, Via::Update),
            ("nested_batch", nested_batch, Via::Batch),
            ("nested_after_update", nested, Via::Batch),
        ],
    );
    for (name, result, _) in results {
        if name.starts_with("nested") {
            assert!(
                result
                    .unwrap_err()
                    .contains("already holds the write transaction"),
                "{name}"
            );
        } else {
            assert_eq!(result, Ok(()), "{name}");
        }
    }
}

#[test]
fn a_caller_alone_does_not_wait_for_company() {
    let (_dir, db) = file_db();
    // Warm up, then time single updates: each is one durable commit, with
    // no wait for others to join.
    db.update(|tx| {
        write(tx, &MARKS, "warm", &mut String::from("up"));
        Ok::<_, Error>(())
    })
    .unwrap();
    let start = Instant::now();
    for i in 0..20u64 {
        db.update(|tx| {
            write(tx, &COUNTERS, "alone", &mut i.clone());
            Ok::<_, Error>(())
        })
        .unwrap();
    }
    let per_update = start.elapsed() / 20;
    assert_eq!(db.commit_stats().commits, 21);
    // A durable commit here takes well under 50 ms; a timer-based batch
    // window would show up as a floor.
    assert!(per_update < Duration::from_millis(50), "{per_update:?}");
}

#[test]
fn without_group_commit_every_update_is_its_own_commit() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(
        Db::open_with(
            dir.path().join("alone.vbolt"),
            Options::new().group_commit(false),
        )
        .unwrap(),
    );
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let db = Arc::clone(&db);
            thread::spawn(move || {
                for i in 0..10u64 {
                    db.update(|tx| {
                        write(tx, &COUNTERS, format!("{t}-{i}"), &mut 1);
                        Ok::<_, Error>(())
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(
        db.commit_stats(),
        CommitStats {
            updates: 80,
            commits: 80
        }
    );
    let stored = db
        .view(|tx| Ok::<_, Error>(entries(tx, &COUNTERS).count()))
        .unwrap();
    assert_eq!(stored, 80);
}
