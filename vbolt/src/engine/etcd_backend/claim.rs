//! Priority for writers that keep losing, served in arrival order.
//!
//! Commits on etcd are optimistic: one that finds another commit since
//! its snapshot fails with [`Error::Conflict`](crate::Error::Conflict)
//! and runs again. Under contention that is not fair: a writer whose
//! transaction is longer (a group of updates, a slow closure, a far
//! machine) can lose every time to writers whose transactions are short,
//! and pauses do not help, since the others keep committing meanwhile
//! (measured: 1 commit per grouped writer in 15 s against 112 to 160 per
//! single writer, `tests/etcd_faults.rs`).
//!
//! So a writer that has lost [`CLAIM_AFTER`] times in a row *queues* for
//! priority before its next attempt: it writes a key of its own under
//! `P claims/`, bound to a lease of [`CLAIM_TTL`] seconds, and waits until
//! no queued key is older than its own (etcd orders them by creation
//! revision), refreshing its lease meanwhile. Every commit compares the
//! queue: an ordinary commit applies only while it is empty, and a queued
//! writer's only while no key older than its own is there; the queued
//! writer's commit deletes its key. So while writers queue, only the first
//! of them can commit, its next attempt (whose snapshot follows its turn)
//! succeeds, and the others follow in the order they queued: a writer
//! that keeps losing waits for the writers queued before it, instead of
//! for luck.
//!
//! The lease bounds the harm of a queued writer that dies or stalls: its
//! key vanishes [`CLAIM_TTL`] seconds after its last refresh, and
//! meanwhile the others only wait. A writer whose transaction ends
//! without committing (its closure failed) deletes its key at once.

use std::time::{Duration, Instant};

use etcd_client::{Compare, CompareOp, GetOptions, PutOptions, SortOrder, SortTarget, TxnOp};

use super::read::Shared;

/// Losses in a row after which a writer queues for priority.
pub(super) const CLAIM_AFTER: u32 = 3;
/// How long a queued key outlives a writer that stopped refreshing it,
/// in seconds.
pub(super) const CLAIM_TTL: i64 = 2;
/// How often a waiting writer refreshes its lease.
const REFRESH: Duration = Duration::from_millis(500);
/// The longest a writer waits for its turn before it gives its place up
/// and tries without priority.
const WAIT_AT_MOST: Duration = Duration::from_secs(10);

/// A writer's place in the queue.
pub(super) struct Claim {
    /// Its key under `P claims/`.
    key: Vec<u8>,
    /// The revision that created the key: its place.
    revision: i64,
}

/// Queues for priority and waits for this writer's turn; `None` if the
/// cluster did not answer, the key's lease ran out, or the turn did not
/// come within [`WAIT_AT_MOST`] (the attempt then runs without priority).
pub(super) fn take(shared: &Shared, id: [u8; 16]) -> Option<Claim> {
    let bridge = &shared.bridge;
    let (start, end) = shared.layout.claims_range();
    let lease = bridge
        .once(|mut c| async move { c.lease_grant(CLAIM_TTL, None).await })
        .ok()?
        .id();
    let mut key = start.clone();
    key.extend_from_slice(&id);
    let put = {
        let key = key.clone();
        bridge.once(move |mut c| async move {
            c.put(key, Vec::new(), Some(PutOptions::new().with_lease(lease)))
                .await
        })
    };
    let claim = match put {
        Ok(r) => Claim {
            key,
            revision: r.header().map_or(0, |h| h.revision()),
        },
        Err(_) => {
            // The key may have been written: do not leave it queued.
            give_back(shared, &Claim { key, revision: 0 });
            return None;
        }
    };
    let began = Instant::now();
    let mut refreshed = Instant::now();
    loop {
        let first = {
            let (start, end) = (start.clone(), end.clone());
            bridge.once(move |mut c| async move {
                let options = GetOptions::new()
                    .with_range(end)
                    .with_sort(SortTarget::Create, SortOrder::Ascend)
                    .with_limit(1)
                    .with_keys_only();
                c.get(start, Some(options)).await
            })
        };
        match first {
            Ok(r) => match r.kvs().first() {
                Some(kv) if kv.create_revision() == claim.revision => return Some(claim),
                // Another writer's turn (or this one's key is gone, which
                // the lease refresh finds out).
                Some(_) => {}
                None => return None,
            },
            Err(_) => break,
        }
        if began.elapsed() > WAIT_AT_MOST {
            break;
        }
        if refreshed.elapsed() > REFRESH {
            let alive = bridge.once(move |mut c| async move {
                let (mut keeper, mut answers) = c.lease_keep_alive(lease).await?;
                keeper.keep_alive().await?;
                Ok(answers.message().await?.map_or(0, |a| a.ttl()))
            });
            if !matches!(alive, Ok(ttl) if ttl > 0) {
                break;
            }
            refreshed = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    give_back(shared, &claim);
    None
}

/// Leaves the queue (best effort: if the cluster does not answer, the
/// lease ends the key).
pub(super) fn give_back(shared: &Shared, claim: &Claim) {
    let key = claim.key.clone();
    let _ = shared
        .bridge
        .once(|mut c| async move { c.delete(key, None).await });
}

/// The commit's compare on the queue: nobody queued (`None`), or nobody
/// queued before `claim`.
pub(super) fn compare(shared: &Shared, claim: Option<&Claim>) -> Compare {
    let (start, end) = shared.layout.claims_range();
    match claim {
        None => Compare::version(start, CompareOp::Equal, 0).with_range(end),
        Some(c) => {
            Compare::create_revision(start, CompareOp::Greater, c.revision - 1).with_range(end)
        }
    }
}

/// The claimant's commit leaves the queue with it.
pub(super) fn release_op(claim: &Claim) -> TxnOp {
    TxnOp::delete(claim.key.clone(), None)
}
