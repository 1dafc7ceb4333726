//! Group commit: concurrent [`Db::update`](crate::Db::update) calls share
//! one engine transaction and one durable commit.
//!
//! The first caller to arrive when no group is running becomes the
//! group's *leader*: it takes the write turn, begins the engine
//! transaction and runs its own closure. Callers that arrive meanwhile
//! join the group as *members* and wait. When its closure is done, the
//! leader hands the transaction to the first member; each member runs its
//! closure on its own thread (closures borrow their caller's stack, so
//! they cannot move) and hands the transaction on to the next member in
//! arrival order. The last one gives it back to the leader, which commits
//! once, for everyone, and tells each member the outcome. Nobody waits on a timer: a caller alone
//! commits at once, and the callers that pile up during one commit's
//! `fsync` form the next group.
//!
//! **Isolation.** Closures run one after another, each seeing the writes
//! of those before it, exactly as if their transactions had run in that
//! order. When a closure fails (returns `Err`, fails its transaction, or
//! panics), only its caller gets the failure: the group's transaction,
//! which holds that closure's writes, is abandoned, and the closures that
//! had already run in it run again in a new one (the failed one is not
//! among them). So a closure may run more than once; its caller sees only
//! the result of its last run, and only once the group committed.
//!
//! **Jobs.** A caller of [`Db::batch`](crate::Db::batch) joins with a
//! *job*: its closure owns what it uses and is `Send`, so whichever thread
//! holds the transaction runs it in place, and its caller's thread is woken
//! only once, for the outcome. A member hands the transaction back to the
//! leader when the next in line is a job; the leader runs jobs one after
//! another with no thread switch between them. On a 2-core machine a
//! hand-over between threads cost more than the closure itself.
//!
//! A group takes at most [`MAX_MEMBERS`] members, so a steady stream of
//! callers cannot keep a commit from happening.

use std::collections::{HashMap, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, Thread, ThreadId};

use crate::engine::WriteTxn;
use crate::error::Error;
use crate::tx::WriteTx;

/// The most members one group takes (the leader not counted).
pub(crate) const MAX_MEMBERS: usize = 256;

/// The group-commit state of one database.
#[derive(Default)]
pub(crate) struct Groups {
    state: Mutex<State>,
    changed: Condvar,
    /// Updates committed, and the engine commits that carried them.
    updates: AtomicU64,
    commits: AtomicU64,
}

/// How well concurrent updates were grouped (see
/// [`Db::commit_stats`](crate::Db::commit_stats)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CommitStats {
    /// `Db::update` calls that committed.
    pub updates: u64,
    /// The engine commits (each one durable write to disk) that carried
    /// them: fewer than `updates` when concurrent updates were grouped.
    pub commits: u64,
}

#[derive(Default)]
struct State {
    /// A leader is running a group.
    leading: bool,
    /// The running group still takes members.
    open: bool,
    /// Members admitted to the running group so far.
    admitted: usize,
    /// Members waiting for their turn, oldest first.
    queue: VecDeque<Ticket>,
    /// Members whose closures ran in the group's transaction and who wait
    /// for its outcome.
    ran: Vec<Ticket>,
    /// The leader's thread, woken when a member hands the transaction back.
    leader: Option<Thread>,
    /// The member whose turn it is; the transaction waits in `slot` until
    /// it takes it.
    handed: Option<u64>,
    slot: Option<WriteTxn>,
    /// What the member whose turn it was reported when done.
    report: Option<Report>,
    /// Word for members: their outcome, or that they must join again.
    outcomes: HashMap<u64, Outcome>,
    /// The last group ended by waking members, who may be about to join
    /// the next one.
    just_told: bool,
    next_ticket: u64,
}

/// A member of a group.
pub(crate) struct Ticket {
    pub id: u64,
    pub thread: Thread,
    /// A closure any thread may run ([`Job`]); `None`: only the member's
    /// own thread runs its closure, in its turn.
    pub job: Option<Box<dyn Job>>,
}

/// A member's closure that the thread holding the group's transaction
/// runs in place (see "Jobs" above). Its caller reads the result once told
/// its outcome.
pub(crate) trait Job: Send {
    /// Runs the closure in `tx`: `true` if it returned `Ok` (its value is
    /// kept for its caller). A panic is caught and kept for the caller's
    /// thread, and counts as a failure.
    fn run(&mut self, tx: &mut WriteTx) -> bool;
    /// The closure returned `Ok`, but its run failed after all (it failed
    /// the transaction): `e` is its caller's result instead.
    fn fail(&mut self, e: Error);
}

/// How a member's closure went.
pub(crate) enum Report {
    /// It ran and left its writes in the transaction.
    Ran,
    /// It failed: the transaction holds writes that must not commit.
    Failed,
}

