//! Read figures of two systems measured side by side in one process:
//! `--paired A,B`.
//!
//! The main table times each system in a process of its own, minutes
//! apart, and on this kind of VM the machine's speed drifts over minutes:
//! two runs of the same code have differed by a third. Here both systems
//! are loaded with the same articles in one process, then each read
//! figure is split into rounds, and the two systems take turns within
//! every round (A then B, then B then A in the next, so neither always
//! goes first). A drift then moves both sides of a round alike, and the
//! median of the per-round ratios A/B is the comparison; its lowest and
//! highest show how far single rounds strayed.

use std::time::Instant;

use crate::config::Config;
use crate::systems::{self, System};
use crate::workload::{CATEGORIES, Rng, article};

/// One read figure: its name, its unit and how to run `n` operations of
/// it from `from`.
type Figure = (
    &'static str,
    &'static str,
    fn(&dyn System, &Inputs, usize, usize) -> u64,
);

/// The operations' arguments, the same for both systems.
pub struct Inputs {
    ids: Vec<i64>,
    cats: Vec<i64>,
}

const FIGURES: [Figure; 4] = [
    ("point_read", "ns", |s, i, from, n| {
        s.point_reads(&i.ids[from..from + n])
    }),
    ("point_read_tx", "ns", |s, i, from, n| {
        s.point_reads_tx(&i.ids[from..from + n])
    }),
    ("page_query", "µs", |s, i, from, n| {
        s.page_queries(&i.cats[from..from + n])
    }),
    ("count", "ns", |s, i, from, n| {
        s.counts(&i.cats[from..from + n])
    }),
];

/// Runs the paired comparison of `a` and `b` in `rounds` rounds and
/// prints a markdown table.
pub fn run(a: &str, b: &str, cfg: &Config, rounds: usize) -> Result<(), String> {
    let mut rng = Rng::new(42);
    let inputs = Inputs {
        ids: (0..cfg.point_reads)
            .map(|_| rng.range(1, cfg.articles))
            .collect(),
        cats: (0..cfg.page_queries.max(cfg.counts))
            .map(|_| rng.range(1, CATEGORIES))
            .collect(),
    };
    let dirs = [
        tempfile::tempdir_in(".").map_err(|e| e.to_string())?,
        tempfile::tempdir_in(".").map_err(|e| e.to_string())?,
    ];
    let systems: [Box<dyn System>; 2] = [
        systems::open(a, dirs[0].path()),
        systems::open(b, dirs[1].path()),
    ];
    let mut batch = Vec::with_capacity(cfg.batch);
    for start in (1..=cfg.articles).step_by(cfg.batch) {
        batch.clear();
        batch.extend((start..=cfg.articles.min(start + cfg.batch as i64 - 1)).map(article));
        for s in &systems {
            s.write(&batch);
        }
    }
    let counts = [
        cfg.point_reads,
        cfg.point_reads_tx,
        cfg.page_queries,
        cfg.counts,
    ];
    let unit_scale = |unit: &str| if unit == "µs" { 1e6 } else { 1e9 };
    println!(
        "paired reads: {a} (A) and {b} (B), {} articles, {rounds} rounds, the order \
         alternating; per operation, medians over the rounds\n",
        cfg.articles
    );
    println!("| figure | A | B | A/B, median of rounds | A/B, lowest–highest round |");
    println!("|---|---:|---:|---:|---:|");
    for ((name, unit, op), total) in FIGURES.into_iter().zip(counts) {
        let per_round = (total / rounds).max(1);
        let mut times = [Vec::new(), Vec::new()];
        let mut ratios = Vec::new();
        for r in 0..rounds {
            let from = (r * per_round) % (total - per_round + 1);
            let mut sums = [0u64; 2];
            let mut round = [0.0; 2];
            let order = if r % 2 == 0 { [0, 1] } else { [1, 0] };
            for side in order {
                let t = Instant::now();
                sums[side] = op(&*systems[side], &inputs, from, per_round);
                round[side] = t.elapsed().as_secs_f64() * unit_scale(unit) / per_round as f64;
            }
            if sums[0] != sums[1] {
                return Err(format!("{name}: the two systems read different answers"));
            }
            times[0].push(round[0]);
            times[1].push(round[1]);
            ratios.push(round[0] / round[1]);
        }
        let lo = ratios.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = ratios.iter().copied().fold(0.0, f64::max);
        println!(
            "| {name} ({unit}) | {:.1} | {:.1} | {:.3} | {lo:.2}–{hi:.2} |",
            median(&mut times[0]),
            median(&mut times[1]),
            median(&mut ratios),
        );
    }
    Ok(())
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
