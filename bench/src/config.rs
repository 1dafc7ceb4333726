//! Workload sizes and command-line options.

/// How much work each figure does.
#[derive(Clone, Debug)]
pub struct Config {
    pub articles: i64,
    pub batch: usize,
    pub point_reads: usize,
    pub point_reads_tx: usize,
    pub page_queries: usize,
    pub counts: usize,
    pub small_commits: usize,
    pub concurrent_secs: f64,
    /// How long each writer-thread count of the writers figure writes.
    pub writer_secs: f64,
}

/// The writer-thread counts of the writers figure.
pub const WRITER_THREADS: [usize; 4] = [1, 4, 16, 64];

/// The size chosen on the command line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Size {
    /// The workload of `shared/bench/articles.md`.
    Full,
    /// A tenth of it, for a fast check.
    Quick,
    /// Just enough to exercise every path (the smoke test).
    Tiny,
    /// For systems across a network (etcd): every read a round trip.
    Network,
}

impl Size {
    pub fn flag(self) -> &'static str {
        match self {
            Size::Full => "--full",
            Size::Quick => "--quick",
            Size::Tiny => "--tiny",
            Size::Network => "--network",
        }
    }

    pub fn config(self) -> Config {
        match self {
            Size::Full => Config {
                articles: 200_000,
                batch: 1000,
                point_reads: 1_000_000,
                point_reads_tx: 100_000,
                page_queries: 100_000,
                counts: 1_000_000,
                small_commits: 2_000,
                concurrent_secs: 3.0,
                writer_secs: 3.0,
            },
            Size::Quick => Config {
                articles: 20_000,
                batch: 1000,
                point_reads: 100_000,
                point_reads_tx: 10_000,
                page_queries: 10_000,
                counts: 100_000,
                small_commits: 200,
                concurrent_secs: 1.0,
                writer_secs: 1.0,
            },
            Size::Tiny => Config {
                articles: 2_000,
                batch: 500,
                point_reads: 2_000,
                point_reads_tx: 500,
                page_queries: 200,
                counts: 2_000,
                small_commits: 10,
                concurrent_secs: 0.2,
                writer_secs: 0.1,
            },
            Size::Network => Config {
                articles: 5_000,
                // 100 articles of 3 categories: about 1,000 operations per
                // etcd transaction (the test cluster takes 2,048).
                batch: 100,
                point_reads: 5_000,
                point_reads_tx: 1_000,
                page_queries: 500,
                counts: 5_000,
                small_commits: 100,
                concurrent_secs: 1.0,
                writer_secs: 1.0,
            },
        }
    }
}

/// Parsed command line.
pub struct Args {
    pub size: Size,
    pub runs: usize,
    /// Systems to run, in table order.
    pub systems: Vec<String>,
    /// `Some(name)`: this process is a child running one system.
    pub child: Option<String>,
    /// Print JSON lines instead of markdown tables.
    pub json: bool,
    /// `--articles N`: the number of articles, instead of the size's.
    pub articles: Option<i64>,
    /// `--commit-io NAME`: measure what one small commit of that system
    /// writes (run it under `strace -c` to count syncs).
    pub commit_io: Option<String>,
    /// `--paired A,B`: the read figures of A and B side by side in one
    /// process, round by round (`paired.rs`).
    pub paired: Option<(String, String)>,
    /// `--rounds N`: the rounds of `--paired`.
    pub rounds: usize,
}

impl Args {
    /// The workload: the size's, with `--articles` applied.
    pub fn config(&self) -> Config {
        let mut cfg = self.size.config();
        if let Some(n) = self.articles {
            cfg.articles = n;
        }
        cfg
    }
}

pub const USAGE: &str = "\
usage: vbolt-bench [--quick | --tiny] [--runs N] [--systems a,b,...] [--json]

