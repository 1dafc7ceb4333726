//! One system through the whole workload, in a process of its own (so its
//! peak memory is its own): the child side of the harness.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::config::{Config, WRITER_THREADS};
use crate::systems::{self, SharedWriter, System, article_sum};
use crate::workload::{CATEGORIES, Rng, article};

/// The figures, in table order: (name, unit, higher is better).
pub const FIGURES: [(&str, &str, bool); 10] = [
    ("load", "art/s", true),
    ("point_read", "ns", false),
    ("point_read_tx", "ns", false),
    ("page_query", "µs", false),
    ("count", "ns", false),
    ("small_commit", "µs", false),
    ("reads 1 thread + writer", "k/s", true),
    ("reads 2 threads + writer", "k/s", true),
    ("file", "MB", false),
    ("peak RSS", "MB", false),
];

/// What one run of one system measured.
pub struct Measured {
    pub figures: [f64; FIGURES.len()],
    /// Checksums of what the read figures read, compared across systems.
    pub sums: [u64; 4],
    /// Writer commits per second during the two concurrent figures.
    pub writer_commits: [f64; 2],
    /// Peak RSS before the system was opened (the harness's own data), MB.
    pub baseline_rss: f64,
    /// The writers figure: for each count of [`WRITER_THREADS`], durable
    /// commits/s and the median and 99th percentile commit latency (µs).
    pub writers: [[f64; 3]; WRITER_THREADS.len()],
}

impl Measured {
    /// One line on stdout, read back by the parent.
    pub fn to_line(&self) -> String {
        let mut s = String::from("RESULT");
        for f in self.figures {
            s += &format!(" {f}");
        }
        for c in self.sums {
            s += &format!(" {c}");
        }
        s += &format!(
            " {} {} {}",
            self.writer_commits[0], self.writer_commits[1], self.baseline_rss
        );
        for w in self.writers.iter().flatten() {
            s += &format!(" {w}");
        }
        s
    }

    pub fn parse(line: &str) -> Option<Measured> {
        let mut words = line.strip_prefix("RESULT ")?.split(' ');
        let mut figures = [0.0; FIGURES.len()];
        for f in &mut figures {
            *f = words.next()?.parse().ok()?;
        }
        let mut sums = [0; 4];
        for c in &mut sums {
            *c = words.next()?.parse().ok()?;
        }
        let writer_commits = [words.next()?.parse().ok()?, words.next()?.parse().ok()?];
        let baseline_rss = words.next()?.parse().ok()?;
        let mut writers = [[0.0; 3]; WRITER_THREADS.len()];
        for w in writers.iter_mut().flatten() {
            *w = words.next()?.parse().ok()?;
        }
        Some(Measured {
            figures,
            sums,
            writer_commits,
            baseline_rss,
            writers,
        })
    }
}

/// Peak resident set size of this process so far, in MB (Linux; 0 elsewhere).
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb * 1024.0 / 1e6)
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let start = Instant::now();
    let r = f();
    (r, start.elapsed().as_secs_f64())
}

/// Runs the whole workload on the system called `name`.
pub fn run(name: &str, cfg: &Config) -> Measured {
    let mut rng = Rng::new(42);
    let ids: Vec<i64> = (0..cfg.point_reads)
        .map(|_| rng.range(1, cfg.articles))
        .collect();
    let cats: Vec<i64> = (0..cfg.page_queries.max(cfg.counts))
        .map(|_| rng.range(1, CATEGORIES))
        .collect();
    let baseline_rss = peak_rss_mb();

    // `VBOLT_BENCH_KEEP=DIR` keeps the files of the run in DIR (one per
    // system; a later run replaces them) so they can be inspected, e.g. with
    // `vbolt info`. By default they live in a directory removed at the end.
    let temp = tempfile::tempdir_in(".").unwrap();
    let dir = match std::env::var_os("VBOLT_BENCH_KEEP") {
        Some(keep) => {
            let dir = std::path::PathBuf::from(keep).join(name.replace([' ', '(', ')'], ""));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            dir
        }
        None => temp.path().to_path_buf(),
    };
    let sys = systems::open(name, &dir);

    // Articles are made outside the timer, a batch at a time, so memory
    // holds one batch and the time is the system's alone.
    let mut t_load = 0.0;
    let mut batch = Vec::with_capacity(cfg.batch);
    for start in (1..=cfg.articles).step_by(cfg.batch) {
        batch.clear();
        batch.extend((start..=cfg.articles.min(start + cfg.batch as i64 - 1)).map(article));
        t_load += timed(|| sys.write(&batch)).1;
    }
    let (c1, t_pr) = timed(|| sys.point_reads(&ids));
    let (c2, t_prt) = timed(|| sys.point_reads_tx(&ids[..cfg.point_reads_tx]));
    let (c3, t_pq) = timed(|| sys.page_queries(&cats[..cfg.page_queries]));
    let (c4, t_c) = timed(|| sys.counts(&cats[..cfg.counts]));
    let mut t_sc = 0.0;
    let first_new = cfg.articles + 1;
    for id in first_new..first_new + cfg.small_commits as i64 {
        let one = [article(id)];
        t_sc += timed(|| sys.write(&one)).1;
    }
    let file_mb = dir_size(&dir) as f64 / 1e6;

    let next_id = AtomicU64::new((first_new + cfg.small_commits as i64) as u64);
    let (r1, w1) = concurrent_reads(&*sys, 1, cfg.concurrent_secs, &ids, &next_id);
    let (r2, w2) = concurrent_reads(&*sys, 2, cfg.concurrent_secs, &ids, &next_id);
    let writers =
        WRITER_THREADS.map(|threads| concurrent_writers(&*sys, threads, cfg.writer_secs, &next_id));

    Measured {
        figures: [
            cfg.articles as f64 / t_load,
            t_pr * 1e9 / cfg.point_reads as f64,
            t_prt * 1e9 / cfg.point_reads_tx as f64,
            t_pq * 1e6 / cfg.page_queries as f64,
            t_c * 1e9 / cfg.counts as f64,
            t_sc * 1e6 / cfg.small_commits as f64,
            r1 / 1e3,
            r2 / 1e3,
            file_mb,
            peak_rss_mb(),
        ],
        sums: [c1, c2, c3, c4],
        writer_commits: [w1, w2],
        baseline_rss,
        writers,
    }
}

