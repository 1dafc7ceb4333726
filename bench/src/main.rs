//! The articles benchmark (`shared/bench/articles.md`): vbolt, the same work
//! hand-written on redb, SQLite, native_db and LMDB, side by side in one run.
//!
//! Each run of each system happens in a child process of its own, so peak
//! memory is per system and no system inherits another's warm allocator.
//! Every system's answers are checked against the others' before any time
//! is printed; each figure is the median of the runs.
//!
//! Run: `cargo run --release -p vbolt-bench` (`-- --quick` for a tenth of the
//! work, `--runs N` for more runs, `--help` for the rest).

// The one exception, opening LMDB's memory map, is allowed where it is made.
#![deny(unsafe_code)]

mod config;
mod paired;
mod run;
mod systems;
mod workload;

use std::process::{Command, ExitCode, Stdio};

use config::{Args, WRITER_THREADS};
use run::{FIGURES, Measured};

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match config::parse(&argv) {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    if let Some(name) = &args.commit_io {
        println!("{}", run::commit_io(name, &args.config()));
        return ExitCode::SUCCESS;
    }
    if let Some((a, b)) = &args.paired {
        return match paired::run(a, b, &args.config(), args.rounds) {
            Ok(()) => ExitCode::SUCCESS,
            Err(msg) => {
                eprintln!("vbolt-bench: {msg}");
                ExitCode::FAILURE
            }
        };
    }
    if let Some(name) = &args.child {
        println!("{}", run::run(name, &args.config()).to_line());
        return ExitCode::SUCCESS;
    }
    match compare(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("vbolt-bench: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// Runs one system in a child process and reads back what it measured.
fn run_child(name: &str, args: &Args) -> Result<Measured, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut command = Command::new(exe);
    command.args(["--child", name, args.size.flag()]);
    if let Some(n) = args.articles {
        command.args(["--articles", &n.to_string()]);
    }
    let out = command
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot start the {name} run: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!("the {name} run failed ({})", out.status));
    }
    stdout
        .lines()
        .find_map(Measured::parse)
        .ok_or(format!("the {name} run printed no result: {stdout:?}"))
}

fn compare(args: &Args) -> Result<(), String> {
    let cfg = args.config();
    let n = args.systems.len();
    let mut runs: Vec<Vec<Measured>> = (0..n).map(|_| Vec::new()).collect();
    for run in 0..args.runs {
        // Rotate the order so no system always meets the same disk state.
        for k in 0..n {
            let s = (k + run) % n;
            let name = &args.systems[s];
            let m = run_child(name, args)?;
            eprintln!("run {}/{}: {name} done", run + 1, args.runs);
            runs[s].push(m);
        }
    }

    // Every run of every system must have read the same answers.
    let reference = runs[0][0].sums;
    for (s, name) in args.systems.iter().enumerate() {
        for m in &runs[s] {
            if m.sums != reference {
                return Err(format!(
                    "{name} read different answers from {}: {:?} vs {:?}",
                    args.systems[0], m.sums, reference
                ));
            }
        }
    }

    if args.json {
        print_json(args, &runs);
        return Ok(());
    }

    let medians: Vec<Vec<f64>> = runs
        .iter()
        .map(|r| {
            (0..FIGURES.len())
                .map(|f| median(r.iter().map(|m| m.figures[f]).collect()))
                .collect()
        })
        .collect();

    println!(
        "articles workload: {} articles, {} per load transaction; median of {} runs; \
         answers cross-checked: identical\n",
        cfg.articles, cfg.batch, args.runs
    );
    print_header(true);
    for (s, name) in args.systems.iter().enumerate() {
        print!("| {name} |");
        for (f, m) in medians[s].iter().enumerate() {
            if s == 0 {
                print!(" {} |", fmt(*m));
            } else {
                print!(" {} ({:.2}×) |", fmt(*m), m / medians[0][f]);
            }
        }
        println!();
    }
    println!(
        "\n×: the system's figure divided by {}'s. Higher is better for load and the \
         concurrent reads; lower is better elsewhere.",
        args.systems[0]
    );
    if args.runs > 1 && n > 1 {
        print_run_ratios(args, &runs);
    }
    println!("\nWriter commits/s during the concurrent figures (1 reader, 2 readers):");
    for (s, name) in args.systems.iter().enumerate() {
        let w0 = median(runs[s].iter().map(|m| m.writer_commits[0]).collect());
        let w1 = median(runs[s].iter().map(|m| m.writer_commits[1]).collect());
        let base = median(runs[s].iter().map(|m| m.baseline_rss).collect());
        println!("- {name}: {w0:.0}, {w1:.0} (harness RSS before opening: {base:.0} MB)");
    }
    print_writers(args, &runs);
    Ok(())
}