Runs the articles workload on every system, each run in a child process,
checks that all systems read the same answers, and prints a markdown table
of medians with each figure's ratio to vbolt.

  --quick        a tenth of the workload (20,000 articles)
  --tiny         a few thousand operations: checks every path, times nothing useful
  --network      5,000 articles and a few thousand reads: for the etcd systems
                 (feature etcd: --systems vbolt-etcd,raw-etcd)
  --runs N       runs per system (default 3, minimum 1)
  --systems L    comma-separated subset of: vbolt, raw-redb, raw-redb-memcmp, sqlite,
                 sqlite-mmap, native_db, lmdb; also vbolt-1k-subscribers (vbolt with
                 1,000 live commit subscriptions), vbolt-batch (vbolt whose writers
                 use Db::batch), vbolt-wal and vbolt-wal-batch (the same through
                 vbolt's write-ahead log) and, built with the feature
                 checked-values, vbolt-checked-values (a CRC-32 after every article)
  --articles N   load N articles instead of the size's number (the other counts stay)
  --commit-io S  what one small durable commit of system S writes after the
                 size's load (or --articles N): bytes and write calls (from
                 /proc/self/io); run under strace -f -c -e
                 trace=fsync,fdatasync,msync to count syncs
  --json         one JSON object per line, per system and figure, with the
                 median and every run's value, instead of the tables
  --paired A,B   the read figures of systems A and B in one process, taking
                 turns round by round (--rounds N, default 21): the median
                 of the per-round ratios A/B, immune to the machine's drift
                 between the main table's processes";

pub fn parse(args: &[String]) -> Result<Args, String> {
    let mut parsed = Args {
        size: Size::Full,
        runs: 3,
        systems: crate::systems::DEFAULT
            .iter()
            .map(|s| s.to_string())
            .collect(),
        child: None,
        json: false,
        articles: None,
        commit_io: None,
        paired: None,
        rounds: 21,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--full" => parsed.size = Size::Full,
            "--quick" => parsed.size = Size::Quick,
            "--tiny" => parsed.size = Size::Tiny,
            "--network" => parsed.size = Size::Network,
            "--runs" => {
                let n = it.next().ok_or("--runs needs a number")?;
                parsed.runs = n
                    .parse()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or(format!("--runs: not a count: {n:?}"))?;
            }
            "--systems" => {
                let list = it.next().ok_or("--systems needs a list")?;
                parsed.systems = list
                    .split(',')
                    .map(|s| system_name(s).map(str::to_string))
                    .collect::<Result<_, _>>()?;
            }
            "--commit-io" => {
                let name = it.next().ok_or("--commit-io needs a system")?;
                parsed.commit_io = Some(system_name(name)?.to_string());
            }
            "--child" => {
                let name = it.next().ok_or("--child needs a name")?;
                if !crate::systems::names().any(|n| n == name) {
                    return Err(format!(
                        "--child: unknown system {name:?}; known: {:?}",
                        crate::systems::names().collect::<Vec<_>>()
                    ));
                }
                parsed.child = Some(name.clone());
            }
            "--json" => parsed.json = true,
            "--paired" => {
                let list = it.next().ok_or("--paired needs two systems")?;
                let (a, b) = list
                    .split_once(',')
                    .ok_or(format!("--paired: not two systems: {list:?}"))?;
                parsed.paired = Some((system_name(a)?.to_string(), system_name(b)?.to_string()));
            }
            "--rounds" => {
                let n = it.next().ok_or("--rounds needs a number")?;
                parsed.rounds = n
                    .parse()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or(format!("--rounds: not a count: {n:?}"))?;
            }
            "--articles" => {
                let n = it.next().ok_or("--articles needs a number")?;
                parsed.articles = Some(
                    n.parse()
                        .ok()
                        .filter(|n: &i64| *n >= 100)
                        .ok_or(format!("--articles: not a count of at least 100: {n:?}"))?,
                );
            }
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other:?}\n\n{USAGE}")),
        }
    }
    Ok(parsed)
}

/// The table name of a system given on the command line: letters and
/// digits must match, case aside (`raw-redb-memcmp` is `raw redb (memcmp)`).
fn system_name(arg: &str) -> Result<&'static str, String> {
    let letters = |s: &str| -> String {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let wanted = letters(arg);
    crate::systems::names()
        .find(|n| letters(n) == wanted)
        .ok_or(format!("unknown system {arg:?}"))
}