/// What a member is told.
pub(crate) enum Outcome {
    /// The group committed: the member's result stands.
    Committed,
    /// The group's commit failed (or it could not begin).
    Failed(Error),
    /// The member must run its closure again, in a group it joins anew.
    Again,
    /// The member's job failed (or panicked); what it left for its caller
    /// is the caller's result.
    Own,
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

/// What a caller of `Db::update` becomes.
pub(crate) enum Role {
    Leader,
    Member(u64),
}

/// What a waiting member gets.
pub(crate) enum Turn {
    /// The transaction: run the closure in it, then [`Groups::give_back`].
    Run(WriteTxn),
    /// Word instead of a turn.
    Word(Outcome),
}

impl Groups {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is only changed in whole steps under the lock; a
        // panic elsewhere cannot leave it half-written.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn wait<'a>(&self, s: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.changed.wait(s).unwrap_or_else(|p| p.into_inner())
    }

    /// Joins the running group as a member (with `job`, one whose closure
    /// any thread may run), or leads a new one (`job` is then dropped: the
    /// leader runs its closure itself).
    pub fn join(&self, job: Option<Box<dyn Job>>) -> Role {
        let mut s = self.lock();
        loop {
            if !s.leading {
                s.leading = true;
                s.open = true;
                s.admitted = 0;
                s.leader = Some(thread::current());
                return Role::Leader;
            }
            if s.open && s.admitted < MAX_MEMBERS {
                s.admitted += 1;
                let id = s.next_ticket;
                s.next_ticket += 1;
                s.queue.push_back(Ticket {
                    id,
                    thread: thread::current(),
                    job,
                });
                return Role::Member(id);
            }
            s = self.wait(s);
        }
    }

    // ---- the member's side ----

    /// Waits for the member's turn (or for word that replaces it).
    pub fn wait_turn(&self, id: u64) -> Turn {
        loop {
            {
                let mut s = self.lock();
                if let Some(word) = s.outcomes.remove(&id) {
                    return Turn::Word(word);
                }
                if s.handed == Some(id)
                    && let Some(txn) = s.slot.take()
                {
                    s.handed = None;
                    return Turn::Run(txn);
                }
            }
            // Woken by whoever changes this member's state (a wake-up that
            // comes early is harmless: the state is checked again).
            thread::park();
        }
    }

    /// Ends a member's turn whose closure ran and left its writes in
    /// `txn`: records the member among those that ran, and hands `txn`
    /// straight to the next member in the queue, lending it the write turn
    /// (`lend`, called before that member can see its turn) and waking it.
    /// With nobody queued, the group closes and `txn` goes back to the
    /// leader, which commits. One wake-up per member instead of two (to the
    /// member and back to the leader).
    ///
    /// When the next in line is a job, `txn` goes back to the leader
    /// instead, which runs the jobs itself.
    pub fn pass_on(&self, id: u64, txn: WriteTxn, lend: impl FnOnce(ThreadId)) {
        let mut s = self.lock();
        s.ran.push(Ticket {
            id,
            thread: thread::current(),
            job: None,
        });
        s.slot = Some(txn);
        let next_is_job = s.queue.front().map(|t| t.job.is_some());
        let wake = match next_is_job {
            Some(false) => {
                let next = s.queue.pop_front().expect("the front was just seen");
                lend(next.thread.id());
                s.handed = Some(next.id);
                Some(next.thread)
            }
            Some(true) => {
                s.report = Some(Report::Ran);
                s.leader.clone()
            }
            None => {
                s.open = false;
                s.report = Some(Report::Ran);
                s.leader.clone()
            }
        };
        drop(s);
        if let Some(t) = wake {
            t.unpark();
        }
    }

    /// Hands the transaction back to the leader after the member's turn.
    pub fn give_back(&self, txn: Option<WriteTxn>, report: Report) {
        let mut s = self.lock();
        s.slot = txn;
        s.report = Some(report);
        let leader = s.leader.clone();
        drop(s);
        if let Some(leader) = leader {
            leader.unpark();
        }
    }

    /// Waits for the outcome of the group the member ran in.
    pub fn wait_outcome(&self, id: u64) -> Outcome {
        loop {
            if let Some(word) = self.lock().outcomes.remove(&id) {
                return word;
            }
            thread::park();
        }
    }

    // ---- the leader's side ----

    /// The next member whose turn it is; when there is none, the group
    /// closes (later callers form the next one).
    pub fn next_member(&self) -> Option<Ticket> {
        let mut s = self.lock();
        if let Some(next) = s.queue.pop_front() {
            return Some(next);
        }
        // Before closing, let the callers just told the last group's
        // outcome run and join: one yield per group, and none after a
        // group of one (a caller alone is not delayed). No timer.
        if std::mem::take(&mut s.just_told) {
            drop(s);
            thread::yield_now();
            s = self.lock();
            if let Some(next) = s.queue.pop_front() {
                return Some(next);
            }
        }
        s.open = false;
        None
    }

