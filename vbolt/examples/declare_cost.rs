//! What declaring by type costs at open: `ensure_buckets` for the same
//! twelve tables declared with hand-written pack functions (no
//! description) and by type (`Bucket::of`, `Index::of`: described, recorded
//! in the catalog and compared with it on every later open), side by side
//! in one run; and with strict index links on, what a small commit pays.
//!
//! ```sh
//! cargo run --release -p vbolt --example declare_cost
//! ```
//!
//! Each round opens a fresh file, declares (the first `ensure_buckets`
//! writes the catalog), then declares again (every later open: read and
//! compare), alternating the two kinds; the median round is printed.

use std::time::{Duration, Instant};

use vbolt::*;
use vpack::Pack;

#[derive(Pack, Debug, PartialEq)]
#[pack(version = 3)]
struct Article {
    title: String,
    body: String,
    tags: Vec<String>,
    #[pack(since = 2)]
    published: Option<std::time::SystemTime>,
    #[pack(since = 3)]
    views: u64,
}

fn pack_article(a: &mut Article, buf: &mut vpack::Buffer) {
    a.pack(buf)
}

macro_rules! by_hand {
    ($($name:ident = $text:literal),*) => {
        $(static $name: Bucket<u64, Article> = Bucket::new($text, vpack::key::fuint(), pack_article);)*
    };
}
macro_rules! by_type {
    ($($name:ident = $text:literal),*) => {
        $(static $name: Bucket<u64, Article> = Bucket::of($text);)*
    };
}
by_hand!(
    H1 = "a1",
    H2 = "a2",
    H3 = "a3",
    H4 = "a4",
    H5 = "a5",
    H6 = "a6",
    H7 = "a7",
    H8 = "a8"
);
by_type!(
    T1 = "a1",
    T2 = "a2",
    T3 = "a3",
    T4 = "a4",
    T5 = "a5",
    T6 = "a6",
    T7 = "a7",
    T8 = "a8"
);
macro_rules! index_by_hand {
    ($($name:ident = $text:literal),*) => {
        $(static $name: Index<String, u64, u64> = Index::with_priority(
            $text,
            vpack::key::string_z(),
            vpack::key::fuint(),
            vpack::key::fuint(),
        );)*
    };
}
index_by_hand!(HI1 = "i1", HI2 = "i2", HI3 = "i3", HI4 = "i4");
static TI: Index<String, u64, u64> = Index::of("i1").targets_in(&T1);
static TI2: Index<String, u64, u64> = Index::of("i2").targets_in(&T2);
static TI3: Index<String, u64, u64> = Index::of("i3").targets_in(&T3);
static TI4: Index<String, u64, u64> = Index::of("i4").targets_in(&T4);
static HAND: Info = Info::new(&[
    &H1, &H2, &H3, &H4, &H5, &H6, &H7, &H8, &HI1, &HI2, &HI3, &HI4,
]);
static TYPED: Info = Info::new(&[
    &T1, &T2, &T3, &T4, &T5, &T6, &T7, &T8, &TI, &TI2, &TI3, &TI4,
]);

/// (first declaration, a later one) on a fresh file.
fn declare(info: &Info, dir: &std::path::Path, n: usize) -> (Duration, Duration) {
    let path = dir.join(format!("declare-{n}.vbolt"));
    let db = Db::open_with(&path, Options::new().durability(Durability::None)).unwrap();
    let t = Instant::now();
    ensure_buckets(&db, info).unwrap();
    let first = t.elapsed();
    let t = Instant::now();
    ensure_buckets(&db, info).unwrap();
    (first, t.elapsed())
}

/// Median time of a small commit (one article, three terms), with strict
/// index links off or on.
fn commits(strict: bool, dir: &std::path::Path, n: usize) -> Duration {
    let path = dir.join(format!("commit-{n}.vbolt"));
    let db = Db::open_with(&path, Options::new().durability(Durability::None)).unwrap();
    ensure_buckets(&db, &TYPED).unwrap();
    db.strict_indexes(strict);
    let mut times: Vec<Duration> = (1..=2_000u64)
        .map(|id| {
            let t = Instant::now();
            db.update(|tx| {
                let mut a = Article {
                    title: format!("article {id}"),
                    body: String::new(),
                    tags: vec![],
                    published: None,
                    views: 0,
                };
                write(tx, &T1, id, &mut a);
                set_target_terms_plain(tx, &TI, id, ["a", "b", "c"]);
                Ok::<_, Error>(())
            })
            .unwrap();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let rounds = 31;
    let (mut hand, mut typed) = ((Vec::new(), Vec::new()), (Vec::new(), Vec::new()));
    for r in 0..rounds {
        let h = declare(&HAND, dir.path(), 2 * r);
        let t = declare(&TYPED, dir.path(), 2 * r + 1);
        hand.0.push(h.0);
        hand.1.push(h.1);
        typed.0.push(t.0);
        typed.1.push(t.1);
    }
    println!("ensure_buckets, 8 buckets and 4 indexes, median of {rounds} rounds (µs):");
    println!("| declared | first open | later opens |");
    println!("|---|---:|---:|");
    for (name, (first, later)) in [
        ("by hand (Bucket::new)", hand),
        ("by type (Bucket::of, links)", typed),
    ] {
        println!(
            "| {name} | {:.0} | {:.0} |",
            median(first).as_secs_f64() * 1e6,
            median(later).as_secs_f64() * 1e6
        );
    }
    let (mut off, mut on) = (Vec::new(), Vec::new());
    for r in 0..5 {
        off.push(commits(false, dir.path(), 2 * r));
        on.push(commits(true, dir.path(), 2 * r + 1));
    }
    println!();
    println!("small commit without sync, median of 5 × 2,000 (µs):");
    println!("| strict_indexes | commit |");
    println!("|---|---:|");
    println!("| off | {:.1} |", median(off).as_secs_f64() * 1e6);
    println!("| on | {:.1} |", median(on).as_secs_f64() * 1e6);
}
