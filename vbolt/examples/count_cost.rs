//! What an index count costs through vbolt against the same lookup written
//! by hand on redb, timed in one process with the two forms alternating,
//! so both see the same machine at the same moment.
//!
//! Both files hold the benchmark's counts table: 100 categories, their
//! counts stored under the category's 8 big-endian bytes, with vbolt's
//! engine key type on both sides. Each round reads `--counts N` counts
//! (default 200,000) of the same random categories through each form, the
//! first form alternating from round to round; the program prints each
//! form's median nanoseconds per count over `--rounds R` (default 21) and
//! the range of the per-round ratios.
//!
//! ```sh
//! cargo run --release -p vbolt --example count_cost
//! # instructions per count, each form alone:
//! for f in vbolt_counts raw_counts; do
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null --toggle-collect="*count_cost::$f" \
//!     target/release/examples/count_cost --rounds 1 --counts 10000 2>&1 | grep -o 'Collected : [0-9]*' | sed "s/^/$f /"
//! done
//! # cache and branch behaviour (perf counts both forms together; compare
//! # with one form by editing `FORMS`):
//! perf stat -e instructions,cycles,branch-misses,L1-dcache-load-misses target/release/examples/count_cost
//! ```

use std::hint::black_box;
use std::time::Instant;

use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use vbolt::*;

static CAT_ART: Index<i64, i64, i64> = Index::with_priority(
    "cat_art",
    vpack::key::fint_non_negative(),
    vpack::key::fint_non_negative(),
    vpack::key::fint_ord(),
);
const RAW_COUNTS: TableDefinition<EngineKey, &[u8]> = TableDefinition::new("cat_art_counts");

const CATEGORIES: i64 = 100;
const ARTICLES: i64 = 20_000;

/// A small deterministic generator (xorshift), so every run reads the same
/// categories.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn category(&mut self) -> i64 {
        1 + (self.next() % CATEGORIES as u64) as i64
    }
}

#[inline(never)]
fn vbolt_counts(db: &Db, cats: &[i64]) -> u64 {
    let tx = db.read_tx().unwrap();
    cats.iter()
        .map(|c| read_term_count(&tx, &CAT_ART, c).unwrap() as u64)
        .sum()
}

#[inline(never)]
fn raw_counts(db: &redb::Database, cats: &[i64]) -> u64 {
    let txn = db.begin_read().unwrap();
    let counts = txn.open_table(RAW_COUNTS).unwrap();
    cats.iter()
        .map(|c| {
            let v = counts.get(&c.to_be_bytes()[..]).unwrap();
            v.map_or(0, |v| u64::from_be_bytes(v.value().try_into().unwrap()))
        })
        .sum()
}

fn arg(args: &[String], name: &str, default: usize) -> usize {
    match args.iter().position(|a| a == name) {
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} needs a number")),
        None => default,
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let rounds = arg(&args, "--rounds", 21).max(1);
    let n = arg(&args, "--counts", 200_000);

    let dir = tempfile::tempdir_in(".")?;
    let db = Db::open(dir.path().join("vbolt.db"))?;
    let raw = redb::Database::create(dir.path().join("raw.redb"))?;

    // The same counts on both sides: each article in three categories.
    let mut rng = Rng(0x5EED_C0DE);
    let mut expected = [0u64; CATEGORIES as usize + 1];
    db.update(|tx| {
        for id in 1..=ARTICLES {
            let mut cats = Vec::with_capacity(3);
            while cats.len() < 3 {
                let c = rng.category();
                if !cats.contains(&c) {
                    cats.push(c);
                }
            }
            for &c in &cats {
                expected[c as usize] += 1;
            }
            set_target_terms_uniform(tx, &CAT_ART, id, cats, id);
        }
        Ok::<_, Error>(())
    })?;
    let w = raw.begin_write()?;
    {
        let mut t = w.open_table(RAW_COUNTS)?;
        for c in 1..=CATEGORIES {
            t.insert(
                &c.to_be_bytes()[..],
                &expected[c as usize].to_be_bytes()[..],
            )?;
        }
    }
    w.commit()?;

    let cats: Vec<i64> = (0..n).map(|_| rng.category()).collect();
    let sum = vbolt_counts(&db, &cats);
    assert_eq!(sum, raw_counts(&raw, &cats), "the two forms disagree");

    let (mut ours, mut theirs, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let time = |vbolt: bool| {
            let start = Instant::now();
            let s = if vbolt {
                vbolt_counts(&db, black_box(&cats))
            } else {
                raw_counts(&raw, black_box(&cats))
            };
            assert_eq!(s, sum);
            start.elapsed().as_nanos() as f64 / n as f64
        };
        let (a, b) = if round % 2 == 0 {
            let a = time(true);
            (a, time(false))
        } else {
            let b = time(false);
            (time(true), b)
        };
        ours.push(a);
        theirs.push(b);
        ratios.push(a / b);
    }
    let (v, r) = (median(&mut ours), median(&mut theirs));
    let lo = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = ratios.iter().copied().fold(0.0, f64::max);
    println!(
        "ns per count, median of {rounds} rounds of {n}: vbolt {v:.1}, raw redb {r:.1}; \
         vbolt/raw {:.3} (median of the per-round ratios {:.3}, range {lo:.3}-{hi:.3})",
        v / r,
        median(&mut ratios),
    );
    Ok(())
}
