//! Misusing `#[derive(Pack)]` or `#[derive(PackKey)]` (or passing a value
//! encoding where a key encoding goes) fails to compile, with a message that points
//! at the attribute or field at fault. Each case is a file in
//! `tests/derive_misuse/`, its expected compiler output beside it
//! (`TRYBUILD=overwrite cargo test -p vpack --test derive_misuse` rewrites
//! them after a deliberate change to a message).

#[test]
fn misuse_fails_to_compile_with_a_clear_message() {
    trybuild::TestCases::new().compile_fail("tests/derive_misuse/*.rs");
}