    /// Records a member whose job the leader ran in the group's
    /// transaction: it waits for the group's outcome (and runs again if
    /// the group starts over).
    pub fn ran_in_place(&self, member: Ticket) {
        self.lock().ran.push(member);
    }

    /// Releases a member whose job failed: its own result stands.
    pub fn release(&self, member: Ticket) {
        let mut s = self.lock();
        s.outcomes.insert(member.id, Outcome::Own);
        drop(s);
        member.thread.unpark();
    }

    /// Gives `member` its turn with `txn` and waits until the members'
    /// turns are done (each passes the transaction on to the next, see
    /// [`Groups::pass_on`]): the transaction (`None` if a member lost it,
    /// panicking) and the report of the last turn. `Ran`: every member
    /// queued ran and the group is closed. `Failed`: the member that
    /// failed gave the transaction back; those before it are among the
    /// ones that ran, those after it still wait in the queue.
    pub fn hand(&self, member: &Ticket, txn: WriteTxn) -> (Option<WriteTxn>, Report) {
        {
            let mut s = self.lock();
            s.slot = Some(txn);
            s.handed = Some(member.id);
            s.report = None;
        }
        member.thread.unpark();
        loop {
            {
                let mut s = self.lock();
                if let Some(report) = s.report.take() {
                    return (s.slot.take(), report);
                }
            }
            thread::park();
        }
    }

    /// Abandons the group's transaction: the members that ran in it run
    /// again (jobs go back to the front of the queue, in the order they
    /// ran; the others join again), and the group takes members again.
    pub fn rerun(&self) {
        let mut s = self.lock();
        let ran = std::mem::take(&mut s.ran);
        let (jobs, again): (Vec<Ticket>, Vec<Ticket>) =
            ran.into_iter().partition(|t| t.job.is_some());
        for t in jobs.into_iter().rev() {
            s.queue.push_front(t);
        }
        for t in &again {
            s.admitted -= 1;
            s.outcomes.insert(t.id, Outcome::Again);
        }
        s.open = true;
        drop(s);
        for t in again {
            t.thread.unpark();
        }
        self.changed.notify_all();
    }

    /// Counts a commit that carried the leader's update and those of the
    /// members that ran.
    pub fn count_commit(&self) {
        let members = self.lock().ran.len() as u64;
        self.updates.fetch_add(1 + members, Ordering::Relaxed);
        self.commits.fetch_add(1, Ordering::Relaxed);
    }

    /// The counts so far.
    pub fn stats(&self) -> CommitStats {
        CommitStats {
            updates: self.updates.load(Ordering::Relaxed),
            commits: self.commits.load(Ordering::Relaxed),
        }
    }

    /// Ends the group: every member that ran gets `outcome`, every member
    /// still waiting for a turn must join again, and the next caller
    /// leads.
    pub fn finish(&self, outcome: impl Fn() -> Outcome) {
        let mut s = self.lock();
        let ran = std::mem::take(&mut s.ran);
        let queued = std::mem::take(&mut s.queue);
        for t in &ran {
            s.outcomes.insert(t.id, outcome());
        }
        for t in &queued {
            s.outcomes.insert(t.id, Outcome::Again);
        }
        s.leading = false;
        s.open = false;
        s.handed = None;
        s.slot = None;
        s.leader = None;
        s.just_told = !(ran.is_empty() && queued.is_empty());
        drop(s);
        for t in ran.iter().chain(&queued) {
            t.thread.unpark();
        }
        // Callers waiting for the next group.
        self.changed.notify_all();
    }

    /// Ends the group without a commit: everyone joins again (the leader
    /// failed or is unwinding).
    pub fn abandon(&self) {
        self.finish(|| Outcome::Again);
    }

    /// Ends the group with the same failure for every member, queued or
    /// run (no transaction could begin).
    pub fn fail_all(&self, e: &Error) {
        let mut s = self.lock();
        let waiting: Vec<Ticket> = s.queue.drain(..).collect();
        for t in &waiting {
            s.outcomes.insert(t.id, Outcome::Failed(e.duplicate()));
        }
        drop(s);
        for t in waiting {
            t.thread.unpark();
        }
        self.finish(|| Outcome::Failed(e.duplicate()));
    }
}

/// Ends the leader's group if the leader leaves it any other way than
/// through [`Groups::finish`] (an error, or a panic in its closure).
pub(crate) struct LeaderGuard<'a> {
    pub groups: &'a Groups,
    pub done: bool,
}

impl Drop for LeaderGuard<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.groups.abandon();
        }
    }
}

/// Gives the transaction back as failed if the member's closure panics
/// while holding it.
pub(crate) struct MemberGuard<'a> {
    pub groups: &'a Groups,
    pub armed: bool,
}

impl Drop for MemberGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.groups.give_back(None, Report::Failed);
        }
    }
}
