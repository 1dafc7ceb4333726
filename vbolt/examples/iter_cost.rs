//! Instructions per entry of the iterators against the callback forms, on
//! the same data as `benches/iterate.rs` (10,000 entries): a whole bucket,
//! a whole term, and one 30-target page.
//!
//! Each form runs in a function of its own, so callgrind can count it
//! alone; the counts repeat exactly from run to run:
//!
//! ```sh
//! cargo build --release -p vbolt --example iter_cost
//! for f in bucket_callback bucket_iterator term_callback term_iterator page_callback page_iterator; do
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null --toggle-collect="*iter_cost::$f" \
//!     target/release/examples/iter_cost 2>&1 | grep -o 'Collected : [0-9]*' | sed "s/^/$f /"
//! done
//! ```
//!
//! Every form runs 10 times (pages: 1,000 times); divide by 100,000 entries
//! (30,000 for pages). Without valgrind the program prints the time each
//! form took. `--only NAME --repeat N` runs one form N times, for
//! `perf stat -e cycles,instructions,branch-misses,L1-dcache-load-misses`
//! of each form alone (the load, common to all, is in every count).

use std::hint::black_box;
use std::time::Instant;

use vbolt::*;

static NUMS: Bucket<u64, u64> = Bucket::new("nums", vpack::key::fuint(), vpack::uint);
static BY_CAT: Index<u64, u64, i64> = Index::with_priority(
    "by_cat",
    vpack::key::fuint(),
    vpack::key::fuint(),
    vpack::key::fint_ord(),
);

const N: u64 = 10_000;
const WALKS: usize = 10;
const PAGES: usize = 1_000;

#[inline(never)]
fn bucket_callback(tx: &ReadTx) -> u64 {
    let mut sum = 0u64;
    for _ in 0..WALKS {
        iterate_all(tx, &NUMS, |_, v| {
            sum = sum.wrapping_add(v);
            true
        })
        .unwrap();
    }
    sum
}

#[inline(never)]
fn bucket_iterator(tx: &ReadTx) -> u64 {
    let mut sum = 0u64;
    for _ in 0..WALKS {
        sum = entries(tx, &NUMS)
            .try_fold(sum, |sum, e| e.map(|(_, v)| sum.wrapping_add(v)))
            .unwrap();
    }
    sum
}

#[inline(never)]
fn term_callback(tx: &ReadTx) -> u64 {
    let mut sum = 0u64;
    for _ in 0..WALKS {
        iterate_term(tx, &BY_CAT, 1, &Window::new(), |k, _| {
            sum = sum.wrapping_add(k);
            true
        })
        .unwrap();
    }
    sum
}

#[inline(never)]
fn term_iterator(tx: &ReadTx) -> u64 {
    let mut sum = 0u64;
    for _ in 0..WALKS {
        sum = term_targets(tx, &BY_CAT, 1, &Window::new())
            .try_fold(sum, |sum, e| e.map(|(k, _)| sum.wrapping_add(k)))
            .unwrap();
    }
    sum
}

#[inline(never)]
fn page_callback(tx: &ReadTx) -> u64 {
    let mut sum = 0u64;
    let w = Window::new().limit(30).reverse();
    for _ in 0..PAGES {
        iterate_term(tx, &BY_CAT, 1, &w, |k, _| {
            sum = sum.wrapping_add(k);
            true
        })
        .unwrap();
    }
    sum
}

#[inline(never)]
fn page_iterator(tx: &ReadTx) -> u64 {
    let mut sum = 0u64;
    let w = Window::new().limit(30).reverse();
    for _ in 0..PAGES {
        sum = term_targets(tx, &BY_CAT, 1, &w)
            .try_fold(sum, |sum, e| e.map(|(k, _)| sum.wrapping_add(k)))
            .unwrap();
    }
    sum
}

fn main() -> Result<(), Error> {
    let db = Db::in_memory()?;
    db.update(|tx| {
        for i in 1..=N {
            write(tx, &NUMS, i, &mut (i * 7));
            set_target_single_term_ext(tx, &BY_CAT, i, 1, i as i64);
        }
        Ok::<_, Error>(())
    })?;
    let tx = db.read_tx()?;
    type Form = fn(&ReadTx) -> u64;
    let forms: [(&str, Form, usize); 6] = [
        ("bucket_callback", bucket_callback, WALKS * N as usize),
        ("bucket_iterator", bucket_iterator, WALKS * N as usize),
        ("term_callback", term_callback, WALKS * N as usize),
        ("term_iterator", term_iterator, WALKS * N as usize),
        ("page_callback", page_callback, PAGES * 30),
        ("page_iterator", page_iterator, PAGES * 30),
    ];
    // `--only NAME` runs one form, `--repeat N` runs it N times, e.g. for
    // `perf stat` of each form alone.
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
    };
    let only = flag("--only");
    let repeat: usize = flag("--repeat").and_then(|n| n.parse().ok()).unwrap_or(1);
    for (name, form, entries) in forms {
        if only.is_some_and(|o| o != name) {
            continue;
        }
        let start = Instant::now();
        for _ in 0..repeat {
            black_box(form(black_box(&tx)));
        }
        let entries = entries * repeat;
        let ns = start.elapsed().as_nanos() as f64 / entries as f64;
        println!("{name:16} {ns:6.1} ns per entry");
    }
    Ok(())
}