fn dir_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

/// Point reads (100 per read transaction) on `readers` threads for `secs`,
/// while another thread commits one new article per durable transaction.
/// Returns (reads per second over all readers, writer commits per second).
/// Every read must find its article, or the run fails.
fn concurrent_reads(
    sys: &dyn System,
    readers: usize,
    secs: f64,
    ids: &[i64],
    next_id: &AtomicU64,
) -> (f64, f64) {
    const BATCH: usize = 100;
    let stop = AtomicBool::new(false);
    let commits = AtomicU64::new(0);
    let duration = Duration::from_secs_f64(secs);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                let id = next_id.fetch_add(1, Ordering::Relaxed) as i64;
                sys.write(&[article(id)]);
                commits.fetch_add(1, Ordering::Relaxed);
            }
        });
        let start = Instant::now();
        let handles: Vec<_> = (0..readers)
            .map(|r| {
                let mut reader = sys.reader();
                let duration = &duration;
                s.spawn(move || {
                    let mut done = 0usize;
                    let mut pos = r * ids.len() / readers;
                    while start.elapsed() < *duration {
                        if pos + BATCH > ids.len() {
                            pos = 0;
                        }
                        let batch = &ids[pos..pos + BATCH];
                        let found = reader.read_batch(batch);
                        assert_eq!(found, BATCH, "a concurrent reader missed an article");
                        done += BATCH;
                        pos += BATCH;
                    }
                    done
                })
            })
            .collect();
        let reads: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
        let elapsed = start.elapsed().as_secs_f64();
        stop.store(true, Ordering::Relaxed);
        let commits = commits.load(Ordering::Relaxed) as f64;
        assert!(
            commits > 0.0,
            "the writer made no commit during the concurrent figure"
        );
        (reads as f64 / elapsed, commits / elapsed)
    })
}

/// The writers figure for one thread count: `threads` threads commit one
/// new article each per durable transaction for `secs`; returns commits/s
/// and the median and 99th-percentile latency in µs. Every acknowledged
/// article is read back afterwards: a lost one fails the run.
fn concurrent_writers(
    sys: &dyn System,
    threads: usize,
    secs: f64,
    next_id: &AtomicU64,
) -> [f64; 3] {
    let until = Instant::now() + Duration::from_secs_f64(secs);
    let start = Instant::now();
    let per_thread: Vec<(Vec<i64>, Vec<f64>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut writer = sys.writer().unwrap_or_else(|| Box::new(SharedWriter(sys)));
                    let (mut acked, mut latencies) = (Vec::new(), Vec::new());
                    while Instant::now() < until {
                        let id = next_id.fetch_add(1, Ordering::Relaxed) as i64;
                        let a = article(id);
                        let t = Instant::now();
                        writer.commit(&a);
                        latencies.push(t.elapsed().as_secs_f64() * 1e6);
                        acked.push(id);
                    }
                    (acked, latencies)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let elapsed = start.elapsed().as_secs_f64();
    let acked: Vec<i64> = per_thread
        .iter()
        .flat_map(|(a, _)| a.iter().copied())
        .collect();
    let mut latencies: Vec<f64> = per_thread.into_iter().flat_map(|(_, l)| l).collect();
    let expected = acked
        .iter()
        .map(|id| article_sum(&article(*id)))
        .fold(0, u64::wrapping_add);
    assert_eq!(
        sys.point_reads(&acked),
        expected,
        "an acknowledged write is missing or wrong after {threads} writers"
    );
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    [acked.len() as f64 / elapsed, at(0.5), at(0.99)]
}

/// `wchar` and `syscw` of `/proc/self/io`: bytes handed to write calls,
/// and write calls made, by this process so far (Linux).
fn io_counters() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/self/io").unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or(0)
    };
    (field("wchar:"), field("syscw:"))
}

/// What one small durable commit of `name` writes: loads the size's
/// articles (`cfg.batch` per commit), then makes 200 commits of one new
/// article each (with its index entries and counts) and reports bytes and
/// write calls per commit. The syncs are counted from outside.
pub fn commit_io(name: &str, cfg: &Config) -> String {
    let temp = tempfile::tempdir_in(".").unwrap();
    let sys = systems::open(name, temp.path());
    let mut first = 1;
    while first <= cfg.articles {
        let last = (first + cfg.batch as i64 - 1).min(cfg.articles);
        let batch: Vec<_> = (first..=last).map(article).collect();
        sys.write(&batch);
        first = last + 1;
    }
    const COMMITS: u64 = 200;
    let (bytes0, calls0) = io_counters();
    for id in 0..COMMITS {
        sys.write(&[article(cfg.articles + 1 + id as i64)]);
    }
    let (bytes1, calls1) = io_counters();
    format!(
        "{name}: {} bytes and {:.1} write calls per small commit ({COMMITS} commits after loading {} articles)",
        (bytes1 - bytes0) / COMMITS,
        (calls1 - calls0) as f64 / COMMITS as f64,
        cfg.articles,
    )
}
