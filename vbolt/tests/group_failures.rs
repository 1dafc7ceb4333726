//! Group commit under a storm of failing closures: several threads write
//! through `Db::update` and `Db::batch` while some of their closures return
//! `Err`, panic, or fail their transaction. Each caller must get exactly
//! its own outcome: nobody else is refused (`WriteInProgress` or any other
//! error), every `Ok` is stored, and nothing that failed is.
//!
//! Runs on a file, in memory, and with `VBOLT_TEST_ENGINE=etcd` on a
//! 3-member etcd cluster (`cargo test -p vbolt --features etcd --test
//! group_failures` with that variable set).

mod backend;

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Barrier};
use std::thread;

use vbolt::*;

static WRITTEN: Bucket<String, u64> = Bucket::new("written", vpack::key::string_z(), vpack::uint);

/// The application's own error: vbolt's errors convert into it.
#[derive(Debug)]
enum AppError {
    Db(Error),
    Refused,
}

impl From<Error> for AppError {
    fn from(e: Error) -> AppError {
        AppError::Db(e)
    }
}

/// What the closure of call `i` of thread `t` does.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Act {
    Write,
    /// Writes, then returns the application's error.
    Refuse,
    /// Writes, then panics.
    Panic,
    /// Writes, then fails its transaction (a write under the zero key,
    /// which is refused).
    FailTx,
}

/// A fixed, scattered schedule: about 1% of calls of each failing kind.
fn act(t: usize, i: usize) -> Act {
    let h = (t as u64 * 1_000_003 + i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
    match h % 100 {
        0 => Act::Refuse,
        1 => Act::Panic,
        2 => Act::FailTx,
        _ => Act::Write,
    }
}

#[derive(Default, Debug)]
struct Tally {
    ok: usize,
    refused: usize,
    panicked: usize,
    failed_tx: usize,
    /// Anything else: these must not happen.
    wrong: Vec<String>,
}

#[derive(Clone, Copy)]
enum Via {
    Update,
    Batch,
}

fn key(t: usize, i: usize) -> String {
    format!("t{t}-{i:05}")
}

fn body(t: usize, i: usize) -> impl FnMut(&mut WriteTx) -> Result<u64, AppError> + Send + 'static {
    move |tx: &mut WriteTx| {
        let k = key(t, i);
        write(tx, &WRITTEN, &k, &mut (i as u64));
        match act(t, i) {
            Act::Write => Ok(i as u64),
            Act::Refuse => Err(AppError::Refused),
            Act::Panic => panic!("closure {k} panics on purpose"),
            Act::FailTx => {
                write(tx, &WRITTEN, String::new(), &mut 0);
                Ok(i as u64)
            }
        }
    }
}

