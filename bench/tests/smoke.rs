//! The benchmark's smoke test: every system runs every figure of a tiny
//! workload in its own child process, and their answers must agree (the
//! harness exits non-zero otherwise). Times at this size mean nothing.

use std::process::Command;

#[test]
fn every_system_runs_the_tiny_workload_and_agrees() {
    let out = Command::new(env!("CARGO_BIN_EXE_vbolt-bench"))
        .args(["--tiny", "--runs", "1"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("answers cross-checked: identical"),
        "{stdout}"
    );
    for system in [
        "| vbolt |",
        "| raw redb |",
        "| raw redb (memcmp) |",
        "| SQLite |",
        "| SQLite (mmap) |",
        "| native_db |",
        "| LMDB |",
    ] {
        assert!(stdout.contains(system), "{system} missing:\n{stdout}");
    }
}

#[test]
fn bad_arguments_are_refused_with_usage() {
    let out = Command::new(env!("CARGO_BIN_EXE_vbolt-bench"))
        .args(["--runs", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--runs"));
}
