//! Operations: what running a vbolt database in production needs beyond
//! reads and writes, as library functions.
//!
//! - [`apply_db_process`] / [`apply_db_process_batched`]: run-once
//!   migrations, recorded in the database.
//! - [`backup`] / [`restore`]: an online, consistent, checksummed backup
//!   stream, and an atomic restore of it into a new file;
//!   [`restore_into`] loads one into an open, empty database instead (an
//!   etcd cluster's), in batches.
//! - [`load`]: a new file from a plain list of tables and entries (the way
//!   back from a text dump).
//! - [`check`]: the engine's structure plus vbolt's own invariants (every
//!   index's term entries, target entries and counts agree).
//! - [`rebuild_index`]: an index is derived data; rebuild it from its bucket.
//! - [`compact`] / [`compact_into`]: give free space back to the file system.
//! - [`tables`], [`raw_entries`], [`debug_entries`]: inspection without, or
//!   with, the application's types.
//!
//! Long operations report [`Progress`] to a callback; pass `|_| {}` to
//! ignore it.

mod backup;
mod check;
mod compact;
mod inspect;
mod load;
mod process;
mod rebuild;

pub use backup::{BackupOptions, BackupSummary, backup, backup_to_path, restore, restore_into};
pub use check::{CheckReport, Problem, check, check_with_progress};
pub use compact::{Compacted, compact, compact_into};
pub use inspect::{Role, TableInfo, debug_entries, index_entry_parts, raw_entries, tables};
pub use load::{DumpItem, load};
pub use process::{apply_db_process, apply_db_process_batched, process_applied};
pub use rebuild::rebuild_index;

/// How far a long operation has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Units done so far (entries, for every operation here).
    pub done: u64,
    /// Units in all, as known when the operation started.
    pub total: u64,
}

impl Progress {
    /// `done / total` in `0.0..=1.0` (1.0 when there is nothing to do).
    pub fn fraction(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            (self.done as f64 / self.total as f64).min(1.0)
        }
    }
}

/// Calls `report` about every `STEP` units, and always at the end, so a
/// progress bar costs nothing measurable.
pub(crate) struct Reporter<F: FnMut(Progress)> {
    report: F,
    done: u64,
    total: u64,
    next: u64,
}

const STEP: u64 = 4096;

impl<F: FnMut(Progress)> Reporter<F> {
    pub(crate) fn new(total: u64, mut report: F) -> Reporter<F> {
        report(Progress { done: 0, total });
        Reporter {
            report,
            done: 0,
            total,
            next: STEP,
        }
    }

    #[inline]
    pub(crate) fn add(&mut self, n: u64) {
        self.done += n;
        if self.done >= self.next {
            self.next = self.done + STEP;
            (self.report)(Progress {
                done: self.done,
                total: self.total.max(self.done),
            });
        }
    }

    pub(crate) fn finish(mut self) -> u64 {
        (self.report)(Progress {
            done: self.done,
            total: self.total.max(self.done),
        });
        self.done
    }
}
