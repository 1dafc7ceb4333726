//! The articles benchmark: every system runs the same workload, answers are
//! cross-checked, and each figure is the median of several runs.
//!
//! Run: `cargo run --release -p vbolt-bench` (add `-- --quick` for a small,
//! fast check; `--runs N` to change the number of runs).

mod systems;
mod workload;

use std::path::Path;
use std::time::Instant;

use systems::{RawRedb, System, Vbolt};
use workload::{CATEGORIES, Rng, article};

struct Config {
    articles: i64,
    point_reads: usize,
    point_reads_tx: usize,
    page_queries: usize,
    counts: usize,
    small_commits: usize,
    runs: usize,
}

const FIGURES: [(&str, &str); 7] = [
    ("load", "art/s"),
    ("point_read", "ns"),
    ("point_read_tx", "ns"),
    ("page_query", "µs"),
    ("count", "ns"),
    ("small_commit", "µs"),
    ("file", "MB"),
];

fn config() -> Config {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let runs = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    if quick {
        Config {
            articles: 20_000,
            point_reads: 100_000,
            point_reads_tx: 10_000,
            page_queries: 10_000,
            counts: 100_000,
            small_commits: 200,
            runs,
        }
    } else {
        Config {
            articles: 200_000,
            point_reads: 1_000_000,
            point_reads_tx: 100_000,
            page_queries: 100_000,
            counts: 1_000_000,
            small_commits: 2_000,
            runs,
        }
    }
}

fn file_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

/// Times `f`, returning (checksum, seconds).
fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let start = Instant::now();
    let r = f();
    (r, start.elapsed().as_secs_f64())
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let cfg = config();
    let data: Vec<_> = (1..=cfg.articles).map(article).collect();
    let extra: Vec<_> = (cfg.articles + 1..=cfg.articles + cfg.small_commits as i64)
        .map(article)
        .collect();
    let mut rng = Rng::new(42);
    let ids: Vec<i64> = (0..cfg.point_reads)
        .map(|_| rng.range(1, cfg.articles))
        .collect();
    let cats: Vec<i64> = (0..cfg.page_queries.max(cfg.counts))
        .map(|_| rng.range(1, CATEGORIES))
        .collect();

    let names = ["vbolt", "raw redb"];
    // results[system][figure] = one value per run
    let mut results = vec![vec![Vec::new(); FIGURES.len()]; names.len()];
    let mut checksums: Vec<Option<[u64; 4]>> = vec![None; names.len()];

    for run in 0..cfg.runs {
        // Alternate which system goes first, so neither always meets a
        // colder or warmer disk.
        let order: Vec<usize> = if run % 2 == 0 {
            (0..names.len()).collect()
        } else {
            (0..names.len()).rev().collect()
        };
        for s in order {
            let name = &names[s];
            let dir = tempfile::tempdir_in(".").unwrap();
            let mut sys: Box<dyn System> = match *name {
                "vbolt" => Box::new(Vbolt::open(dir.path())),
                _ => Box::new(RawRedb::open(dir.path())),
            };
            let ((), t_load) = timed(|| sys.load(&data, 1000));
            let (c1, t_pr) = timed(|| sys.point_reads(&ids));
            let (c2, t_prt) = timed(|| sys.point_reads_tx(&ids[..cfg.point_reads_tx]));
            let (c3, t_pq) = timed(|| sys.page_queries(&cats[..cfg.page_queries]));
            let (c4, t_c) = timed(|| sys.counts(&cats[..cfg.counts]));
            let ((), t_sc) = timed(|| sys.small_commits(&extra));
            let size = file_size(dir.path()) as f64 / 1e6;
            let sums = [c1, c2, c3, c4];
            match checksums[s] {
                Some(prev) => assert_eq!(prev, sums, "{name} gave different answers between runs"),
                None => checksums[s] = Some(sums),
            }
            let r = &mut results[s];
            r[0].push(cfg.articles as f64 / t_load);
            r[1].push(t_pr * 1e9 / cfg.point_reads as f64);
            r[2].push(t_prt * 1e9 / cfg.point_reads_tx as f64);
            r[3].push(t_pq * 1e6 / cfg.page_queries as f64);
            r[4].push(t_c * 1e9 / cfg.counts as f64);
            r[5].push(t_sc * 1e6 / cfg.small_commits as f64);
            r[6].push(size);
            eprintln!("run {}/{} {name}: done", run + 1, cfg.runs);
            drop(sys);
        }
    }
    // Every system must have read the same things.
    for (s, name) in names.iter().enumerate() {
        assert_eq!(
            checksums[s], checksums[0],
            "{name} disagrees with {} on query results",
            names[0]
        );
    }

    println!(
        "articles workload: {} articles, median of {} runs (answers cross-checked: identical)\n",
        cfg.articles, cfg.runs
    );
    print!("| system |");
    for (f, unit) in FIGURES {
        print!(" {f} {unit} |");
    }
    println!();
    println!("|---|{}", "---|".repeat(FIGURES.len()));
    let medians: Vec<Vec<f64>> = results
        .iter_mut()
        .map(|r| r.iter_mut().map(|v| median(v)).collect())
        .collect();
    for (s, name) in names.iter().enumerate() {
        print!("| {name} |");
        for (f, m) in medians[s].iter().enumerate() {
            let ratio = m / medians[0][f];
            if s == 0 {
                print!(" {} |", fmt(*m));
            } else {
                print!(" {} ({ratio:.2}×) |", fmt(*m));
            }
        }
        println!();
    }
    println!(
        "\n(×: the system's figure divided by vbolt's; for load, higher is faster, elsewhere lower is faster)"
    );
}

fn fmt(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}
