//! Damaged write-ahead logs: a log holding ten commits, cut and with bits
//! flipped as the input says, must give back whole commits at the next
//! open or fail as damage, never panic. The check is shared with
//! `vbolt/tests/wal.rs`.
#![no_main]

use std::sync::{Mutex, OnceLock};

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)] // the fuzz target uses part of the shared module
#[path = "../../vbolt/tests/wal_model/mod.rs"]
mod wal_model;

/// The sample and the directory it lives in (kept for the whole run).
static SAMPLE: OnceLock<Mutex<(tempfile::TempDir, wal_model::Sample)>> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let sample = SAMPLE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let sample = wal_model::Sample::new(dir.path(), 4, 10);
        Mutex::new((dir, sample))
    });
    let guard = sample.lock().unwrap();
    guard.1.open_damaged(data);
});
