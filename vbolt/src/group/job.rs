//! Jobs: the closures of [`Db::batch`](crate::Db::batch) callers, which
//! own what they use, so whichever thread holds the group's transaction
//! runs them in place. Each caller keeps a [`Batched`] cell; its result
//! (or panic) waits there until the caller is told the group's outcome.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::error::Error;
use crate::tx::WriteTx;

/// A member's closure that the thread holding the group's transaction
/// runs in place. Its caller reads the result once told its outcome.
pub(crate) trait Job: Send {
    /// Runs the closure in `tx`: `true` if it returned `Ok` (its value is
    /// kept for its caller). A panic is caught and kept for the caller's
    /// thread, and counts as a failure.
    fn run(&mut self, tx: &mut WriteTx) -> bool;
    /// The closure returned `Ok`, but its run failed after all (it failed
    /// the transaction): `e` is its caller's result instead.
    fn fail(&mut self, e: Error);
}

/// A [`Db::batch`](crate::Db::batch) caller's closure and what its last
/// run left, shared between the caller and the [`Job`] that any thread
/// may run.
pub(crate) struct Batched<F, T, E> {
    pub f: F,
    /// The result of the last run.
    pub result: Option<Result<T, E>>,
    /// The last run's panic, resumed on the caller's thread.
    pub panic: Option<Box<dyn std::any::Any + Send>>,
}

/// The [`Job`] of a [`Batched`] closure.
pub(crate) struct BatchJob<F, T, E>(pub Arc<Mutex<Batched<F, T, E>>>);

/// Locks a batched closure's cell. Nothing panics while it is locked (a
/// run's panic is caught inside), so a poisoned lock only means an
/// earlier thread died elsewhere; its contents are whole.
pub(crate) fn lock_batched<F, T, E>(
    cell: &Mutex<Batched<F, T, E>>,
) -> MutexGuard<'_, Batched<F, T, E>> {
    cell.lock().unwrap_or_else(|p| p.into_inner())
}

impl<F, T, E> Job for BatchJob<F, T, E>
where
    F: FnMut(&mut WriteTx) -> Result<T, E> + Send,
    T: Send,
    E: From<Error> + Send,
{
    fn run(&mut self, tx: &mut WriteTx) -> bool {
        let mut cell = lock_batched(&self.0);
        let cell = &mut *cell;
        match catch_unwind(AssertUnwindSafe(|| (cell.f)(tx))) {
            Ok(result) => {
                let ok = result.is_ok();
                cell.result = Some(result);
                ok
            }
            Err(panic) => {
                cell.result = None;
                cell.panic = Some(panic);
                false
            }
        }
    }

    fn fail(&mut self, e: Error) {
        lock_batched(&self.0).result = Some(Err(e.into()));
    }
}