/// The writers figure: durable commits/s with each count of writer
/// threads (ratio to the first system), and commit latency.
fn print_writers(args: &Args, runs: &[Vec<Measured>]) {
    println!(
        "\nWriters: durable commits/s, one new article (with its index entries and counts) \
         per commit, every acknowledged commit read back; median of {} runs \
         (p50 / p99 commit latency, µs):\n",
        args.runs
    );
    print!("| system |");
    for t in WRITER_THREADS {
        print!(" {t} writer{} |", if t == 1 { "" } else { "s" });
    }
    println!("\n|---|{}", "---:|".repeat(WRITER_THREADS.len()));
    let med =
        |s: usize, i: usize, k: usize| median(runs[s].iter().map(|m| m.writers[i][k]).collect());
    for (s, name) in args.systems.iter().enumerate() {
        print!("| {name} |");
        for i in 0..WRITER_THREADS.len() {
            let (rate, p50, p99) = (med(s, i, 0), med(s, i, 1), med(s, i, 2));
            let ratio = if s == 0 {
                String::new()
            } else {
                format!(" ({:.2}×)", rate / med(0, i, 0))
            };
            print!(" {rate:.0}{ratio} ({p50:.0} / {p99:.0}) |");
        }
        println!();
    }
}

/// One JSON object per system and figure: its unit, median and the value
/// of every run, in run order.
fn print_json(args: &Args, runs: &[Vec<Measured>]) {
    let object = |system: &str, figure: &str, unit: &str, values: Vec<f64>| {
        let list = values
            .iter()
            .map(|v| format!("{v}"))
            .collect::<Vec<_>>()
            .join(",");
        println!(
            "{{\"system\":{},\"figure\":{},\"unit\":{},\"median\":{},\"runs\":[{list}]}}",
            json_string(system),
            json_string(figure),
            json_string(unit),
            median(values.clone()),
        );
    };
    for (s, name) in args.systems.iter().enumerate() {
        for (f, (figure, unit, _)) in FIGURES.iter().enumerate() {
            object(
                name,
                figure,
                unit,
                runs[s].iter().map(|m| m.figures[f]).collect(),
            );
        }
        for (i, t) in WRITER_THREADS.iter().enumerate() {
            for (k, (what, unit)) in [("commits", "1/s"), ("p50", "µs"), ("p99", "µs")]
                .iter()
                .enumerate()
            {
                let figure = format!("writers {t} {what}");
                object(
                    name,
                    &figure,
                    unit,
                    runs[s].iter().map(|m| m.writers[i][k]).collect(),
                );
            }
        }
    }
}

/// `s` as a JSON string.
fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Prints, for each system and figure, the lowest and highest of its
/// per-run ratios to the first system: run i's figure over the first
/// system's figure in run i. The systems of one run ran one after another,
/// so a ratio is taken under the same machine conditions; when the range
/// spans 1.00, the order of the two systems changed between runs and the
/// medians' ratio is within the noise.
fn print_run_ratios(args: &Args, runs: &[Vec<Measured>]) {
    println!(
        "\nRatio to {} in each run, lowest–highest over the {} runs:\n",
        args.systems[0], args.runs
    );
    print_header(false);
    for (s, name) in args.systems.iter().enumerate().skip(1) {
        print!("| {name} |");
        for f in 0..FIGURES.len() {
            let ratios: Vec<f64> = runs[s]
                .iter()
                .zip(&runs[0])
                .map(|(m, reference)| m.figures[f] / reference.figures[f])
                .filter(|r| r.is_finite())
                .collect();
            let lo = ratios.iter().copied().reduce(f64::min);
            let hi = ratios.iter().copied().reduce(f64::max);
            match (lo, hi) {
                (Some(lo), Some(hi)) => print!(" {lo:.2}–{hi:.2} |"),
                _ => print!(" – |"),
            }
        }
        println!();
    }
}

/// The header of a markdown table with a column per figure, its unit in the
/// column name when `units`.
fn print_header(units: bool) {
    print!("| system |");
    for (f, unit, _) in FIGURES {
        if units {
            print!(" {f} ({unit}) |");
        } else {
            print!(" {f} |");
        }
    }
    println!();
    println!("|---|{}", "---:|".repeat(FIGURES.len()));
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
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