/// Runs `threads` x `rounds` calls (each thread through `via(t)`) and
/// checks every outcome against the store.
fn storm(db: Arc<Db>, threads: usize, rounds: usize, via: fn(usize) -> Via) {
    // Keep the deliberate panics' messages out of the test output.
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let on_purpose = info
            .payload()
            .downcast_ref::<String>()
            .is_some_and(|m| m.contains("on purpose"));
        if !on_purpose {
            quiet(info);
        }
    }));
    let start = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (db, start) = (Arc::clone(&db), Arc::clone(&start));
            thread::spawn(move || {
                start.wait();
                let mut tally = Tally::default();
                let mut outcomes = Vec::with_capacity(rounds);
                for i in 0..rounds {
                    let call = AssertUnwindSafe(|| match via(t) {
                        Via::Update => db.update(body(t, i)),
                        Via::Batch => db.batch(body(t, i)),
                    });
                    let outcome = match catch_unwind(call) {
                        Ok(Ok(v)) => {
                            assert_eq!(v, i as u64);
                            tally.ok += 1;
                            Act::Write
                        }
                        Ok(Err(AppError::Refused)) => {
                            tally.refused += 1;
                            Act::Refuse
                        }
                        Ok(Err(AppError::Db(Error::ZeroKey { .. }))) => {
                            tally.failed_tx += 1;
                            Act::FailTx
                        }
                        Ok(Err(AppError::Db(e))) => {
                            tally.wrong.push(format!("{}: {e}", key(t, i)));
                            Act::Refuse
                        }
                        Err(_) => {
                            tally.panicked += 1;
                            Act::Panic
                        }
                    };
                    outcomes.push(outcome);
                }
                (tally, outcomes)
            })
        })
        .collect();
    let results: Vec<(Tally, Vec<Act>)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let _ = std::panic::take_hook();

    let stored: BTreeMap<String, u64> = db
        .view(|tx| entries(tx, &WRITTEN).collect::<Result<_, _>>())
        .unwrap();
    let mut total = Tally::default();
    for (t, (tally, outcomes)) in results.iter().enumerate() {
        assert!(
            tally.wrong.is_empty(),
            "thread {t}: {} calls failed that should not have, e.g. {:?} ({tally:?})",
            tally.wrong.len(),
            &tally.wrong[..tally.wrong.len().min(3)]
        );
        for (i, outcome) in outcomes.iter().enumerate() {
            // Each caller got what its own closure asked for...
            assert_eq!(
                *outcome,
                act(t, i),
                "call {} got another's outcome",
                key(t, i)
            );
            // ...and exactly the calls that returned Ok are stored.
            let there = stored.get(&key(t, i)) == Some(&(i as u64));
            assert_eq!(
                there,
                *outcome == Act::Write,
                "call {}: stored {there}",
                key(t, i)
            );
        }
        total.ok += tally.ok;
        total.refused += tally.refused;
        total.panicked += tally.panicked;
        total.failed_tx += tally.failed_tx;
    }
    assert_eq!(stored.len(), total.ok);
    assert!(total.refused > 0 && total.panicked > 0 && total.failed_tx > 0);
    let report = check(&db).unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
    eprintln!(
        "{threads} threads x {rounds}: {} ok, {} refused by their closure, {} panicked, \
         {} failed their transaction, 0 others; {:?}",
        total.ok,
        total.refused,
        total.panicked,
        total.failed_tx,
        db.commit_stats()
    );
}

fn updates(_: usize) -> Via {
    Via::Update
}

fn batches(_: usize) -> Via {
    Via::Batch
}

fn mixed(t: usize) -> Via {
    if t.is_multiple_of(2) {
        Via::Batch
    } else {
        Via::Update
    }
}

/// How many calls each thread makes: fewer on a cluster, where each commit
/// is a network round trip through a quorum.
fn rounds(on_file: usize) -> usize {
    match std::env::var("VBOLT_TEST_ENGINE").as_deref() {
        Ok("etcd") => on_file / 10,
        _ => on_file,
    }
}

fn file_db() -> (tempfile::TempDir, Arc<Db>) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path().join("storm.vbolt")).unwrap();
    (dir, Arc::new(db))
}

#[test]
fn failing_update_closures_on_a_file_fail_only_their_callers() {
    let (_dir, db) = file_db();
    storm(db, 4, 1500, updates);
}

#[test]
fn failing_batch_closures_on_a_file_fail_only_their_callers() {
    let (_dir, db) = file_db();
    storm(db, 4, 1500, batches);
}

#[test]
fn failing_closures_of_both_kinds_fail_only_their_callers() {
    storm(Arc::new(backend::test_db()), 4, rounds(3000), mixed);
}

#[test]
fn failing_update_closures_fail_only_their_callers() {
    storm(Arc::new(backend::test_db()), 4, rounds(3000), updates);
}

/// An application error that counts how often vbolt's errors are
/// converted into it (an application whose conversion logs would log each).
#[derive(Debug)]
struct Counted;

static CONVERSIONS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl From<Error> for Counted {
    fn from(_: Error) -> Counted {
        CONVERSIONS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Counted
    }
}

#[test]
fn successful_batches_build_no_error() {
    let (_dir, db) = file_db();
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let db = Arc::clone(&db);
            thread::spawn(move || {
                for i in 0..50 {
                    db.batch(move |tx| {
                        write(tx, &WRITTEN, key(t, i), &mut 1);
                        Ok::<_, Counted>(())
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let stats = db.commit_stats();
    assert!(
        stats.commits < stats.updates,
        "no batch joined a group: {stats:?}"
    );
    assert_eq!(CONVERSIONS.load(std::sync::atomic::Ordering::SeqCst), 0);
}
