//! Commit notifications: who is woken, when, and what a slow, dropped or
//! orphaned subscription costs.

use std::future::Future;
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::Duration;

use vbolt::*;

static NAMES: Bucket<u64, String> = Bucket::new("names", vpack::key::fuint(), vpack::string);
static TAGS: Index<String, u64, i64> = Index::with_priority(
    "tags",
    vpack::key::string_z(),
    vpack::key::fuint(),
    vpack::key::fint_ord(),
);

const WAIT: Duration = Duration::from_secs(20);

fn set_name(db: &Db, id: u64, name: &str) {
    db.update(|tx| {
        write(tx, &NAMES, id, &mut name.to_string());
        Ok::<_, Error>(())
    })
    .unwrap();
}

fn tag(db: &Db, id: u64, tags: &[(&str, i64)]) {
    db.update(|tx| {
        set_target_terms(tx, &TAGS, id, tags.iter().map(|(t, p)| (*t, p)));
        Ok::<_, Error>(())
    })
    .unwrap();
}

/// The topics that fired, or `[]` when nothing is waiting.
fn fired(sub: &Subscription) -> Vec<usize> {
    sub.try_recv()
        .unwrap()
        .map_or_else(Vec::new, |c| c.topics().to_vec())
}

#[test]
fn a_key_topic_fires_on_write_and_delete_of_that_key_only() {
    let db = Db::in_memory().unwrap();
    let sub = db.subscribe([
        Topic::key(&NAMES, 1).unwrap(),
        Topic::key(&NAMES, 2).unwrap(),
    ]);
    set_name(&db, 3, "other");
    assert_eq!(fired(&sub), [] as [usize; 0]);
    set_name(&db, 2, "bo");
    assert_eq!(fired(&sub), [1]);
    db.update(|tx| {
        delete(tx, &NAMES, 1);
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(fired(&sub), [0]);
}

#[test]
fn a_term_topic_fires_when_the_term_gains_loses_or_moves_a_target() {
    let db = Db::in_memory().unwrap();
    let sub = db.subscribe([Topic::term(&TAGS, "rust").unwrap()]);
    tag(&db, 1, &[("go", 1)]);
    assert_eq!(fired(&sub), [] as [usize; 0], "another term");
    tag(&db, 1, &[("go", 1), ("rust", 1)]);
    assert_eq!(fired(&sub), [0], "gained a target");
    tag(&db, 1, &[("go", 2), ("rust", 1)]);
    assert_eq!(fired(&sub), [] as [usize; 0], "same pair, unchanged");
    tag(&db, 1, &[("go", 2), ("rust", 5)]);
    assert_eq!(fired(&sub), [0], "priority changed");
    tag(&db, 1, &[("go", 2)]);
    assert_eq!(fired(&sub), [0], "lost the target");
}

#[test]
fn whole_table_topics_fire_on_any_key() {
    let db = Db::in_memory().unwrap();
    let sub = db.subscribe([Topic::bucket(&NAMES), Topic::index(&TAGS)]);
    set_name(&db, 77, "x");
    assert_eq!(fired(&sub), [0]);
    tag(&db, 5, &[("anything", 0)]);
    assert_eq!(fired(&sub), [1]);
}

#[test]
fn rolled_back_and_failed_transactions_wake_nobody() {
    let db = Db::in_memory().unwrap();
    let sub = db.subscribe([Topic::key(&NAMES, 1).unwrap()]);

    let mut tx = db.write_tx().unwrap();
    write(&mut tx, &NAMES, 1, &mut "dropped".to_string());
    drop(tx);

    let refused: Result<(), Error> = db.update(|tx| {
        write(tx, &NAMES, 1, &mut "refused".to_string());
        Err(Error::Unsupported("the closure said no"))
    });
    assert!(refused.is_err());

    let mut tx = db.write_tx().unwrap();
    write(&mut tx, &NAMES, 1, &mut "failed".to_string());
    write(&mut tx, &NAMES, 0, &mut "zero key".to_string());
    assert!(tx.commit().is_err());

    assert_eq!(sub.try_recv(), Ok(None));
    set_name(&db, 1, "kept");
    assert_eq!(fired(&sub), [0]);
}

#[test]
fn a_woken_reader_sees_the_commit() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Db::open(dir.path().join("n.vbolt")).unwrap());
    let sub = db.subscribe([Topic::key(&NAMES, 1).unwrap()]);
    let writer = {
        let db = db.clone();
        thread::spawn(move || {
            for i in 0..200u64 {
                set_name(&db, 1, &i.to_string());
            }
        })
    };
    let mut seen = 0;
    while seen < 199 {
        sub.recv_timeout(WAIT)
            .unwrap()
            .expect("a commit within the wait");
        let now: u64 = db
            .view(|tx| get(tx, &NAMES, 1))
            .unwrap()
            .unwrap()
            .parse()
            .unwrap();
        assert!(now >= seen, "went back from {seen} to {now}");
        seen = now;
    }
    writer.join().unwrap();
}

