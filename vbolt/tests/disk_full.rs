//! A full disk, for real: a child process writes under a file-size limit
//! (`ulimit -f`, with SIGXFSZ ignored so the write fails with EFBIG instead
//! of killing it). The failing commit must return an error with the reason,
//! the process must go on reading, and after reopening the database holds
//! exactly the commits that returned `Ok`.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use vbolt::*;

static BLOBS: Bucket<u64, Vec<u8>> = Bucket::new("blobs", vpack::key::fuint(), vpack::bytes);

const INITIAL: u64 = 50;

fn count(db: &Db) -> u64 {
    let tx = db.read_tx().unwrap();
    let mut n = 0;
    iterate_all(&tx, &BLOBS, |id, v: Vec<u8>| {
        n += 1;
        assert_eq!(id, n);
        assert_eq!(v, blob(id), "blob {id} is damaged");
        true
    })
    .unwrap();
    n
}

fn blob(id: u64) -> Vec<u8> {
    (0..64 * 1024).map(|i| (i as u64 * 31 + id) as u8).collect()
}

/// Child side: commits blobs until the file-size limit makes a commit fail,
/// then reads, and tries once more. Does nothing as an ordinary test.
#[test]
fn disk_full_child() {
    let Ok(path) = std::env::var("VBOLT_FULL_DB") else {
        return;
    };
    let db = Db::open(&path).unwrap();
    let mut out = std::io::stdout().lock();
    // libtest has printed "test disk_full_child ... " without a newline.
    writeln!(out).unwrap();
    let mut id = count(&db);
    loop {
        id += 1;
        let mut tx = db.write_tx().unwrap();
        write(&mut tx, &BLOBS, id, &mut blob(id));
        match tx.commit() {
            Ok(()) => writeln!(out, "ACK {id}").unwrap(),
            Err(e) => {
                writeln!(out, "ERR {e}").unwrap();
                break;
            }
        }
        out.flush().unwrap();
        assert!(id < 10_000, "the file-size limit never took effect");
    }
    // Reads go on after the failure.
    writeln!(out, "READ {}", count(&db)).unwrap();
    // A second attempt fails cleanly too (or succeeds if space was freed).
    let again = db.write_tx().and_then(|mut tx| {
        write(&mut tx, &BLOBS, id, &mut blob(id));
        tx.commit()
    });
    writeln!(
        out,
        "AGAIN {}",
        again.map_or_else(|e| format!("error: {e}"), |()| "ok".into())
    )
    .unwrap();
    writeln!(out, "DONE").unwrap();
}

#[test]
fn a_full_disk_fails_the_commit_with_a_reason_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("full.vbolt");
    {
        let db = Db::open(&path).unwrap();
        let mut tx = db.write_tx().unwrap();
        for id in 1..=INITIAL {
            write(&mut tx, &BLOBS, id, &mut blob(id));
        }
        tx.commit().unwrap();
    }
    let size = std::fs::metadata(&path).unwrap().len();
    // Room for the file to grow to three times its size (the engine grows
    // it in large steps), in bash's 1024-byte blocks.
    let blocks = size * 3 / 1024;
    let script = format!("trap '' XFSZ; ulimit -f {blocks}; exec \"$0\" \"$@\"");
    let child = Command::new("bash")
        .args(["-c", &script])
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "disk_full_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("VBOLT_FULL_DB", &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Waited for on another thread, which drains both pipes as it waits
    // (a child blocked on a full pipe would look hung).
    let pid = child.id().to_string();
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || done.send(child.wait_with_output()));
    let Ok(out) = finished.recv_timeout(Duration::from_secs(120)) else {
        let _ = Command::new("kill").args(["-9", &pid]).status();
        panic!("the child hung");
    };
    let out = out.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the child crashed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    let acked = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("ACK ")?.parse::<u64>().ok())
        .max()
        .unwrap_or(INITIAL);
    let err = stdout
        .lines()
        .find_map(|l| l.strip_prefix("ERR "))
        .unwrap_or_else(|| panic!("no commit failed:\n{stdout}"));
    assert!(
        err.contains("File too large") || err.contains("os error 27"),
        "the error does not say why: {err}"
    );
    assert!(stdout.contains(&format!("READ {acked}")), "{stdout}");
    assert!(stdout.contains("DONE"), "{stdout}");
    eprintln!(
        "disk full: {} commits acknowledged, then: {err}",
        acked - INITIAL
    );

    let db = Db::open(&path).unwrap();
    assert_eq!(
        count(&db),
        acked,
        "the database does not hold exactly the acknowledged commits"
    );
    assert!(check(&db).unwrap().is_ok());
    let mut tx = db.write_tx().unwrap();
    write(&mut tx, &BLOBS, acked + 1, &mut blob(acked + 1));
    tx.commit().unwrap();
}
