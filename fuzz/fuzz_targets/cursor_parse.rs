//! Hostile cursors: arbitrary bytes and text as a window's cursor must be
//! refused or read nothing, never panic, and never return another term's
//! targets. The check is shared with `vbolt/tests/model_ops.rs`.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)] // each target uses part of the shared model
#[path = "../../vbolt/tests/model/mod.rs"]
mod model;

static DB: OnceLock<vbolt::Db> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    model::hostile_cursor(DB.get_or_init(model::cursor_db), data);
});
