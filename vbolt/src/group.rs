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
//! A group takes at most [`MAX_MEMBERS`] members, so a steady stream of
//! callers cannot keep a commit from happening.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::thread::{self, Thread, ThreadId};

use crate::engine::WriteTxn;
use crate::error::Error;

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
    next_ticket: u64,
}

/// A member of a group.
pub(crate) struct Ticket {
    pub id: u64,
    pub thread: Thread,
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

    /// Joins the running group as a member, or leads a new one.
    pub fn join(&self) -> Role {
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
    pub fn pass_on(&self, id: u64, txn: WriteTxn, lend: impl FnOnce(ThreadId)) {
        let mut s = self.lock();
        s.ran.push(Ticket {
            id,
            thread: thread::current(),
        });
        s.slot = Some(txn);
        let wake = match s.queue.pop_front() {
            Some(next) => {
                lend(next.thread.id());
                s.handed = Some(next.id);
                Some(next.thread)
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
        let next = s.queue.pop_front();
        if next.is_none() {
            s.open = false;
        }
        next
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
    /// again, and the group takes members again.
    pub fn rerun(&self) {
        let mut s = self.lock();
        let again = std::mem::take(&mut s.ran);
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
