//! Where a small durable commit's time goes on a large database: loads
//! `--articles N` records shaped like the benchmark's (a 500-byte body,
//! three of 100 categories, indexed by publication time), then makes
//! `--commits C` durable updates of one new record each, from `--writers W`
//! threads (default 1), and prints their rate, median and 99th-percentile
//! latency, and how many updates each commit carried (group commit).
//! `--no-sync` skips every fsync, leaving what the commits cost the CPU;
//! `--no-group` turns group commit off. `--batch B` makes each update
//! write B records (one writer with `--batch 16` is what 16 writers'
//! group commit would be with no hand-over between threads; latencies are
//! then per update of B). `--owned` writes through `Db::batch` (a closure
//! that owns its records, run by whichever thread holds the group's
//! transaction) instead of `Db::update`. `--wal` commits through the
//! write-ahead log (`Options::write_ahead_log`); the slowest update then
//! shows what a checkpoint costs the commit that makes it.
//!
//! ```sh
//! cargo run --release -p vbolt --example write_cost -- --articles 1000000
//! # the commits alone, profiled (the load runs first, unrecorded):
//! perf record -g --delay 60000 target/release/examples/write_cost --articles 1000000 --commits 20000
//! ```

use std::time::Instant;

use vbolt::*;
use vpack::Pack;

#[derive(Pack, Clone)]
#[pack(version = 1)]
struct Record {
    id: i64,
    author: i64,
    published: i64,
    categories: Vec<i64>,
    title: String,
    body: String,
}

static RECORDS: Bucket<i64, Record> =
    Bucket::new("records", vpack::key::fint_non_negative(), Record::pack);
static BY_CATEGORY: Index<i64, i64, i64> = Index::with_priority(
    "by_category",
    vpack::key::fint_non_negative(),
    vpack::key::fint_non_negative(),
    vpack::key::fint_non_negative(),
);

fn record(id: i64) -> Record {
    let mut x = (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut categories = Vec::with_capacity(3);
    while categories.len() < 3 {
        let c = 1 + (next() % 100) as i64;
        if !categories.contains(&c) {
            categories.push(c);
        }
    }
    Record {
        id,
        author: 1 + (next() % 5000) as i64,
        published: 1_700_000_000 + id * 60,
        categories,
        title: "t".repeat(40),
        body: "lorem ipsum ".repeat(42),
    }
}

fn put(tx: &mut WriteTx, r: &Record) {
    write(tx, &RECORDS, r.id, &mut r.clone());
    set_target_terms_uniform(tx, &BY_CATEGORY, r.id, &r.categories, r.published);
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse().expect("a number"))
        .unwrap_or(default)
}

fn main() -> Result<(), Error> {
    let articles = arg("--articles", 1_000_000) as i64;
    let commits = arg("--commits", 3_000) as i64;
    let dir = tempfile::tempdir_in(".").expect("a temporary directory");
    let durability = if std::env::args().any(|a| a == "--no-sync") {
        Durability::None
    } else {
        Durability::Immediate
    };
    let grouped = !std::env::args().any(|a| a == "--no-group");
    let wal = std::env::args().any(|a| a == "--wal");
    let db = Db::open_with(
        dir.path().join("write_cost.vbolt"),
        Options::new()
            .durability(durability)
            .group_commit(grouped)
            .write_ahead_log(wal),
    )?;
    let start = Instant::now();
    for first in (1..=articles).step_by(1000) {
        db.update(|tx| {
            for id in first..(first + 1000).min(articles + 1) {
                put(tx, &record(id));
            }
            Ok::<_, Error>(())
        })?;
    }
    eprintln!(
        "loaded {articles} in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let writers = arg("--writers", 1) as i64;
    let batch = arg("--batch", 1).max(1) as i64;
    let owned = std::env::args().any(|a| a == "--owned");
    let before = db.commit_stats();
    let start = Instant::now();
    let mut lat: Vec<u64> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..writers)
            .map(|w| {
                let db = &db;
                s.spawn(move || -> Result<Vec<u64>, Error> {
                    let mut lat = Vec::new();
                    let mut id = articles + 1 + w;
                    while id <= articles + commits {
                        let rs: Vec<Record> = (0..batch)
                            .map(|i| id + i * writers)
                            .take_while(|&id| id <= articles + commits)
                            .map(record)
                            .collect();
                        let t = Instant::now();
                        if owned {
                            db.batch(move |tx| {
                                for r in &rs {
                                    put(tx, r);
                                }
                                Ok::<_, Error>(())
                            })?;
                        } else {
                            db.update(|tx| {
                                for r in &rs {
                                    put(tx, r);
                                }
                                Ok::<_, Error>(())
                            })?;
                        }
                        lat.push(t.elapsed().as_micros() as u64);
                        id += writers * batch;
                    }
                    Ok(lat)
                })
            })
            .collect();
        let mut all = Vec::new();
        for t in threads {
            all.extend(t.join().expect("a writer thread")?);
        }
        Ok::<_, Error>(all)
    })?;
    let secs = start.elapsed().as_secs_f64();
    let after = db.commit_stats();
    lat.sort_unstable();
    let at = |q: f64| lat[((lat.len() - 1) as f64 * q) as usize];
    println!(
        "{commits} records written by {writers} writers, {batch} per update, after {articles}: \
         {:.0} records/s, p50 {} µs, p99 {} µs, p99.9 {} µs, slowest {} µs per update, \
         {:.1} updates per commit",
        commits as f64 / secs,
        at(0.5),
        at(0.99),
        at(0.999),
        at(1.0),
        (after.updates - before.updates) as f64 / (after.commits - before.commits).max(1) as f64,
    );
    Ok(())
}
