//! The two sides of a group commit, the leader's and a member's, on top
//! of the shared state in [`queue`](super::queue); and an update without
//! grouping. The rules they follow are in the module docs above.

use std::sync::{Arc, Mutex};

use super::job::{BatchJob, Batched, Job, lock_batched};
use super::queue::{CommitStats, Outcome, Queue, Report, Role, Turn};
use super::retry::Retry;
use crate::engine::{Store, WriteTxn};
use crate::error::Error;
use crate::gate::Gate;
use crate::hub::Hub;
use crate::tx::{Shared, WriteTx};

/// The group-commit machinery of one database.
pub(crate) struct Groups {
    queue: Queue,
    /// The write turn, shared with [`Db::write_tx`](crate::Db::write_tx).
    gate: Arc<Gate>,
    /// Group commit on; off, each update is its own transaction.
    enabled: bool,
}

/// What a transaction runs against.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub store: &'a Store,
    pub hub: &'a Arc<Hub>,
    pub shared: Shared<'a>,
}

impl Groups {
    pub fn new(gate: Arc<Gate>, enabled: bool) -> Groups {
        Groups {
            queue: Queue::default(),
            gate,
            enabled,
        }
    }

    /// The counts so far.
    pub fn stats(&self) -> CommitStats {
        self.queue.stats()
    }

    /// [`Db::update`](crate::Db::update).
    pub fn update<T, E: From<Error>>(
        &self,
        cx: Ctx<'_>,
        mut f: impl FnMut(&mut WriteTx) -> Result<T, E>,
    ) -> Result<T, E> {
        if self.gate.held_by_me() {
            return Err(Error::WriteInProgress.into());
        }
        if !self.enabled {
            return self.alone(cx, &mut f);
        }
        loop {
            let step = match self.queue.join(None) {
                Role::Leader => Some(self.lead(cx, &mut f)),
                Role::Member(id) => self.serve(cx, id, &mut f),
            };
            if let Some(result) = step {
                return result;
            }
        }
    }

