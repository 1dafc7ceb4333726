//! How much of a small durable redb commit is the shape of its flush: the
//! same commits on two redb files, one flushed as redb does it (its pages
//! written in place, then `fdatasync`), one whose storage also appends
//! each commit's writes to a preallocated log and syncs only the log (the
//! way a write-ahead log makes a commit one sequential write).
//!
//! **A measuring tool, not a storage engine.** The log side writes the
//! bytes a write-ahead log would write and syncs what it would sync, but
//! it has no recovery: nothing ever replays the log, so a crash could
//! lose its commits. It exists to find out whether such a log would reach
//! #25's goals before anyone builds one with recovery and crash tests.
//!
//! Both files get `--articles N` records shaped like the benchmark's (a
//! 640-byte article, three of 100 categories; the four tables of the raw
//! redb system), then `--commits C` durable commits of `--group G`
//! articles each (default 1; 16 is what group commit makes of 16 writers)
//! alternate between the two files in blocks of 50, each file's commit
//! timed alone.
//!
//! ```sh
//! cargo run --release -p vbolt-bench --example log_flush -- --articles 200000
//! cargo run --release -p vbolt-bench --example log_flush -- --articles 200000 --group 16
//! ```

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io;
use std::ops::Bound;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

use redb::backends::FileBackend;
use redb::{BackendError, Database, ReadableTable, StorageBackend, TableDefinition};

const ARTICLES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("articles");
const TERMS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("cat_art");
const TARGETS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("cat_art_targets");
const COUNTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("cat_art_counts");

/// The log's size: it starts over at its beginning once full, after the
/// main file has been synced (what a checkpoint does).
const LOG_BYTES: u64 = 256 << 20;

/// redb's file backend, whose syncs go to a log instead (see the module
/// docs: no recovery).
struct LoggedFile {
    main: FileBackend,
    main_file: File,
    log: File,
    state: Mutex<LogState>,
}

struct LogState {
    /// The writes since the last sync, as one log record.
    pending: Vec<u8>,
    /// Where the next record goes.
    at: u64,
}

impl fmt::Debug for LoggedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LoggedFile")
    }
}

impl LoggedFile {
    fn open(path: &Path) -> io::Result<LoggedFile> {
        let main_file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let log = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path.with_extension("log"))?;
        // Written once with zeros, so that appending allocates no blocks
        // and changes no file size (no file-system journal commit).
        let zeros = vec![0u8; 1 << 20];
        for at in (0..LOG_BYTES).step_by(zeros.len()) {
            log.write_all_at(&zeros, at)?;
        }
        log.sync_all()?;
        Ok(LoggedFile {
            main: FileBackend::new(main_file.try_clone()?).map_err(io::Error::other)?,
            main_file,
            log,
            state: Mutex::new(LogState {
                pending: Vec::new(),
                at: 0,
            }),
        })
    }
}

