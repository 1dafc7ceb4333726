//! Group commit: concurrent [`Db::update`](crate::Db::update) and
//! [`Db::batch`](crate::Db::batch) calls share one engine transaction and
//! one durable commit, and each caller still gets exactly its own outcome.
//! This module owns the whole protocol: who holds the write turn, who
//! holds the transaction, and what hands them on. `Db` only calls
//! [`Groups::update`], [`Groups::batch`] and [`Groups::alone`].
//!
//! # The protocol
//!
//! The first caller to arrive when no group is running becomes the
//! group's *leader*: it takes the write turn (the [`Gate`]), begins the
//! engine transaction and runs its own closure. Callers that arrive
//! meanwhile join as *members* and wait. When its closure is done, the
//! leader hands the transaction to the first member; each member runs its
//! closure on its own thread (an `update` closure borrows its caller's
//! stack, so it cannot move) and hands the transaction straight on to the
//! next member in arrival order. The last one gives it back to the leader,
//! which commits once for everyone and tells each member the outcome.
//! Nobody waits on a timer: a caller alone commits at once, and the
//! callers that pile up during one commit's `fsync` form the next group.
//!
//! A caller of `batch` joins with a *job*: its closure owns its data and
//! is `Send`, so the thread holding the transaction runs it in place
//! ([`job`]), and its caller's thread is woken once, for the outcome.
//!
//! ```text
//!                 join, nobody leads                    join, a group is open
//!   caller ──────────────────────────► LEADER     caller ─────────────────► QUEUED
//!                                        │ runs own closure                 │
//!                                        ▼                                  │ its turn: leader
//!              ┌───────────────► HOLDS THE TRANSACTION ◄──── gives back ──┐ │ or last member
//!              │                    │    │    │                          │ │ lends it the turn
//!              │ member failed:     │    │    └── job next: runs it ──┐  │ ▼
//!              │ rerun the ones     │    │        in place            │  RUNNING (member)
//!              │ that ran, without  │    │                            │   │  ok: pass_on to the
//!              │ it (failure is     │    │ queue empty                │   │  next member (lending
//!              │ the member's own)  │    ▼                            │   │  it the turn) or back
//!              │                 COMMITS ─── ok ──► every member ran: │   │  to the leader
//!              │                    │             Committed           │   │  failed / over limit:
//!              └── conflict (etcd): │                                 │   │  give_back (turn goes
//!                  all members join │ other error: members that ran   │   │  back to the leader
//!                  again, leader    │ get it; queued ones join again  ◄───┘  before it returns)
//!                  retries alone    ▼
//!                                 DONE: turn released, next caller (or heir) leads
//! ```
//!
//! Rules that make each outcome exact:
//!
//! - **The write turn follows the transaction.** Whoever holds the
//!   transaction is named by the gate (so a closure that begins another
//!   write transaction is refused with
//!   [`Error::WriteInProgress`](crate::Error::WriteInProgress) instead of
//!   waiting for itself), and a member puts the turn back in the leader's
//!   name *before* it returns, whatever its closure did: its caller's next
//!   call is never mistaken for a nested one.
//! - **A failure is its caller's only.** When a closure fails (returns
//!   `Err`, fails its transaction, or panics), its caller gets that
//!   failure; the group's transaction, which holds its writes, is
//!   abandoned, and the closures that had already run in it run again in
//!   a new one without it. So a closure may run more than once; its caller
//!   sees only its last run, and only once the group committed.
//! - **Limits cut the group, not the caller.** An engine with limits per
//!   transaction (etcd: operations and bytes per request) is asked after
//!   each closure whether the transaction still fits. When a member's
//!   writes take it past them, the group starts over without that member,
//!   which then leads the next group (the *heir*), so it is judged alone:
//!   only an update that alone exceeds a limit fails with
//!   [`Error::LimitExceeded`](crate::Error::LimitExceeded).
//! - **Conflicts shrink the group.** On a shared engine a commit can lose
//!   to another writer ([`Error::Conflict`](crate::Error::Conflict)). The
//!   leader then retries alone, after a randomized pause ([`retry`]), and
//!   the next groups take half as many members until a commit succeeds: a
//!   long group transaction must not keep losing to short ones.
//!
//! A group takes at most [`MAX_MEMBERS`](queue::MAX_MEMBERS) members, so a steady stream of
//! callers cannot keep a commit from happening.

mod job;
mod queue;
mod retry;
mod run;

pub use queue::CommitStats;
pub(crate) use run::{Ctx, Groups};

#[cfg(doc)]
use crate::gate::Gate;
