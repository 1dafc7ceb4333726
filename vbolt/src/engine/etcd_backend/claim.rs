//! Priority for a writer that keeps losing.
//!
//! Commits on etcd are optimistic: one that finds another commit since
//! its snapshot fails with [`Error::Conflict`](crate::Error::Conflict)
//! and runs again. Under contention that is not fair: a writer whose
//! transaction is longer (a group of updates, a slow closure, a far
//! machine) can lose every time to writers whose transactions are short,
//! and pauses do not help, since the others keep committing meanwhile.
//!
//! So a writer that has lost [`CLAIM_AFTER`] times in a row takes the
//! *claim* before its next attempt: a key under the database's prefix,
//! written only if absent, bound to a lease of [`CLAIM_TTL`] seconds.
//! Every commit compares the claim: an ordinary commit applies only while
//! there is none, and the claimant's only while it is its own, and the
//! claimant's commit deletes it. While one writer holds the claim no other
//! commit can land, so the claimant's next commit finds nothing new since
//! its snapshot (which it takes after claiming) and succeeds; the writers
//! it held back lose, and take the claim in turn. Each writer that keeps
//! losing is thus served after at most as many claims as there are such
//! writers, instead of never.
//!
//! The lease bounds the harm of a claimant that dies or stalls: its claim
//! vanishes after [`CLAIM_TTL`] seconds, and meanwhile the others only
//! wait. A claimant whose transaction ends without committing (its closure
//! failed) gives the claim back at once.

use std::time::Duration;

use etcd_client::{Compare, CompareOp, PutOptions, Txn, TxnOp};

use super::read::Shared;

/// Losses in a row after which a writer claims priority.
pub(super) const CLAIM_AFTER: u32 = 3;
/// How long a claim outlives a claimant that neither commits nor gives it
/// back, in seconds.
pub(super) const CLAIM_TTL: i64 = 2;

/// A claim held by one write transaction: its value in the cluster.
pub(super) struct Claim {
    pub id: [u8; 16],
}

/// Takes the claim for the write transaction about to begin; `None` if
/// another writer holds it (this attempt then runs without priority, and
/// will lose while the other's claim lasts) or the cluster did not answer.
pub(super) fn take(shared: &Shared, id: [u8; 16]) -> Option<Claim> {
    let bridge = &shared.bridge;
    let key = shared.layout.claim();
    let lease = bridge
        .once(|mut c| async move { c.lease_grant(CLAIM_TTL, None).await })
        .ok()?
        .id();
    let put = Txn::new()
        .when([Compare::version(key.clone(), CompareOp::Equal, 0)])
        .and_then([TxnOp::put(
            key,
            id.to_vec(),
            Some(PutOptions::new().with_lease(lease)),
        )]);
    match bridge.once(|mut c| async move { c.txn(put).await }) {
        Ok(r) if r.succeeded() => Some(Claim { id }),
        Ok(_) => {
            // Someone else's claim: let it finish before this attempt.
            std::thread::sleep(Duration::from_millis(5));
            None
        }
        Err(_) => {
            // The claim may have been written: do not leave it standing.
            give_back(shared, &Claim { id });
            None
        }
    }
}

/// Gives `claim` back if it is still this writer's (best effort: if the
/// cluster does not answer, the lease ends it).
pub(super) fn give_back(shared: &Shared, claim: &Claim) {
    let key = shared.layout.claim();
    let release = Txn::new()
        .when([Compare::value(
            key.clone(),
            CompareOp::Equal,
            claim.id.to_vec(),
        )])
        .and_then([TxnOp::delete(key, None)]);
    let _ = shared
        .bridge
        .once(|mut c| async move { c.txn(release).await });
}

/// The commit's compare on the claim: none standing, or `claim`'s.
pub(super) fn compare(shared: &Shared, claim: Option<&Claim>) -> Compare {
    let key = shared.layout.claim();
    match claim {
        None => Compare::version(key, CompareOp::Equal, 0),
        Some(c) => Compare::value(key, CompareOp::Equal, c.id.to_vec()),
    }
}