impl StorageBackend for LoggedFile {
    fn len(&self) -> Result<u64, io::Error> {
        self.main.len()
    }
    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), io::Error> {
        self.main.read(offset, out)
    }
    fn set_len(&self, len: u64) -> Result<(), io::Error> {
        let mut s = self.state.lock().unwrap();
        s.pending.extend_from_slice(&u64::MAX.to_le_bytes());
        s.pending.extend_from_slice(&len.to_le_bytes());
        self.main.set_len(len)
    }
    fn write(&self, offset: u64, data: &[u8]) -> Result<(), io::Error> {
        {
            let mut s = self.state.lock().unwrap();
            s.pending.extend_from_slice(&offset.to_le_bytes());
            s.pending
                .extend_from_slice(&(data.len() as u64).to_le_bytes());
            s.pending.extend_from_slice(data);
        }
        // Written through, unsynced: reads find it in the page cache.
        self.main_file.write_all_at(data, offset)
    }
    fn sync_data(&self) -> Result<(), io::Error> {
        let mut s = self.state.lock().unwrap();
        let record = std::mem::take(&mut s.pending);
        if s.at + record.len() as u64 > LOG_BYTES {
            // A checkpoint: the main file holds everything logged so far.
            self.main_file.sync_data()?;
            s.at = 0;
        }
        self.log.write_all_at(&record, s.at)?;
        self.log.sync_data()?;
        s.at += record.len() as u64;
        Ok(())
    }
    fn close(&self) -> Result<(), io::Error> {
        self.main_file.sync_data()?;
        self.main.close()
    }
    fn try_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.main.try_lock_range(start, end)
    }
    fn try_lock_shared_range(
        &self,
        start: Bound<u64>,
        end: Bound<u64>,
    ) -> Result<bool, BackendError> {
        self.main.try_lock_shared_range(start, end)
    }
    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.main.lock_range(start, end)
    }
    fn lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.main.lock_shared_range(start, end)
    }
    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.main.unlock_range(start, end)
    }
    fn query_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.main.query_lock_range(start, end)
    }
}

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Writes article `id` as the raw redb system does: the article, a term
/// and a target entry per category, and the categories' counts.
fn write_article(w: &redb::WriteTransaction, id: u64, rng: &mut Rng) -> Result<(), redb::Error> {
    let mut articles = w.open_table(ARTICLES)?;
    let mut terms = w.open_table(TERMS)?;
    let mut targets = w.open_table(TARGETS)?;
    let mut counts = w.open_table(COUNTS)?;
    let body: Vec<u8> = (0..640).map(|_| b'a' + rng.below(26) as u8).collect();
    articles.insert(&id.to_be_bytes()[..], &body[..])?;
    let published = 1_700_000_000 + id * 60;
    let mut cats: Vec<u64> = Vec::with_capacity(3);
    while cats.len() < 3 {
        let c = 1 + rng.below(100);
        if !cats.contains(&c) {
            cats.push(c);
        }
    }
    for c in cats {
        let mut term = [0u8; 24];
        term[..8].copy_from_slice(&c.to_be_bytes());
        term[8..16].copy_from_slice(&published.to_be_bytes());
        term[16..].copy_from_slice(&id.to_be_bytes());
        terms.insert(&term[..], &[8u8, 8][..])?;
        let mut target = [0u8; 16];
        target[..8].copy_from_slice(&id.to_be_bytes());
        target[8..].copy_from_slice(&c.to_be_bytes());
        targets.insert(&target[..], &published.to_be_bytes()[..])?;
        let n = counts
            .get(&c.to_be_bytes()[..])?
            .map_or(0, |v| u64::from_be_bytes(v.value().try_into().unwrap()));
        counts.insert(&c.to_be_bytes()[..], &(n + 1).to_be_bytes()[..])?;
    }
    Ok(())
}

fn load(db: &Database, articles: u64, rng: &mut Rng) -> Result<(), redb::Error> {
    for start in (1..=articles).step_by(1000) {
        let w = db.begin_write()?;
        for id in start..(start + 1000).min(articles + 1) {
            write_article(&w, id, rng)?;
        }
        w.commit()?;
    }
    Ok(())
}

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    match args.iter().position(|a| a == name) {
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} needs a number")),
        None => default,
    }
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p) as usize]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let articles = arg(&args, "--articles", 200_000);
    let commits = arg(&args, "--commits", 2_000);
    let group = arg(&args, "--group", 1).max(1);
    let dir = tempfile::tempdir_in(".")?;

    let in_place = Database::create(dir.path().join("in_place.redb"))?;
    let logged = Database::builder()
        .create_with_backend(LoggedFile::open(&dir.path().join("logged.redb"))?)?;
    let t = Instant::now();
    load(&in_place, articles, &mut Rng(7))?;
    load(&logged, articles, &mut Rng(7))?;
    println!(
        "loaded {articles} articles into each file in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let (mut a, mut b) = (Vec::new(), Vec::new());
    let mut id = articles;
    for block in 0..commits / 50 {
        for (db, times) in [(&in_place, &mut a), (&logged, &mut b)] {
            // The same articles go to both files.
            let mut r = Rng(1000 + block);
            for i in 0..50 {
                let t = Instant::now();
                let w = db.begin_write()?;
                for j in 0..group {
                    write_article(&w, id + 1 + i * group + j, &mut r)?;
                }
                w.commit()?;
                times.push(t.elapsed().as_secs_f64() * 1e6);
            }
        }
        id += 50 * group;
    }
    for (name, times) in [("pages in place", &mut a), ("logged", &mut b)] {
        let n = times.len();
        let mean = times.iter().sum::<f64>() / n as f64;
        println!(
            "{name:15} {n} commits of {group}: p50 {:.0} µs, p99 {:.0} µs, mean {mean:.0} µs, \
             {:.0} articles/s",
            percentile(times, 0.5),
            percentile(times, 0.99),
            group as f64 * 1e6 / mean
        );
    }
    Ok(())
}
