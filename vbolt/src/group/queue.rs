//! The group's shared state: who leads, who waits for a turn, who ran,
//! where the transaction is, and the word each member is waiting for.
//! Every change happens in one step under one lock; the leader and the
//! members (see [`run`](super::run)) only call the steps below.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::thread::{self, Thread, ThreadId};

use super::job::Job;
use crate::engine::WriteTxn;
use crate::error::Error;
use crate::gate::Gate;

/// The most members one group takes (the leader not counted).
pub(crate) const MAX_MEMBERS: usize = 256;

/// The group-commit state of one database.
pub(crate) struct Queue {
    state: Mutex<State>,
    changed: Condvar,
    /// Updates committed, and the engine commits that carried them.
    updates: AtomicU64,
    commits: AtomicU64,
}

impl Default for Queue {
    fn default() -> Queue {
        Queue {
            state: Mutex::new(State {
                cap: MAX_MEMBERS,
                ..State::default()
            }),
            changed: Condvar::new(),
            updates: AtomicU64::new(0),
            commits: AtomicU64::new(0),
        }
    }
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
    /// The most members a group admits now: [`MAX_MEMBERS`], halved after
    /// each commit that lost to another writer, doubled back after each
    /// that did not.
    cap: usize,
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
    /// The caller that leads the next group: a member whose writes took
    /// its group past the engine's limits runs first in the next one, so
    /// that it is judged alone.
    heir: Option<ThreadId>,
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

/// How a member's turn went.
pub(crate) enum Report {
    /// Its closure ran and left its writes in the transaction.
    Ran,
    /// Its closure failed: the transaction holds writes that must not
    /// commit.
    Failed,
    /// Its closure ran, but the transaction no longer fits the engine's
    /// limits: the member (this ticket) must run again, first in the next
    /// group.
    Over(Ticket),
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

/// What a caller of `Db::update` becomes.
pub(crate) enum Role {
    Leader,
    Member(u64),
}

/// What a waiting member gets.
pub(crate) enum Turn {
    /// The transaction: run the closure in it, then pass it on or give it
    /// back.
    Run(WriteTxn),
    /// Word instead of a turn.
    Word(Outcome),
}

impl Queue {
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
    /// leader runs its closure itself). While an heir is named, only the
    /// heir may lead.
    pub fn join(&self, job: Option<Box<dyn Job>>) -> Role {
        let me = thread::current();
        let mut s = self.lock();
        loop {
            if !s.leading && s.heir.is_none_or(|h| h == me.id()) {
                if s.heir.take().is_some() {
                    // Callers held back for the heir may join it now.
                    self.changed.notify_all();
                }
                s.leading = true;
                s.open = true;
                s.admitted = 0;
                s.leader = Some(me);
                return Role::Leader;
            }
            if s.leading && s.open && s.admitted < s.cap {
                s.admitted += 1;
                let id = s.next_ticket;
                s.next_ticket += 1;
                s.queue.push_back(Ticket {
                    id,
                    thread: me,
                    job,
                });
                return Role::Member(id);
            }
            s = self.wait(s);
        }
    }

    // ---- the member's side ----

    /// A ticket for the calling member, to report with.
    pub fn ticket(id: u64) -> Ticket {
        Ticket {
            id,
            thread: thread::current(),
            job: None,
        }
    }

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
    /// before that member can see its turn, and waking it. With nobody
    /// queued, the group closes and `txn` goes back to the leader, which
    /// commits. One wake-up per member instead of two (to the member and
    /// back to the leader).
    ///
    /// When the next in line is a job, `txn` goes back to the leader
    /// instead, which runs the jobs itself.
    pub fn pass_on(&self, id: u64, txn: WriteTxn, gate: &Gate) {
        let mut s = self.lock();
        s.ran.push(Queue::ticket(id));
        s.slot = Some(txn);
        let next_is_job = s.queue.front().map(|t| t.job.is_some());
        let wake = match next_is_job {
            Some(false) => {
                let next = s.queue.pop_front().expect("the front was just seen");
                gate.lend(next.thread.id());
                s.handed = Some(next.id);
                Some(next.thread)
            }
            Some(true) => {
                s.report = Some(Report::Ran);
                give_turn_to_leader(&s, gate)
            }
            None => {
                s.open = false;
                s.report = Some(Report::Ran);
                give_turn_to_leader(&s, gate)
            }
        };
        drop(s);
        if let Some(t) = wake {
            t.unpark();
        }
    }

