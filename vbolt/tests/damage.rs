//! One changed byte in the engine's own structures (page headers, branch
//! pages, the allocator's state and freed-page tree) must never take the
//! process down: every library call returns, with a result or an error.
//!
//! A database of a few hundred records, rewritten and partly deleted so
//! that the allocator holds freed pages, is damaged one byte at a time
//! (XOR 0x9f, as in the report that found an abort: offset 20487 of such a
//! file) in the first 64 bytes of every page, where the engine keeps its
//! page headers and the first entries. For each damaged copy a child
//! process runs the calls that write and close: a default open, one
//! `update`, `check`, `space`, `compact`, and the drop. A panic that
//! escapes, an abort or a hang of the child fails the test, naming the
//! offset.
//!
//! `VBOLT_DAMAGE_STRIDE=1` damages every one of the 64 bytes of each page
//! (the default, 11, takes every eleventh, so CI stays short).

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use vbolt::*;

static NOTES: Bucket<u64, String> = Bucket::new("notes", vpack::key::fuint(), vpack::string);
static WORDS: Index<String, u64> =
    Index::new("note_words", vpack::key::string_z(), vpack::key::fuint());

/// The undamaged file: three rounds of rewrites and a round of deletes, so
/// that freed pages exist.
fn make(path: &Path) {
    let db = Db::open(path).unwrap();
    for round in 0..3u64 {
        let mut tx = db.write_tx().unwrap();
        for id in 1..=300u64 {
            let mut note = format!("note {id} round {round} ").repeat((id % 9 + 1) as usize);
            write(&mut tx, &NOTES, id, &mut note);
            set_target_terms_plain(&mut tx, &WORDS, id, &[format!("w{}", (id + round) % 13)]);
        }
        tx.commit().unwrap();
    }
    let mut tx = db.write_tx().unwrap();
    for id in (1..=300u64).filter(|id| id.is_multiple_of(4)) {
        delete(&mut tx, &NOTES, id);
        delete_target_terms(&mut tx, &WORDS, id);
    }
    tx.commit().unwrap();
}

/// The calls a program makes on a file it does not know is damaged; every
/// result is ignored, only returning matters.
fn exercise(path: &Path) {
    let Ok(mut db) = Db::open(path) else { return };
    let _ = db.update(|tx| {
        write(tx, &NOTES, 7, &mut "seven".to_string());
        set_target_terms_plain(tx, &WORDS, 7, &["w99".to_string()]);
        Ok::<_, Error>(())
    });
    let _ = check(&db);
    let _ = db.space();
    let _ = compact(&mut db, |_| {});
    drop(db);
}

/// Child side: damages the pristine file at each offset of
/// `VBOLT_DAMAGE_OFFSETS` in turn. Does nothing as an ordinary test.
#[test]
fn damage_child() {
    let Ok(dir) = std::env::var("VBOLT_DAMAGE_DIR") else {
        return;
    };
    let dir = Path::new(&dir);
    if !dir.join("pristine.vbolt").exists() {
        make(&dir.join("pristine.vbolt")); // a run by hand, on one offset
    }
    let pristine = std::fs::read(dir.join("pristine.vbolt")).unwrap();
    let offsets = std::env::var("VBOLT_DAMAGE_OFFSETS").unwrap();
    for at in offsets.split(',').map(|o| o.parse::<usize>().unwrap()) {
        let mut bytes = pristine.clone();
        bytes[at] ^= 0x9f;
        let path = dir.join("damaged.vbolt");
        let _ = std::fs::remove_file(dir.join("damaged.vbolt-wal"));
        std::fs::write(&path, &bytes).unwrap();
        exercise(&path);
        println!("\ndamage-survived {at}");
        use std::io::Write;
        let _ = std::io::stdout().flush();
    }
}

/// Runs the child on `offsets`; the offset it died on and why, if it died.
fn run_child(dir: &Path, offsets: &[usize]) -> Result<(), String> {
    let list: Vec<String> = offsets.iter().map(|o| o.to_string()).collect();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "damage_child", "--nocapture", "--test-threads=1"])
        .env("VBOLT_DAMAGE_DIR", dir)
        .env("VBOLT_DAMAGE_OFFSETS", list.join(","))
        .env("RUST_BACKTRACE", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    // A generous bound: a debug build, a slow disk, every call per offset.
    let deadline = Instant::now() + Duration::from_secs(30 + 2 * offsets.len() as u64);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = stdout.join().unwrap();
    let done = stdout.matches("damage-survived ").count();
    match status {
        Some(s) if s.success() && done == offsets.len() => Ok(()),
        other => {
            let at = offsets.get(done).copied();
            let what = match other {
                None => "hung".to_string(),
                Some(s) => format!("died ({s})"),
            };
            let stderr = stderr.join().unwrap();
            let tail: String = stderr.lines().rev().take(12).collect::<Vec<_>>().join("\n");
            Err(format!("damage at offset {at:?}: the child {what}\n{tail}"))
        }
    }
}

#[test]
fn a_changed_byte_in_the_engines_pages_never_kills_the_process() {
    let stride: usize = std::env::var("VBOLT_DAMAGE_STRIDE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(11)
        .max(1);
    let dir = tempfile::tempdir().unwrap();
    let pristine = dir.path().join("pristine.vbolt");
    make(&pristine);
    let len = std::fs::metadata(&pristine).unwrap().len() as usize;
    let offsets: Vec<usize> = (0..len / 4096)
        .flat_map(|page| (0..64).step_by(stride).map(move |b| page * 4096 + b))
        .collect();
    let start = Instant::now();
    let mut failures = Vec::new();
    // Batches, so that one dead child costs only its batch, and the rest
    // still report.
    let mut rest = &offsets[..];
    while !rest.is_empty() {
        let batch = &rest[..rest.len().min(100)];
        match run_child(dir.path(), batch) {
            Ok(()) => rest = &rest[batch.len()..],
            Err(why) => {
                let skip = why
                    .split("offset Some(")
                    .nth(1)
                    .and_then(|s| s.split(')').next())
                    .and_then(|s| s.parse::<usize>().ok())
                    .and_then(|at| batch.iter().position(|&o| o == at))
                    .map_or(batch.len(), |i| i + 1);
                failures.push(why);
                rest = &rest[skip..];
            }
        }
    }
    eprintln!(
        "{} damaged copies of a {len}-byte file in {:.1} s",
        offsets.len(),
        start.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} of {} damaged copies took the process down:\n{}",
        failures.len(),
        offsets.len(),
        failures.join("\n---\n")
    );
}
