//! Crash safety: a child process commits a stream of transactions and
//! prints an acknowledgment after each `commit` returns `Ok`; the parent
//! kills it with SIGKILL at random moments, reopens the database and checks
//! that every acknowledged commit is there and that no transaction is
//! partly visible.
//!
//! The same runs with the write-ahead log on in the child (a small log, so
//! kills also land in checkpoints); the parent reopens without it, which
//! replays the log.
//!
//! The normal test run does 50 kills (25 with the log). The long run (see RELIABILITY.md):
//! `VBOLT_CRASH_KILLS=1000 cargo test --release -p vbolt --test crash -- --nocapture`.
//! A failure prints the seed; `VBOLT_CRASH_SEED=<seed>` replays it.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use vbolt::*;

#[derive(Debug, Default, Clone, PartialEq)]
struct Record {
    id: u64,
    /// Which rewrite of the record this is (0 when first written).
    version: u64,
    payload: String,
}

fn pack_record(r: &mut Record, buf: &mut vpack::Buffer) {
    vpack::version(1, buf);
    vpack::uint(&mut r.id, buf);
    vpack::uint(&mut r.version, buf);
    vpack::string(&mut r.payload, buf);
}

static RECORDS: Bucket<u64, Record> = Bucket::new("records", vpack::key::fuint(), pack_record);
static TERMS: Index<u64, u64> =
    Index::new("record_terms", vpack::key::fuint(), vpack::key::fuint());

/// The index terms a record must have: derived from its id and version, so
/// a rewrite moves it between terms.
fn terms_of(r: &Record) -> BTreeSet<u64> {
    [r.id % 7, 10 + (r.id + r.version) % 5, 100 + r.version % 3]
        .into_iter()
        .collect()
}

/// Commit `n` of the stream: writes record `n` and rewrites record `n / 2`
/// (new version, new terms), in one transaction.
fn commit_n(db: &Db, n: u64) -> Result<(), Error> {
    let mut tx = db.write_tx()?;
    let mut fresh = Record {
        id: n,
        version: 0,
        payload: format!("record {n} ").repeat((n % 40) as usize + 1),
    };
    write(&mut tx, &RECORDS, n, &mut fresh);
    set_target_terms_plain(&mut tx, &TERMS, n, terms_of(&fresh));
    let old = n / 2;
    let mut r = Record::default();
    if old > 0 && read(&tx, &RECORDS, old, &mut r) {
        r.version += 1;
        write(&mut tx, &RECORDS, old, &mut r);
        set_target_terms_plain(&mut tx, &TERMS, old, terms_of(&r));
    }
    tx.commit()
}

/// The number of commits in the database (records are 1..=n, no gaps).
fn committed(db: &Db) -> u64 {
    let tx = db.read_tx().unwrap();
    let mut n = 0;
    iterate_all(&tx, &RECORDS, |id, _| {
        n += 1;
        assert_eq!(
            id, n,
            "records are not contiguous: a commit is partly visible"
        );
        true
    })
    .unwrap();
    n
}

/// Everything a reopened database must satisfy after `n` commits.
fn verify(db: &Db, n: u64, seed: u64) {
    let report = check(db).unwrap();
    assert!(report.is_ok(), "seed {seed}: {:?}", report.problems);
    let tx = db.read_tx().unwrap();
    // Replaying the stream in memory gives the expected version of each record.
    let mut version = vec![0u64; n as usize + 1];
    for k in 1..=n {
        if k / 2 > 0 {
            version[(k / 2) as usize] += 1;
        }
    }
    let mut per_term = std::collections::BTreeMap::<u64, usize>::new();
    for id in 1..=n {
        let mut r = Record::default();
        assert!(
            read(&tx, &RECORDS, id, &mut r),
            "seed {seed}: record {id} lost"
        );
        assert_eq!(
            r.version, version[id as usize],
            "seed {seed}: record {id} torn"
        );
        let mut got = BTreeSet::new();
        iterate_target(&tx, &TERMS, id, |t, _: u16| {
            got.insert(t);
            true
        })
        .unwrap();
        assert_eq!(
            got,
            terms_of(&r),
            "seed {seed}: index of record {id} disagrees"
        );
        for t in got {
            *per_term.entry(t).or_default() += 1;
        }
    }
    for (term, count) in per_term {
        assert_eq!(
            read_term_count(&tx, &TERMS, term).unwrap(),
            count,
            "seed {seed}: term {term}"
        );
    }
}

