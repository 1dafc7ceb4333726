//! The writer gate: one write transaction at a time, handed out in turn.
//!
//! The engine lets one writer in and makes the others wait. Waiting is
//! right for another thread, but a thread that asks again while it already
//! holds the write transaction (a helper that begins its own, a task that
//! kept one across an `.await` on a single-threaded runtime) would wait for
//! itself forever. The gate hands out the write turn itself, so it knows
//! which thread holds it: that thread's second request fails at once with
//! [`Error::WriteInProgress`], and a request may also give up after a
//! timeout ([`Error::Timeout`]).
//!
//! A [`WriterTurn`] is held by the write transaction and gives the turn
//! back when dropped, whether the transaction committed, rolled back or
//! unwound from a panic.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use crate::error::Error;

/// Who holds the write turn.
#[derive(Default)]
pub(crate) struct Gate {
    holder: Mutex<Option<ThreadId>>,
    freed: Condvar,
}

impl Gate {
    /// The holder, read through a poisoned lock too: the state is a plain
    /// `Option` that no panic can leave half-written.
    fn holder(&self) -> MutexGuard<'_, Option<ThreadId>> {
        self.holder.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes the write turn, waiting for the current holder (at most
    /// `timeout`, when given).
    pub(crate) fn enter(self: &Arc<Gate>, timeout: Option<Duration>) -> Result<WriterTurn, Error> {
        let me = thread::current().id();
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut holder = self.holder();
        loop {
            match *holder {
                None => break,
                Some(owner) if owner == me => return Err(Error::WriteInProgress),
                Some(_) => {}
            }
            holder = match deadline {
                None => self.freed.wait(holder).unwrap_or_else(|p| p.into_inner()),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(Error::Timeout);
                    }
                    self.freed
                        .wait_timeout(holder, left)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
            };
        }
        *holder = Some(me);
        Ok(WriterTurn {
            gate: Arc::clone(self),
        })
    }
}

impl Gate {
    /// True if this thread holds the write turn (or has it on loan).
    pub(crate) fn held_by_me(&self) -> bool {
        *self.holder() == Some(thread::current().id())
    }

    /// Names `thread` as the holder while it holds a group's transaction
    /// (so that thread, not the leader, is refused a second write
    /// transaction); the group module hands the turn on with the
    /// transaction and back to the leader before a member returns.
    pub(crate) fn lend(&self, thread: ThreadId) {
        *self.holder() = Some(thread);
    }
}

/// The write turn; given back when dropped.
pub(crate) struct WriterTurn {
    gate: Arc<Gate>,
}

impl Drop for WriterTurn {
    fn drop(&mut self) {
        *self.gate.holder() = None;
        self.gate.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_holding_thread_is_refused_at_once_and_others_wait() {
        let gate = Arc::new(Gate::default());
        let turn = gate.enter(None).unwrap();
        assert!(matches!(gate.enter(None), Err(Error::WriteInProgress)));
        let other = {
            let gate = Arc::clone(&gate);
            thread::spawn(move || gate.enter(Some(Duration::from_millis(30))).map(drop))
        };
        assert!(matches!(other.join().unwrap(), Err(Error::Timeout)));
        let waiter = {
            let gate = Arc::clone(&gate);
            thread::spawn(move || gate.enter(None).map(drop))
        };
        thread::sleep(Duration::from_millis(20));
        drop(turn);
        assert!(waiter.join().unwrap().is_ok());
        assert!(gate.enter(Some(Duration::ZERO)).is_ok());
    }
}
