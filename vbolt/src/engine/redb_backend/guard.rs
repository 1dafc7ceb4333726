//! One unwind guard per engine operation: redb trusts its pages and can
//! panic on a damaged one; such a panic becomes [`Error::Corrupted`], while
//! a panic in the caller's code (a visitor, a pack function) passes on
//! unchanged.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use crate::error::Error;

pub(super) fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Marks where a guarded operation hands control to code that is not the
/// engine's (a visitor, a pack function): a panic raised there is the
/// caller's own and is passed on unchanged.
pub(super) struct Handoff(Cell<bool>);

impl Handoff {
    #[inline]
    pub(super) fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        self.0.set(true);
        let r = f();
        self.0.set(false);
        r
    }
}

/// An engine failure inside a guarded step: [`Error`] (48 bytes) boxed to
/// one pointer, so what crosses the unwind guard stays small. A whole
/// `Result<T, Error>` there was copied through memory on every call; with
/// this and `get_in`'s in-place match, a count went from 870 to 846
/// instructions (BENCHMARKS.md).
pub(super) struct Fault(Box<Error>);

impl<E: Into<Error>> From<E> for Fault {
    fn from(e: E) -> Fault {
        Fault(Box::new(e.into()))
    }
}

/// Runs a whole engine operation, including the calls it makes to the
/// caller's code through [`Handoff::run`], under one unwind guard. The
/// engine trusts its pages and can panic on a damaged one (an offset out of
/// range): such a panic becomes [`Error::Corrupted`]. A panic in the
/// caller's code continues unwinding as if there were no guard, so it is
/// never hidden. One guard per operation, not one per engine step, keeps a
/// scan step or a lookup free of extra moves; the step's value leaves
/// through `out`, so only a pointer-sized status crosses the guard.
#[inline]
pub(super) fn guarded_op<T>(
    what: &str,
    f: impl FnOnce(&Handoff) -> Result<T, Fault>,
) -> Result<T, Error> {
    let handoff = Handoff(Cell::new(false));
    let mut out = None;
    let status = catch_unwind(AssertUnwindSafe(|| {
        out = Some(f(&handoff)?);
        Ok::<(), Fault>(())
    }));
    match status {
        Ok(Ok(())) => out.ok_or_else(|| Error::Engine(format!("{what}: no result"))),
        Ok(Err(Fault(e))) => Err(*e),
        Err(p) if handoff.0.get() => resume_unwind(p),
        Err(p) => Err(Error::Corrupted(format!(
            "{what}: the storage engine failed: {}",
            panic_message(p)
        ))),
    }
}

/// [`guarded_op`] for an engine call that runs no caller code.
pub(super) fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T, Fault>) -> Result<T, Error> {
    guarded_op(what, |_| f())
}

/// [`guarded`] for a step that reads pages.
#[inline]
pub(super) fn shielded<T>(f: impl FnOnce() -> Result<T, Fault>) -> Result<T, Error> {
    guarded_op("read", |_| f())
}

/// [`guarded_op`] for a read that hands data to caller code.
#[inline]
pub(super) fn shielded_op<T>(f: impl FnOnce(&Handoff) -> Result<T, Fault>) -> Result<T, Error> {
    guarded_op("read", f)
}