    /// [`Db::batch`](crate::Db::batch).
    pub fn batch<T, E, F>(&self, cx: Ctx<'_>, f: F) -> Result<T, E>
    where
        F: FnMut(&mut WriteTx) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<Error> + Send + 'static,
    {
        if self.gate.held_by_me() {
            return Err(Error::WriteInProgress.into());
        }
        if !self.enabled {
            let mut f = f;
            return self.alone(cx, &mut f);
        }
        let cell = Arc::new(Mutex::new(Batched {
            f,
            result: None,
            panic: None,
        }));
        loop {
            let job: Box<dyn Job> = Box::new(BatchJob(Arc::clone(&cell)));
            match self.queue.join(Some(job)) {
                Role::Leader => return self.lead(cx, &mut lock_batched(&cell).f),
                Role::Member(id) => match self.queue.wait_outcome(id) {
                    Outcome::Committed | Outcome::Own => {
                        let mut c = lock_batched(&cell);
                        if let Some(panic) = c.panic.take() {
                            drop(c);
                            std::panic::resume_unwind(panic);
                        }
                        // A job told its outcome has run: a missing result
                        // would be a bug of this module, not the caller's.
                        return c
                            .result
                            .take()
                            .unwrap_or_else(|| Err(Error::Finished.into()));
                    }
                    Outcome::Failed(e) => return Err(e.into()),
                    Outcome::Again => {}
                },
            }
        }
    }

    /// An update without group commit: its own transaction, retried on a
    /// conflict.
    pub fn alone<T, E: From<Error>>(
        &self,
        cx: Ctx<'_>,
        f: &mut impl FnMut(&mut WriteTx) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut retry = Retry::new();
        loop {
            let turn = self.gate.enter(None)?;
            let mut tx = WriteTx::new(cx.store.begin_write_retry(retry.lost())?, turn, cx.shared);
            let value = f(&mut tx)?;
            match tx.commit() {
                Ok(()) => {
                    self.queue.count_commit();
                    return Ok(value);
                }
                Err(Error::Conflict) if retry.again() => drop(value),
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Leads a group: runs `f`, then each member's closure, then commits
    /// for all.
    fn lead<T, E: From<Error>>(
        &self,
        cx: Ctx<'_>,
        f: &mut impl FnMut(&mut WriteTx) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut guard = LeaderGuard {
            queue: &self.queue,
            done: false,
        };
        // Declared after the guard, so dropped before it: the turn is free
        // when the members are told to join again.
        let turn = self.gate.enter(None)?;
        let mut retry = Retry::new();
        loop {
            cx.hub.discard_staged();
            let txn = match cx.store.begin_write_retry(retry.lost()) {
                Ok(txn) => txn,
                Err(e) => {
                    self.queue.fail_all(&e);
                    guard.done = true;
                    return Err(e.into());
                }
            };
            // The leader's own closure first.
            let mut tx = WriteTx::grouped(txn, cx.shared);
            let result = f(&mut tx);
            let (kv, recorded, changes) = tx.into_parts();
            let (value, txn) = match (result, recorded, kv) {
                (Ok(v), None, Some(kv)) => (v, kv),
                (Err(e), _, _) => return Err(e),
                (Ok(_), Some(e), _) => return Err(e.into()),
                (Ok(_), None, None) => return Err(Error::Finished.into()),
            };
            // Alone past the engine's limits: the failure is its own.
            txn.fits()?;
            cx.hub.stage(changes);
            // Then each member's.
            let Some(txn) = self.run_members(cx, txn) else {
                continue;
            };
            let members = self.queue.members_ran();
            match txn.commit() {
                Ok(()) => {
                    self.queue.count_commit();
                    cx.hub.publish_staged();
                    self.queue.committed();
                    guard.done = true;
                    drop(turn);
                    return Ok(value);
                }
                Err(Error::Conflict) => {
                    self.queue.lost();
                    if !retry.again() {
                        return Err(Error::Conflict.into());
                    }
                }
                // The engine learned a lower limit than it assumed (its
                // `fits` now says so): run the group again, which cuts it.
                Err(Error::LimitExceeded(_)) if members > 0 => self.queue.rerun(),
                Err(e) => {
                    self.queue.finish(|| Outcome::Failed(e.duplicate()));
                    guard.done = true;
                    return Err(e.into());
                }
            }
        }
    }

    /// Runs the queued members' closures after the leader's, in `txn`:
    /// jobs here, the others on their own threads. `None`: the transaction
    /// was abandoned (a member failed or did not fit) and the group must
    /// start over.
    fn run_members(&self, cx: Ctx<'_>, mut txn: WriteTxn) -> Option<WriteTxn> {
        loop {
            let Some(mut member) = self.queue.next_member() else {
                return Some(txn);
            };
            let Some(job) = member.job.as_mut() else {
                match self.queue.hand(&member, txn, &self.gate) {
                    // Every member queued before a job (or every member)
                    // ran.
                    (Some(kv), Report::Ran) => {
                        txn = kv;
                        continue;
                    }
                    (_, Report::Over(member)) => self.queue.overflow(member),
                    _ => self.queue.rerun(),
                }
                return None;
            };
            // A job runs here, on the leader's thread.
            let mut tx = WriteTx::grouped(txn, cx.shared);
            let ok = job.run(&mut tx);
            let (kv, recorded, changes) = tx.into_parts();
            match (ok, recorded, kv) {
                (true, None, Some(kv)) if kv.fits().is_ok() => {
                    cx.hub.stage(changes);
                    self.queue.ran_in_place(member);
                    txn = kv;
                    continue;
                }
                (true, None, Some(_)) => self.queue.overflow(member),
                (ok, recorded, _) => {
                    if ok {
                        job.fail(recorded.unwrap_or(Error::Finished));
                    }
                    self.queue.release(member);
                    self.queue.rerun();
                }
            }
            return None;
        }
    }

    /// Takes part in a group as a member: runs `f` in its turn and waits
    /// for the group's outcome. `None`: join again (the group was
    /// abandoned, or runs again without another member).
    fn serve<T, E: From<Error>>(
        &self,
        cx: Ctx<'_>,
        id: u64,
        f: &mut impl FnMut(&mut WriteTx) -> Result<T, E>,
    ) -> Option<Result<T, E>> {
        let txn = match self.queue.wait_turn(id) {
            Turn::Run(txn) => txn,
            Turn::Word(Outcome::Again) => return None,
            Turn::Word(Outcome::Failed(e)) => return Some(Err(e.into())),
            // Word of a finished run before any turn: not for a member
            // without a job (it is told in its turn), kept for totality.
            Turn::Word(Outcome::Committed | Outcome::Own) => {
                return Some(Err(Error::Finished.into()));
            }
        };
        let mut guard = MemberGuard {
            queue: &self.queue,
            gate: &self.gate,
            armed: true,
        };
        let mut tx = WriteTx::grouped(txn, cx.shared);
        let result = f(&mut tx);
        let (kv, recorded, changes) = tx.into_parts();
        guard.armed = false;
        let value = match (result, recorded, kv) {
            (Ok(v), None, Some(kv)) if kv.fits().is_ok() => {
                cx.hub.stage(changes);
                self.queue.pass_on(id, kv, &self.gate);
                v
            }
            // Past the engine's limits with the others' writes: this
            // member leads the next group, where it is judged alone.
            (Ok(_), None, Some(kv)) => {
                let report = Report::Over(Queue::ticket(id));
                self.queue.give_back(Some(kv), report, &self.gate);
                return match self.queue.wait_outcome(id) {
                    Outcome::Failed(e) => Some(Err(e.into())),
                    _ => None,
                };
            }
            (result, recorded, kv) => {
                self.queue.give_back(kv, Report::Failed, &self.gate);
                return Some(match (result, recorded) {
                    (Err(e), _) => Err(e),
                    (Ok(_), Some(e)) => Err(e.into()),
                    (Ok(_), None) => Err(Error::Finished.into()),
                });
            }
        };
        match self.queue.wait_outcome(id) {
            Outcome::Committed => Some(Ok(value)),
            Outcome::Failed(e) => Some(Err(e.into())),
            Outcome::Again => None,
            // Only a member with a job is told this.
            Outcome::Own => Some(Err(Error::Finished.into())),
        }
    }
}

/// Ends the leader's group if the leader leaves it any other way than
/// through [`Queue::finish`] (an error, or a panic in its closure).
struct LeaderGuard<'a> {
    queue: &'a Queue,
    done: bool,
}

impl Drop for LeaderGuard<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.queue.abandon();
        }
    }
}

/// Gives the transaction back as failed (and the write turn with it) if
/// the member's closure panics while holding it.
struct MemberGuard<'a> {
    queue: &'a Queue,
    gate: &'a Gate,
    armed: bool,
}

impl Drop for MemberGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.queue.give_back(None, Report::Failed, self.gate);
        }
    }
}