/// Child side: continues the commit stream until killed. Does nothing as an
/// ordinary test.
#[test]
fn crash_child() {
    let Ok(path) = std::env::var("VBOLT_CRASH_DB") else {
        return;
    };
    let t = Instant::now();
    let options = match std::env::var("VBOLT_CRASH_WAL") {
        Ok(size) => Options::new().write_ahead_log_size(size.parse().unwrap()),
        Err(_) => Options::new(),
    };
    let db = Db::open_with(&path, options).unwrap();
    let mut n = committed(&db);
    let mut out = std::io::stdout().lock();
    writeln!(out, "OPEN {n} {}", t.elapsed().as_millis()).unwrap();
    out.flush().unwrap();
    loop {
        n += 1;
        commit_n(&db, n).unwrap();
        writeln!(out, "ACK {n}").unwrap();
        out.flush().unwrap();
    }
}

/// xorshift64*, so a seed replays a run exactly.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// Kills `kills` children in turn; `wal`: the size of the log they write
/// through, if any.
fn kill_loop(path: &Path, kills: u64, seed: u64, wal: Option<u64>) -> u64 {
    let mut rng = Rng(seed | 1);
    let mut acked = 0u64;
    for k in 0..kills {
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
            .env("VBOLT_CRASH_DB", path);
        if let Some(size) = wal {
            command.env("VBOLT_CRASH_WAL", size.to_string());
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Wait until the child is committing, then let it run a random
        // while (0 to 15 ms: several commits, often mid-commit) and kill.
        // (libtest prints "test crash_child ... " before the child's first line.)
        let opened = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|l| l.split_once("OPEN ").map(|(_, rest)| rest.to_string()))
            .unwrap_or_else(|| panic!("seed {seed}, kill {k}: the child did not open"));
        let mut words = opened.split(' ');
        let before: u64 = words.next().unwrap().parse().unwrap();
        if std::env::var_os("VBOLT_CRASH_VERBOSE").is_some() {
            eprintln!(
                "kill {k}: child opened {before} commits in {} ms",
                words.next().unwrap()
            );
        }
        assert!(
            before >= acked,
            "seed {seed}: acknowledged commits were lost"
        );
        std::thread::sleep(Duration::from_micros(rng.next() % 15_000));
        child.kill().unwrap();
        child.wait().unwrap();
        // Acknowledgments printed before death are still in the pipe.
        for line in lines.map_while(Result::ok) {
            if let Some(n) = line.strip_prefix("ACK ") {
                acked = acked.max(n.parse().unwrap());
            }
        }
        // The child had the file open: a read-only open cannot run crash
        // recovery, and must say so.
        match Db::open_with(path, Options::new().read_only(true)) {
            Err(Error::NeedsRecovery) => {}
            other => panic!("seed {seed}, kill {k}: read-only open: {:?}", other.err()),
        }
        // Reopen and check after every kill.
        let db = Db::open(path).unwrap_or_else(|e| panic!("seed {seed}, kill {k}: {e}"));
        let n = committed(&db);
        assert!(
            n >= acked,
            "seed {seed}, kill {k}: {acked} acknowledged, {n} found"
        );
        assert!(
            n <= acked + 1,
            "seed {seed}, kill {k}: {n} found, {acked} acknowledged"
        );
        verify(&db, n, seed);
        acked = n;
    }
    acked
}

#[test]
fn sigkill_never_loses_an_acknowledged_commit_nor_shows_half_of_one() {
    kill_run(50, None);
}

#[test]
fn sigkill_through_the_write_ahead_log_loses_nothing_either() {
    // 32 KiB of log: a checkpoint every commit or two, so kills land in
    // checkpoints too.
    kill_run(25, Some(32 << 10));
}

/// One kill run at a time: a child shares this process's open files
/// between its fork and its exec, locks included, so another run's spawn
/// could make a just-closed database look open for a moment.
static RUNNING: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn kill_run(default_kills: u64, wal: Option<u64>) {
    let _running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
    let kills: u64 = std::env::var("VBOLT_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_kills);
    let seed: u64 = std::env::var("VBOLT_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("crash test: {kills} kills, VBOLT_CRASH_SEED={seed}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.vbolt");
    drop(Db::open(&path).unwrap());
    let start = Instant::now();
    let acked = kill_loop(&path, kills, seed, wal);
    let db = Db::open(&path).unwrap();
    let n = committed(&db);
    // Everything acknowledged is there; at most the commit in flight when
    // the last kill landed is there unacknowledged.
    assert!(n >= acked, "seed {seed}: {acked} acknowledged, {n} found");
    assert!(
        n <= acked + 1,
        "seed {seed}: {n} commits found, only {acked} ever acknowledged"
    );
    verify(&db, n, seed);
    // And the database still accepts writes.
    commit_n(&db, n + 1).unwrap();
    assert_eq!(committed(&db), n + 1);
    eprintln!(
        "crash test: {kills} kills survived, {n} commits verified, in {:.1} s",
        start.elapsed().as_secs_f64()
    );
}
