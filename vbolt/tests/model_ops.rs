//! Deterministic short runs of the fuzz targets' checks (see `tests/model`
//! and `fuzz/`): random operation sequences against an in-memory model, and
//! hostile cursors. Fixed seeds, so a failure reproduces; the fuzz targets
//! run the same code on coverage-guided inputs.

mod model;

fn inputs(seed: u64, count: usize, max_len: usize) -> impl Iterator<Item = Vec<u8>> {
    let mut x = seed;
    (0..count).map(move |_| {
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let len = (next() % max_len as u64) as usize;
        (0..len).map(|_| next() as u8).collect()
    })
}

#[test]
fn random_operation_sequences_agree_with_the_model() {
    for (n, data) in inputs(0x00DD_BA11, 400, 400).enumerate() {
        let result = std::panic::catch_unwind(|| model::run(&data));
        assert!(
            result.is_ok(),
            "case {n} of seed 0x0DDBA11 failed; input: {data:?}"
        );
    }
}

#[test]
fn hostile_cursors_never_panic_nor_cross_terms() {
    let db = model::cursor_db();
    for (n, data) in inputs(0x00C0_250E, 3000, 40).enumerate() {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            model::hostile_cursor(&db, &data)
        }));
        assert!(
            result.is_ok(),
            "case {n} of seed 0xC0250E failed; input: {data:?}"
        );
    }
}
