//! What commit notifications cost a small commit: the same commits with no
//! subscription and with 1,000 live ones, side by side in one run.
//!
//! Each commit writes one record and sets its three index terms (the
//! articles benchmark's small commit). 1,000 subscriptions watch the 100
//! terms (ten per term, so a commit wakes about thirty) and a key each;
//! nobody drains them, so every commit also pays for coalescing.
//!
//! ```sh
//! cargo run --release -p vbolt --example notify_cost            # durable commits
//! cargo run --release -p vbolt --example notify_cost -- --no-sync
//! ```
//!
//! With `--no-sync` the commits skip the fsync, which leaves the CPU cost
//! that notifications add; durable, the disk's variance dominates. Rounds
//! alternate between the two setups, and the median round is printed.
//!
//! For instruction counts (repeatable, whatever else the machine does):
//! `valgrind --tool=callgrind --toggle-collect='*notify_cost::commits*'
//! target/release/examples/notify_cost -- --no-sync --rounds 1 --only N`
//! with N = 0 or 1000.

use std::time::Instant;

use vbolt::{Bucket, Db, Durability, Error, Index, Options, Subscription, Topic};

static RECORDS: Bucket<u64, Vec<u8>> = Bucket::new("records", vpack::key::fuint(), vpack::bytes);
static TERMS: Index<u64, u64, i64> = Index::with_priority(
    "terms",
    vpack::key::fuint(),
    vpack::key::fuint(),
    vpack::key::fint_ord(),
);

const COMMITS: u64 = 2000;

/// `COMMITS` small commits from id `first`; seconds per commit.
#[inline(never)]
fn commits(db: &Db, first: u64) -> f64 {
    let start = Instant::now();
    for id in first..first + COMMITS {
        db.update(|tx| {
            vbolt::write(tx, &RECORDS, id, &mut vec![7u8; 600]);
            let terms = [1 + id % 100, 1 + (id * 7) % 100, 1 + (id * 13) % 100];
            vbolt::set_target_terms_uniform(tx, &TERMS, id, terms, id as i64);
            Ok::<_, Error>(())
        })
        .unwrap();
    }
    start.elapsed().as_secs_f64() / COMMITS as f64
}

fn subscribe(db: &Db, n: u64) -> Vec<Subscription> {
    (0..n)
        .map(|i| {
            db.subscribe([
                Topic::term(&TERMS, 1 + i % 100).unwrap(),
                Topic::key(&RECORDS, 1_000_000_000 + i).unwrap(),
            ])
        })
        .collect()
}

fn main() {
    let mut sync = true;
    let mut rounds = 5;
    let mut only: Option<u64> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--no-sync" => sync = false,
            "--rounds" => {
                rounds = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--rounds N")
            }
            "--only" => only = args.next().and_then(|n| n.parse().ok()),
            other => panic!("unknown argument {other:?}"),
        }
    }
    let setups: Vec<u64> = only.map_or(vec![0, 1000], |n| vec![n]);
    let dir = tempfile::tempdir().unwrap();
    let durability = if sync {
        Durability::Immediate
    } else {
        Durability::None
    };
    let dbs: Vec<(u64, Db, Vec<Subscription>)> = setups
        .iter()
        .map(|&n| {
            let path = dir.path().join(format!("subs-{n}.vbolt"));
            let db = Db::open_with(path, Options::new().durability(durability)).unwrap();
            let subs = subscribe(&db, n);
            (n, db, subs)
        })
        .collect();
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); dbs.len()];
    for round in 0..rounds {
        for (i, (_, db, _)) in dbs.iter().enumerate() {
            times[i].push(commits(db, 1 + round as u64 * COMMITS));
        }
    }
    println!(
        "small commits ({}), {COMMITS} per round, median of {rounds} rounds:",
        if sync { "durable" } else { "no fsync" }
    );
    for ((n, _, subs), mut t) in dbs.iter().zip(times) {
        t.sort_by(f64::total_cmp);
        let pending = subs
            .iter()
            .filter(|s| s.try_recv().is_ok_and(|c| c.is_some()))
            .count();
        println!(
            "  {n:>5} subscriptions: {:>7.2} µs per commit (rounds {:.2}–{:.2}); {pending} woken",
            t[t.len() / 2] * 1e6,
            t[0] * 1e6,
            t[t.len() - 1] * 1e6,
        );
    }
}
