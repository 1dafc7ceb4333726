//! What one more table costs a redb commit: bytes written per durable
//! commit that inserts one 100-byte entry into each of 0 to 6 tables of
//! `--entries N` entries each (default 10,000), straight on redb.
//!
//! ```sh
//! cargo run --release -p vbolt-bench --example table_pages
//! cargo run --release -p vbolt-bench --example table_pages -- --entries 1000000
//! ```
//!
//! vbolt's small commit touches four tables (the article's bucket, the
//! index's term entries, target entries and counts); this is what each of
//! them adds, whatever layer sits above the engine.

use redb::{Database, TableDefinition};

const NAMES: [&str; 6] = ["a", "b", "c", "d", "e", "f"];
const COMMITS: u64 = 200;

/// Bytes this process has handed to `write` calls so far.
fn written() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("wchar:")?.trim().parse().ok())
        .unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let entries: u64 = match args.iter().position(|a| a == "--entries") {
        Some(i) => args.get(i + 1).ok_or("--entries needs a number")?.parse()?,
        None => 10_000,
    };
    let defs: Vec<TableDefinition<u64, &[u8]>> =
        NAMES.iter().map(|n| TableDefinition::new(n)).collect();
    println!("| tables written per commit | bytes written per commit |\n|---:|---:|");
    for touched in 0..=NAMES.len() {
        let dir = tempfile::tempdir_in(".")?;
        let db = Database::create(dir.path().join("pages.redb"))?;
        for d in &defs {
            let tx = db.begin_write()?;
            {
                let mut t = tx.open_table(*d)?;
                for i in 0..entries {
                    t.insert(i * 1000, &[7u8; 100][..])?;
                }
            }
            tx.commit()?;
        }
        let before = written();
        for i in 0..COMMITS {
            let tx = db.begin_write()?;
            for d in defs.iter().take(touched) {
                tx.open_table(*d)?
                    .insert(entries * 1000 + i, &[1u8; 100][..])?;
            }
            tx.commit()?;
        }
        println!("| {touched} | {} |", (written() - before) / COMMITS);
    }
    Ok(())
}
