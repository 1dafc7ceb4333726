//! One writer and several readers at once, with invariants a torn read
//! would break. Every loop is bounded in time and count; a failure prints
//! the seed (`VBOLT_CONC_SEED` replays the writer's choices).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use vbolt::*;

static ACCOUNTS: Bucket<u32, i64> = Bucket::new("accounts", vpack::key::fuint(), vpack::int);
/// Account id -> its "band" (balance / 100): moves as money moves.
static BY_BAND: Index<i64, u32> = Index::new(
    "accounts_by_band",
    vpack::key::fint_ord(),
    vpack::key::fuint(),
);

const ACCOUNTS_N: u32 = 200;
const START: i64 = 1_000;

fn seed() -> u64 {
    std::env::var("VBOLT_CONC_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        })
}

fn band(balance: i64) -> i64 {
    balance.div_euclid(100)
}

/// Checks one snapshot: money is conserved, and the index agrees with the
/// balances (each account listed under exactly its band; counts equal
/// listings).
fn check_snapshot(tx: &ReadTx, seed: u64) -> i64 {
    let mut total = 0;
    let mut bands = std::collections::BTreeMap::<i64, Vec<u32>>::new();
    iterate_all(tx, &ACCOUNTS, |id, balance| {
        total += balance;
        bands.entry(band(balance)).or_default().push(id);
        true
    })
    .unwrap();
    assert_eq!(
        total,
        START * ACCOUNTS_N as i64,
        "seed {seed}: money not conserved"
    );
    let mut listed = 0;
    iterate_all_terms(tx, &BY_BAND, |b, count| {
        let mut targets = Vec::new();
        read_term_targets(tx, &BY_BAND, b, &mut targets, &Window::default()).unwrap();
        assert_eq!(
            targets.len(),
            count,
            "seed {seed}: band {b} count differs from its listing"
        );
        targets.sort();
        assert_eq!(
            Some(&targets),
            bands.get(&b),
            "seed {seed}: band {b} lists other accounts than hold that band"
        );
        listed += count;
        true
    })
    .unwrap();
    assert_eq!(
        listed, ACCOUNTS_N as usize,
        "seed {seed}: accounts missing from the index"
    );
    total
}

#[test]
fn readers_never_see_a_torn_state_and_an_old_snapshot_never_changes() {
    let seed = seed();
    eprintln!("concurrency: VBOLT_CONC_SEED={seed}");
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open_with(
        dir.path().join("conc.vbolt"),
        Options::new().durability(Durability::None),
    )
    .unwrap();
    db.update(|tx| {
        for id in 1..=ACCOUNTS_N {
            write(tx, &ACCOUNTS, id, &mut START.clone());
            set_target_single_term(tx, &BY_BAND, id, band(START));
        }
        Ok::<_, Error>(())
    })
    .unwrap();

    // A snapshot taken now and held across every commit that follows.
    let old = db.read_tx().unwrap();
    let mut before = Vec::new();
    iterate_all(&old, &ACCOUNTS, |id, b| {
        before.push((id, b));
        true
    })
    .unwrap();

    // The writer makes 3,000 commits (or stops at the deadline on a very
    // slow machine); the readers check snapshots until it stops.
    let deadline = Instant::now() + Duration::from_secs(20);
    let stop = AtomicBool::new(false);
    let commits = AtomicU64::new(0);
    let checks = AtomicU64::new(0);
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut rng = seed;
            for _ in 0..3_000 {
                if Instant::now() > deadline {
                    break;
                }
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let from = (rng % ACCOUNTS_N as u64) as u32 + 1;
                let to = ((rng >> 20) % ACCOUNTS_N as u64) as u32 + 1;
                let amount = ((rng >> 40) % 150) as i64;
                let mut tx = db.write_tx().unwrap();
                let (mut a, mut b) = (0i64, 0i64);
                assert!(read(&tx, &ACCOUNTS, from, &mut a));
                assert!(read(&tx, &ACCOUNTS, to, &mut b));
                if from != to {
                    a -= amount;
                    b += amount;
                    write(&mut tx, &ACCOUNTS, from, &mut a);
                    write(&mut tx, &ACCOUNTS, to, &mut b);
                    set_target_single_term(&mut tx, &BY_BAND, from, band(a));
                    set_target_single_term(&mut tx, &BY_BAND, to, band(b));
                }
                tx.commit().unwrap();
                commits.fetch_add(1, Ordering::Relaxed);
            }
            stop.store(true, Ordering::Relaxed);
        });
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..1_000_000 {
                    if stop.load(Ordering::Relaxed) || Instant::now() > deadline {
                        break;
                    }
                    let tx = db.read_tx().unwrap();
                    check_snapshot(&tx, seed);
                    tx.finish().unwrap();
                    checks.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    let commits = commits.load(Ordering::Relaxed);
    assert!(commits >= 1_000, "seed {seed}: only {commits} commits ran");
    assert!(
        checks.load(Ordering::Relaxed) > 10,
        "seed {seed}: readers did not run"
    );

    // The old snapshot saw none of it.
    let mut after = Vec::new();
    iterate_all(&old, &ACCOUNTS, |id, b| {
        after.push((id, b));
        true
    })
    .unwrap();
    assert_eq!(before, after, "seed {seed}: a held snapshot changed");
    assert!(after.iter().all(|(_, b)| *b == START));
    check_snapshot(&old, seed);
    eprintln!(
        "concurrency: {commits} commits, {} consistent snapshots checked, one snapshot held across all",
        checks.load(Ordering::Relaxed)
    );
}
