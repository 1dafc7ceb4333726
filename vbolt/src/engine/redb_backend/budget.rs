//! A storage backend with a budget of commits, for the engine operations
//! that loop until the file says they are done.
//!
//! redb's compaction commits until its freed-page tree is drained. With one
//! damaged byte in that tree (an entry freed by a transaction that will
//! never end) it committed for ever, a durable commit each time
//! (`tests/damage.rs` found it). The loop is inside the engine, where no
//! caller can stop it; the file's syncs pass through here, so here is
//! where it can be cut. While a budget is set, each sync spends one unit;
//! past the last, the sync fails, the engine's operation returns that
//! error, and vbolt reports the file as damaged. Outside those operations
//! the budget is unlimited and a sync costs one relaxed load.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use redb::{BackendError, StorageBackend};

/// No budget: every sync passes.
const UNLIMITED: u64 = u64::MAX;

/// The shared count of syncs left, and whether one was refused.
#[derive(Debug, Clone)]
pub(crate) struct SyncBudget(Arc<(AtomicU64, AtomicBool)>);

impl SyncBudget {
    fn new() -> SyncBudget {
        SyncBudget(Arc::new((
            AtomicU64::new(UNLIMITED),
            AtomicBool::new(false),
        )))
    }

    /// Allows `syncs` more syncs from now on.
    pub(crate) fn limit(&self, syncs: u64) {
        self.0.1.store(false, Ordering::Relaxed);
        self.0.0.store(syncs.min(UNLIMITED - 1), Ordering::Relaxed);
    }

    /// Lifts the limit.
    pub(crate) fn lift(&self) {
        self.0.0.store(UNLIMITED, Ordering::Relaxed);
    }

    /// True if a sync was refused since the last `limit`.
    pub(crate) fn spent(&self) -> bool {
        self.0.1.load(Ordering::Relaxed)
    }

    /// Spends one sync; `false` (and noted) if none was left.
    fn spend(&self) -> bool {
        let left = self.0.0.load(Ordering::Relaxed);
        if left == UNLIMITED {
            return true;
        }
        // One writer at a time syncs (the engine's write lock), so a
        // load-then-store is not racing another spender.
        if left == 0 {
            self.0.1.store(true, Ordering::Relaxed);
            return false;
        }
        self.0.0.store(left - 1, Ordering::Relaxed);
        true
    }
}

/// `inner`, with its syncs counted against a [`SyncBudget`].
#[derive(Debug)]
pub(crate) struct Budgeted<B> {
    inner: B,
    budget: SyncBudget,
}

impl<B: StorageBackend> Budgeted<B> {
    /// `inner` with an unlimited budget, and the handle that limits it.
    pub(crate) fn new(inner: B) -> (Budgeted<B>, SyncBudget) {
        let budget = SyncBudget::new();
        (
            Budgeted {
                inner,
                budget: budget.clone(),
            },
            budget,
        )
    }
}

impl<B: StorageBackend> StorageBackend for Budgeted<B> {
    fn len(&self) -> Result<u64, BackendError> {
        self.inner.len()
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), BackendError> {
        self.inner.read(offset, out)
    }

    fn set_len(&self, len: u64) -> Result<(), BackendError> {
        self.inner.set_len(len)
    }

    fn sync_data(&self) -> Result<(), BackendError> {
        if !self.budget.spend() {
            return Err(BackendError::Other(
                "the operation's budget of commits is spent: it did not settle".into(),
            ));
        }
        self.inner.sync_data()
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), BackendError> {
        self.inner.write(offset, data)
    }

    fn close(&self) -> Result<(), BackendError> {
        self.inner.close()
    }

    forward_locks!(inner);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limited_budget_refuses_the_sync_past_it_and_lifting_restores() {
        let (file, budget) = Budgeted::new(redb::backends::InMemoryBackend::new());
        for _ in 0..5 {
            file.sync_data().unwrap();
        }
        budget.limit(2);
        file.sync_data().unwrap();
        file.sync_data().unwrap();
        assert!(!budget.spent());
        let err = file.sync_data().unwrap_err();
        assert!(err.to_string().contains("budget"), "{err}");
        assert!(budget.spent());
        budget.lift();
        file.sync_data().unwrap();
    }
}