#[test]
fn a_subscriber_that_never_looks_coalesces_and_blocks_nothing() {
    let db = Db::in_memory().unwrap();
    let sub = db.subscribe([
        Topic::key(&NAMES, 1).unwrap(),
        Topic::key(&NAMES, 2).unwrap(),
    ]);
    for i in 0..10_000u64 {
        set_name(&db, 1 + i % 2, "n");
    }
    let changes = sub.try_recv().unwrap().unwrap();
    assert_eq!(changes.commits(), 10_000);
    assert_eq!(changes.topics(), [0, 1]);
    assert!(changes.contains(1) && !changes.contains(2));
    assert_eq!(sub.try_recv(), Ok(None));
}

#[test]
fn dropping_the_database_closes_every_subscription_after_its_changes() {
    let db = Db::in_memory().unwrap();
    let sub = db.subscribe([Topic::key(&NAMES, 1).unwrap()]);
    let waiting = {
        let sub2 = db.subscribe([Topic::key(&NAMES, 2).unwrap()]);
        thread::spawn(move || sub2.recv())
    };
    set_name(&db, 1, "last");
    drop(db);
    assert_eq!(sub.recv().map(|c| c.commits()), Ok(1), "pending first");
    assert_eq!(sub.recv(), Err(Closed));
    assert_eq!(waiting.join().unwrap(), Err(Closed));
}

#[test]
fn a_dropped_subscription_is_gone_and_others_stay() {
    let db = Db::in_memory().unwrap();
    let kept = db.subscribe([Topic::key(&NAMES, 1).unwrap()]);
    for _ in 0..1000 {
        drop(db.subscribe([Topic::key(&NAMES, 1).unwrap(), Topic::bucket(&NAMES)]));
    }
    set_name(&db, 1, "x");
    assert_eq!(fired(&kept), [0]);
}

#[test]
fn a_subscription_made_while_a_writer_runs_is_not_missed() {
    // The writer began before anybody watched, so it recorded nothing; its
    // commit must still wake the new subscriber (with every topic).
    let db = Db::in_memory().unwrap();
    let mut tx = db.write_tx().unwrap();
    write(&mut tx, &NAMES, 1, &mut "early".to_string());
    let sub = db.subscribe([
        Topic::key(&NAMES, 1).unwrap(),
        Topic::key(&NAMES, 9).unwrap(),
    ]);
    tx.commit().unwrap();
    assert_eq!(fired(&sub), [0, 1]);
}