    /// Hands the transaction (`None` if a panic lost it) back to the
    /// leader after the member's turn, with the write turn: the member
    /// holds neither when this returns, so its caller's next update is not
    /// mistaken for a nested one.
    pub fn give_back(&self, txn: Option<WriteTxn>, report: Report, gate: &Gate) {
        let mut s = self.lock();
        s.slot = txn;
        s.report = Some(report);
        let leader = give_turn_to_leader(&s, gate);
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

    /// Gives `member` its turn with `txn` and the write turn, and waits
    /// until the members' turns are done (each passes the transaction on
    /// to the next, see [`Queue::pass_on`]): the transaction (`None` if a
    /// member lost it, panicking) and the report of the last turn. `Ran`:
    /// every member queued ran and the group is closed. Otherwise the
    /// member that reported gave the transaction back; those before it are
    /// among the ones that ran, those after it still wait in the queue.
    /// Either way the write turn is the leader's again.
    pub fn hand(&self, member: &Ticket, txn: WriteTxn, gate: &Gate) -> (Option<WriteTxn>, Report) {
        {
            let mut s = self.lock();
            gate.lend(member.thread.id());
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

    /// Abandons the group's transaction after a member failed: the members
    /// that ran in it run again (jobs go back to the front of the queue,
    /// in the order they ran; the others join again), and the group takes
    /// members again.
    pub fn rerun(&self) {
        let mut s = self.lock();
        s.open = true;
        self.restart(s);
    }

    /// Abandons the group's transaction because `member`'s writes took it
    /// past the engine's limits: `member` and every member still queued
    /// join again, `member` as the next group's leader; the members that
    /// ran before it run again, and the group takes no new members.
    pub fn overflow(&self, member: Ticket) {
        let mut s = self.lock();
        s.open = false;
        s.heir = Some(member.thread.id());
        let queued = std::mem::take(&mut s.queue);
        for t in std::iter::once(&member).chain(&queued) {
            s.admitted = s.admitted.saturating_sub(1);
            s.outcomes.insert(t.id, Outcome::Again);
        }
        let woken: Vec<Thread> = std::iter::once(member)
            .chain(queued)
            .map(|t| t.thread)
            .collect();
        self.restart(s);
        for t in woken {
            t.unpark();
        }
    }

    /// Abandons the group's transaction because its commit lost to another
    /// writer's: every member joins again (so the leader's next attempt is
    /// alone, and short), and groups take half as many members until a
    /// commit succeeds.
    pub fn lost(&self) {
        let mut s = self.lock();
        s.open = false;
        s.cap /= 2;
        let mut woken = Vec::new();
        let ran = std::mem::take(&mut s.ran);
        let queued = std::mem::take(&mut s.queue);
        for t in ran.into_iter().chain(queued) {
            s.admitted = s.admitted.saturating_sub(1);
            s.outcomes.insert(t.id, Outcome::Again);
            woken.push(t.thread);
        }
        drop(s);
        for t in woken {
            t.unpark();
        }
    }

    /// The members that ran go back: jobs to the front of the queue, the
    /// others told to join again.
    fn restart(&self, mut s: MutexGuard<'_, State>) {
        let ran = std::mem::take(&mut s.ran);
        let (jobs, again): (Vec<Ticket>, Vec<Ticket>) =
            ran.into_iter().partition(|t| t.job.is_some());
        for t in jobs.into_iter().rev() {
            s.queue.push_front(t);
        }
        for t in &again {
            s.admitted = s.admitted.saturating_sub(1);
            s.outcomes.insert(t.id, Outcome::Again);
        }
        drop(s);
        for t in again {
            t.thread.unpark();
        }
        self.changed.notify_all();
    }

    /// How many members ran in the group's transaction so far.
    pub fn members_ran(&self) -> usize {
        self.lock().ran.len()
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

    /// Ends the group after its commit: every member that ran is told it
    /// committed, and groups may grow again.
    pub fn committed(&self) {
        {
            let mut s = self.lock();
            s.cap = (s.cap * 2).clamp(1, MAX_MEMBERS);
        }
        self.finish(|| Outcome::Committed);
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

/// Puts the write turn back in the leader's name; the leader's thread, to
/// wake. Called by a member under the state lock, before it can return to
/// its caller. (A member's turn only happens while its leader leads, so
/// there is always one.)
fn give_turn_to_leader(s: &State, gate: &Gate) -> Option<Thread> {
    let leader = s.leader.clone()?;
    gate.lend(leader.id());
    Some(leader)
}
