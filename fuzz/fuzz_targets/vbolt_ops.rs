//! Random sequences of vbolt operations (writes, deletes, index updates,
//! rollbacks, paged reads) checked against an in-memory model after every
//! transaction. The interpreter is shared with `vbolt/tests/model_ops.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)] // each target uses part of the shared model
#[path = "../../vbolt/tests/model/mod.rs"]
mod model;

fuzz_target!(|data: &[u8]| {
    model::run(data);
});