#[test]
fn a_huge_transaction_wakes_everybody() {
    let db = Db::in_memory().unwrap();
    let sub = db.subscribe([Topic::key(&NAMES, 1_000_000).unwrap(), Topic::index(&TAGS)]);
    db.update(|tx| {
        for i in 1..=5000u64 {
            write(tx, &NAMES, i, &mut "bulk".to_string());
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(fired(&sub), [0, 1]);
}

#[test]
fn rebuilding_an_index_fires_its_terms() {
    let db = Db::in_memory().unwrap();
    set_name(&db, 1, "ann");
    let sub = db.subscribe([Topic::term(&TAGS, "a").unwrap()]);
    rebuild_index(&db, &TAGS, &NAMES, 100, |_, _, _| {}, |_| {}).unwrap();
    assert_eq!(fired(&sub), [0]);
}

#[test]
fn grouped_commits_wake_each_writer_subscription() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Db::open(dir.path().join("g.vbolt")).unwrap());
    let threads = 8u64;
    let subs: Vec<_> = (1..=threads)
        .map(|t| db.subscribe([Topic::key(&NAMES, t).unwrap()]))
        .collect();
    let start = Arc::new(Barrier::new(threads as usize));
    let handles: Vec<_> = (1..=threads)
        .map(|t| {
            let (db, start) = (db.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                for _ in 0..50 {
                    set_name(&db, t, "w");
                }
            })
        })
        .collect();
    handles.into_iter().for_each(|h| h.join().unwrap());
    for sub in &subs {
        let c = sub.try_recv().unwrap().expect("woken");
        assert_eq!(c.topics(), [0]);
        assert!((1..=50).contains(&c.commits()), "{c:?}");
    }
    assert!(db.commit_stats().commits <= 400);
}

#[test]
fn a_failed_group_member_wakes_nobody_for_its_writes() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Db::open(dir.path().join("g.vbolt")).unwrap());
    let failing = db.subscribe([Topic::key(&NAMES, 666).unwrap()]);
    let threads = 8;
    let start = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads as u64)
        .map(|t| {
            let (db, start) = (db.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                for _ in 0..50 {
                    let _ = db.update(|tx| {
                        write(tx, &NAMES, 100 + t, &mut "ok".to_string());
                        if t == 0 {
                            write(tx, &NAMES, 666, &mut "never".to_string());
                            return Err(Error::Unsupported("refused"));
                        }
                        Ok(())
                    });
                }
            })
        })
        .collect();
    handles.into_iter().for_each(|h| h.join().unwrap());
    assert_eq!(failing.try_recv(), Ok(None));
}

/// A minimal executor: polls a future on this thread, parking between polls.
fn block_on<F: Future>(f: F) -> F::Output {
    struct Unpark(thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        thread::park();
    }
}

#[test]
fn the_async_receiver_is_woken_by_a_commit_on_another_thread() {
    let db = Arc::new(Db::in_memory().unwrap());
    let sub = db.subscribe([Topic::key(&NAMES, 1).unwrap()]);
    for round in 1..=20u64 {
        let writer = {
            let db = db.clone();
            thread::spawn(move || {
                thread::sleep(Duration::from_millis(2));
                set_name(&db, 1, &round.to_string());
            })
        };
        let changes = block_on(sub.changed()).unwrap();
        assert_eq!(changes.topics(), [0]);
        assert_eq!(
            db.view(|tx| get(tx, &NAMES, 1)).unwrap(),
            Some(round.to_string())
        );
        writer.join().unwrap();
    }
}

#[test]
fn zero_keys_are_refused_as_topics_and_zero_terms_are_watched() {
    assert!(matches!(
        Topic::key(&NAMES, 0),
        Err(Error::ZeroKey { table: "names" })
    ));
    // An index stores the zero term like any other, so it can be watched.
    let db = Db::in_memory().unwrap();
    let empty = db.subscribe([Topic::term(&TAGS, "").unwrap()]);
    db.update(|tx| {
        set_target_single_term(tx, &TAGS, 1, "");
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(db.view(|tx| read_term_count(tx, &TAGS, "")).unwrap(), 1);
    assert_eq!(empty.try_recv().unwrap().map(|c| c.commits()), Some(1));
    let topic = Topic::term(&TAGS, "rust").unwrap();
    assert_eq!(topic.table(), "tags");
    assert_eq!(format!("{topic:?}"), "Topic(index \"tags\" 7275737400)");
}
