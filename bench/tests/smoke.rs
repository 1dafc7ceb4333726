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

#[test]
fn several_runs_also_print_each_runs_ratio_range() {
    let out = Command::new(env!("CARGO_BIN_EXE_vbolt-bench"))
        .args(["--tiny", "--runs", "2", "--systems", "vbolt,raw-redb"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let (_, ratios) = stdout
        .split_once("Ratio to vbolt in each run, lowest–highest over the 2 runs:")
        .unwrap_or_else(|| panic!("no ratio table:\n{stdout}"));
    let row = ratios
        .lines()
        .find(|l| l.starts_with("| raw redb |"))
        .unwrap_or_else(|| panic!("no raw redb row:\n{stdout}"));
    let cells: Vec<&str> = row
        .split('|')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    // The name, then one range per figure.
    assert_eq!(cells.len(), 11, "{row}");
    for cell in &cells[1..] {
        let (lo, hi) = cell
            .split_once('–')
            .unwrap_or_else(|| panic!("{cell} in {row}"));
        let (lo, hi): (f64, f64) = (lo.parse().unwrap(), hi.parse().unwrap());
        assert!(0.0 < lo && lo <= hi, "{cell} in {row}");
    }
}

#[test]
fn the_write_ahead_log_variants_run_and_agree() {
    let out = Command::new(env!("CARGO_BIN_EXE_vbolt-bench"))
        .args([
            "--tiny",
            "--runs",
            "1",
            "--systems",
            "vbolt,vbolt-wal,vbolt-wal-batch",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("answers cross-checked: identical"),
        "{stdout}"
    );
    for system in ["| vbolt (wal) |", "| vbolt (wal, batch) |"] {
        assert!(stdout.contains(system), "{system} missing:\n{stdout}");
    }
}

#[test]
fn paired_reads_print_a_ratio_per_read_figure() {
    let out = Command::new(env!("CARGO_BIN_EXE_vbolt-bench"))
        .args(["--tiny", "--paired", "vbolt,raw-redb", "--rounds", "5"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    for figure in [
        "point_read (ns)",
        "point_read_tx (ns)",
        "page_query (µs)",
        "count (ns)",
    ] {
        let row = stdout
            .lines()
            .find(|l| l.starts_with(&format!("| {figure} |")))
            .unwrap_or_else(|| panic!("no {figure} row:\n{stdout}"));
        let cells: Vec<&str> = row
            .split('|')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        assert_eq!(cells.len(), 5, "{row}");
        let ratio: f64 = cells[3].parse().unwrap();
        assert!(ratio > 0.0 && ratio.is_finite(), "{row}");
    }
}
